#!/usr/bin/env bats
# The program contract's command-line half (README.md, "What every program does"), for every
# program in the kit, found by looking in the build folder: a new program is covered without
# editing this file.
#   --help            exits 0 and prints a usage line on stdout
#   --no-such-option  exits 2 with a reason on stderr
#   a bad number      exits 2 with a reason on stderr, for the first numeric option (--name=N)
#                     that --help lists: a leading space, a value out of range
# Every number goes through common/cli.c's parser, so its whole syntax is checked on two
# options (a whole number and a fraction) rather than on each of the seventy programs again.

load assertions

# Each program's --help runs once, here: the tests read the table it leaves, one program a
# line, "PATH|HELP-STATUS|FIRST-NUMERIC-OPTION|TAKES-OPERANDS" (HELP-STATUS 0 when --help
# exited 0 and printed a usage line; TAKES-OPERANDS 1 when the usage line ends in [NAME...]).
setup_file() {
    : "${KIT_BUILD:?run the tests through make test}"
    local src prog help status option operands
    cd "$KIT_ROOT" || return 1
    for src in chapters/*/*.c exercises/*/*.c solutions/*/*.c; do
        [ -f "$src" ] || continue
        prog=$KIT_BUILD/${src%.c}
        status=0
        help=$(timeout -k 2 20 "$prog" --help 2>/dev/null </dev/null) || status=$?
        grep -q '^Usage: ' <<<"$help" || status="$status, no usage line"
        option=$(grep -oE -- '--[a-z][a-z-]*=N\b' <<<"$help" | head -1 | cut -d= -f1)
        operands=$(grep -c '^Usage: [^ ]* .*\[[A-Z]*\.\.\.\]' <<<"$help") || true
        echo "$prog|$status|$option|$operands"
    done >"$BATS_FILE_TMPDIR/programs"
}

# The table setup_file made. Read it with: while IFS='|' read -r prog status option operands
programs() {
    cat "$BATS_FILE_TMPDIR/programs"
}

# The programs' paths, one a line.
all_programs() {
    cut -d'|' -f1 "$BATS_FILE_TMPDIR/programs"
}

# Runs PROG ARGS with a timeout; sets out_status, out_stdout, out_stderr (kept in the file
# $errfile, by default the test's own).
run_split() {
    local errfile=${errfile:-$BATS_TEST_TMPDIR/stderr}
    out_status=0
    out_stdout=$(timeout -k 2 20 "$@" 2>"$errfile" </dev/null) || out_status=$?
    out_stderr=$(cat "$errfile")
}

# each_program CHECK: runs `CHECK LINE` for every line of stdin (a program, or a line of the
# table), four at a time: most of a run is the program's start-up (loading libcurl, MPI), which
# overlaps well. CHECK prints a line only for a program that broke the rule; each call has a
# stderr file of its own in $errfile. Prints what the calls printed, in the order of the lines.
each_program() {
    local check=$1 line count=0 dir="$BATS_TEST_TMPDIR/each"
    mkdir -p "$dir"
    while IFS= read -r line; do
        count=$((count + 1))
        errfile="$dir/$count.stderr" "$check" "$line" >"$dir/$count.bad" &
        [ "$(jobs -rp | wc -l)" -lt 4 ] || wait -n || true
    done
    wait
    for ((line = 1; line <= count; line++)); do cat "$dir/$line.bad"; done
}

# The check of each_program's failures: fails the test with them if there are any.
no_program_broke_it() {
    [ -z "$1" ] || fail "$1"
}

@test "every program has been built" {
    local prog missing=()
    while read -r prog; do [ -x "$KIT_ROOT/$prog" ] || missing+=("$prog"); done < <(all_programs)
    [ ${#missing[@]} -eq 0 ] || fail "not built: ${missing[*]}"
    [ "$(all_programs | wc -l)" -gt 0 ] || fail "no programs found"
}

@test "--help exits 0 and prints a usage line on stdout" {
    local prog help_status bad=()
    while IFS='|' read -r prog help_status _; do
        [ "$help_status" = 0 ] || bad+=("$prog (exit $help_status)")
    done < <(programs)
    [ ${#bad[@]} -eq 0 ] || fail "$(printf '%s\n' "${bad[@]}")"
}

refuses_unknown_option() {
    run_split "$KIT_ROOT/$1" --no-such-option
    [ "$out_status" -eq 2 ] && [ -n "$out_stderr" ] || echo "$1 (exit $out_status)"
}

@test "an unknown option exits 2 with a reason on stderr" {
    no_program_broke_it "$(all_programs | each_program refuses_unknown_option)"
}

# ' 5' is refused by the kit's parser only (strtol skips leading spaces): a program that read
# its numbers another way would show here; 1e99 must meet the option's range check. (The rest
# of the syntax is common/cli.c's, checked once below.) Under a sanitizer, where each start
# costs a tenth of a second, ' 5' alone runs the refusal path under it.
refuses_bad_numbers() {
    local prog option value values=(' 5' 1e99)
    [ -z "${KIT_SANITIZE:-}" ] || values=(' 5')
    IFS='|' read -r prog _ option _ <<<"$1"
    for value in "${values[@]}"; do
        run_split "$KIT_ROOT/$prog" "$option=$value"
        [ "$out_status" -eq 2 ] && [ -n "$out_stderr" ] ||
            echo "$prog $option='$value' (exit $out_status)"
    done
}

@test "a bad number for a numeric option exits 2 with a reason on stderr" {
    local with_numbers
    with_numbers=$(programs | awk -F'|' '$3 != ""')
    [ -n "$with_numbers" ] || fail "no program lists a numeric option (--name=N) in its --help"
    no_program_broke_it "$(each_program refuses_bad_numbers <<<"$with_numbers")"
}

refuses_operand() {
    run_split "$KIT_ROOT/$1" unexpected-operand
    [ "$out_status" -eq 2 ] && [ -n "$out_stderr" ] || echo "$1 (exit $out_status)"
}

@test "an unexpected argument exits 2 with a reason on stderr" {
    no_program_broke_it "$(programs | awk -F'|' '$4 == 0 { print $1 }' | each_program refuses_operand)"
}

# ---- every option takes one number syntax (common/cli.c) ------------------------------------

@test "numbers: empty, huge, spaces, a plus sign, hex, inf and nan are refused" {
    local prog="$KIT_ROOT/$KIT_BUILD/chapters/04-processes/process_ids" option value bad=()
    for option in --children --sleep; do # a whole number, a fraction
        for value in '' ' 5' '5 ' '+5' 0x10 inf nan 1e 5. .5 1,5 99999999999999999999; do
            run_split "$prog" "$option=$value"
            [ "$out_status" -eq 2 ] && grep -qE 'is not a number|is out of range' <<<"$out_stderr" ||
                bad+=("$option='$value' (exit $out_status: $out_stderr)")
        done
    done
    [ ${#bad[@]} -eq 0 ] || fail "$(printf '%s\n' "${bad[@]}")"
}

@test "numbers: a whole-number option takes an exponent when the value is whole, not a fraction" {
    local prog="$KIT_ROOT/$KIT_BUILD/chapters/04-processes/process_ids"
    run_split "$prog" --children=2e0 --sleep=0
    [ "$out_status" -eq 0 ] || fail "--children=2e0: exit $out_status: $out_stderr"
    grep -q '^OK: 2 children' <<<"$out_stdout" || fail "$out_stdout"
    run_split "$prog" --children=1.5
    [ "$out_status" -eq 2 ] && grep -q 'is not a whole number' <<<"$out_stderr" ||
        fail "--children=1.5: exit $out_status: $out_stderr"
    run_split "$prog" --children=1 --sleep=5e-2
    [ "$out_status" -eq 0 ] || fail "--sleep=5e-2: exit $out_status: $out_stderr"
}

# ---- nothing lost without a word (common/cli.c) ---------------------------------------------

says_stdout_is_full() {
    local status=0
    timeout -k 2 20 "$KIT_ROOT/$1" --help >/dev/full 2>"$errfile" || status=$?
    [ "$status" -eq 1 ] &&
        grep -q ': write to stdout: No space left on device (ENOSPC)$' "$errfile" ||
        echo "$1 (exit $status: $(cat "$errfile"))"
}

@test "stdout full: every program says so and exits 1 (--help > /dev/full)" {
    no_program_broke_it "$(all_programs | each_program says_stdout_is_full)"
}

says_stdout_is_closed() {
    local status=0
    timeout -k 2 20 "$KIT_ROOT/$1" --help >&- 2>"$errfile" || status=$?
    [ "$status" -eq 1 ] && grep -q 'stdout is closed.*(EBADF)$' "$errfile" ||
        echo "$1 (exit $status: $(cat "$errfile"))"
}

@test "stdout closed at start: every program says so and exits 1" {
    no_program_broke_it "$(all_programs | each_program says_stdout_is_closed)"
}

@test "a reader that went away: the program says EPIPE and exits 1, not silently killed" {
    local prog="$KIT_ROOT/$KIT_BUILD/chapters/01-threads/hello_thread"
    # The reader (true) is gone before the program writes: its first line fails with EPIPE.
    {
        sleep 0.2
        local status=0
        timeout -k 2 20 "$prog" 2>"$BATS_TEST_TMPDIR/stderr" || status=$?
        echo "$status" >"$BATS_TEST_TMPDIR/status"
    } | true
    [ "$(cat "$BATS_TEST_TMPDIR/status")" -eq 1 ] ||
        fail "exit status $(cat "$BATS_TEST_TMPDIR/status"): $(cat "$BATS_TEST_TMPDIR/stderr")"
    grep -q ': write to stdout: Broken pipe (EPIPE)$' "$BATS_TEST_TMPDIR/stderr" ||
        fail "$(cat "$BATS_TEST_TMPDIR/stderr")"
}

@test "stdin closed at start: /dev/null takes descriptor 0, not the program's next pipe" {
    local prog="$KIT_ROOT/$KIT_BUILD/chapters/04-processes/exec_child"
    out_status=0
    out_stdout=$(timeout -k 2 20 "$prog" --command='readlink /proc/$$/fd/0' 2>&1 <&-) || out_status=$?
    [ "$out_status" -eq 0 ] || fail "exit $out_status: $out_stdout"
    grep -qx '/dev/null' <<<"$out_stdout" || fail "descriptor 0 is not /dev/null: $out_stdout"
    out_stdout=$(timeout -k 2 20 "$KIT_ROOT/$KIT_BUILD/chapters/05-queues/pipe_ipc" 2>&1 <&-) ||
        fail "pipe_ipc with stdin closed: $out_stdout"
}

@test "output piped into a file survives a timeout: every line so far is there" {
    local prog="$KIT_ROOT/$KIT_BUILD/chapters/04-processes/process_ids"
    # timeout kills the program's whole process group, children included, with SIGKILL: no
    # handler runs, nothing is flushed at exit. What is in the file was written line by line.
    timeout -s KILL 1 "$prog" --children=2 --sleep=30 >"$BATS_TEST_TMPDIR/out" 2>&1 || true
    grep -q '^parent: pid [0-9]*, forking 2 children' "$BATS_TEST_TMPDIR/out" ||
        fail "lost: $(cat "$BATS_TEST_TMPDIR/out")"
}

# ---- programs that run under mpirun (harness/mpi-job/mpi_job.c) -----------------------------
# Run plainly, such a program starts mpirun as its child and copies the job's output to its own
# stdout: mpirun alone exits 0 when its writes fail, and 1 without a word on Ctrl-C. These runs
# go through mpirun (--help above never does). The programs are the sources that call
# mpi_job_relaunch(): a new one is covered without editing this file.

# The paths of the programs that start themselves under mpirun, one a line.
mpi_programs() {
    local src
    for src in "$KIT_ROOT"/chapters/*/*.c; do
        grep -q 'mpi_job_relaunch(' "$src" || continue
        src=${src#"$KIT_ROOT/"}
        echo "$KIT_ROOT/$KIT_BUILD/${src%.c}"
    done
}

# Sanitizers make MPI's start several times slower: the timeouts grow to match.
mpi_timeout() {
    echo $((${KIT_SANITIZE:+4 *} 30))
}

# The job's processes (ranks, mpirun) not yet ended: zombies are left out, since an Open MPI
# rank may linger as one for an instant before its parent reaps it.
job_processes() {
    ps -eo sid=,stat=,args= | awk -v sid="$1" -v prog="$2" \
        '$1 == sid && $2 !~ /^Z/ && index($0, prog) && !/awk -v sid/'
}

@test "under mpirun: a failed write to stdout is reported and exits 1 (/dev/full, a closed pipe)" {
    local prog fifo="$BATS_TEST_TMPDIR/fifo" err="$BATS_TEST_TMPDIR/stderr" bad=() checked=0
    while read -r prog; do
        checked=$((checked + 1))
        out_status=0
        timeout -k 2 "$(mpi_timeout)" "$prog" >/dev/full 2>"$err" </dev/null || out_status=$?
        [ "$out_status" -eq 1 ] &&
            grep -q ': write to stdout: No space left on device (ENOSPC)$' "$err" ||
            bad+=("$prog >/dev/full (exit $out_status: $(cat "$err"))")
        # A reader that reads nothing and leaves once mpirun has started: the program's first
        # line (the mpirun command, written before mpirun starts) went into the pipe, and the
        # job's own lines, which come later, find no reader.
        rm -f "$fifo" && mkfifo "$fifo"
        timeout -k 2 "$(mpi_timeout)" "$prog" >"$fifo" 2>"$err" </dev/null 3>&- &
        local job=$! mpirun="" deadline=$((SECONDS + 10))
        exec 4<"$fifo"
        until mpirun=$(pgrep -x mpirun -P "$(pgrep -d, -P "$job")"); do
            [ "$SECONDS" -lt "$deadline" ] || break
            sleep 0.02
        done
        exec 4<&-
        out_status=0
        wait "$job" || out_status=$?
        [ -n "$mpirun" ] && [ "$out_status" -eq 1 ] &&
            grep -q ': write to stdout: Broken pipe (EPIPE)$' "$err" ||
            bad+=("$prog, reader gone (mpirun ${mpirun:-never seen}, exit $out_status: $(cat "$err"))")
    done < <(mpi_programs)
    [ ${#bad[@]} -eq 0 ] || fail "$(printf '%s\n' "${bad[@]}")"
    [ "$checked" -gt 0 ] || fail "no program calls mpi_job_relaunch()"
}

# Ctrl-C (SIGINT to the whole process group) and SIGTERM to the program alone, sent while the
# job runs: its ranks are stopped (SIGSTOP) first, so that it cannot end before the signal
# comes, however quick the program. mpirun then stops them by force.
@test "under mpirun: Ctrl-C and SIGTERM say 'interrupted', end with the signal, leave nothing" {
    local prog signal out="$BATS_TEST_TMPDIR/out" bad=() checked=0
    export OMPI_MCA_odls_base_sigkill_timeout=0 # mpirun kills stopped ranks without a 1 s wait
    while read -r prog; do
        checked=$((checked + 1))
        for signal in INT TERM; do
            setsid env --default-signal=INT,QUIT "$prog" >"$out" 2>&1 </dev/null 3>&- &
            local job=$! mpirun="" ranks="" deadline=$((SECONDS + $(mpi_timeout)))
            until mpirun=$(pgrep -x mpirun -P "$job") && ranks=$(pgrep -d' ' -P "$mpirun"); do
                [ "$SECONDS" -lt "$deadline" ] || break
                sleep 0.02
            done
            [ -n "$ranks" ] && kill -STOP $ranks
            if [ "$signal" = INT ]; then kill -INT -- "-$job"; else kill -TERM "$job"; fi
            deadline=$((SECONDS + $(mpi_timeout)))
            while kill -0 "$job" 2>/dev/null && [[ $(ps -o stat= -p "$job") != Z* ]]; do
                [ "$SECONDS" -lt "$deadline" ] || kill -KILL -- "-$job" 2>/dev/null
                sleep 0.05
            done
            out_status=0
            wait "$job" || out_status=$?
            local expected=$((128 + $(kill -l "$signal")))
            [ -n "$ranks" ] && [ "$out_status" -eq "$expected" ] &&
                grep -q ": interrupted by SIG$signal: stopped mpirun and its [0-9]* ranks\$" "$out" ||
                bad+=("$prog SIG$signal (ranks ${ranks:-never seen}, exit $out_status, not $expected): $(cat "$out")")
            deadline=$((SECONDS + 5))
            while [ -n "$(job_processes "$job" "$prog")" ] && [ "$SECONDS" -lt "$deadline" ]; do
                sleep 0.1
            done
            [ -z "$(job_processes "$job" "$prog")" ] ||
                bad+=("$prog SIG$signal left running: $(job_processes "$job" "$prog")")
        done
    done < <(mpi_programs)
    [ ${#bad[@]} -eq 0 ] || fail "$(printf '%s\n' "${bad[@]}")"
    [ "$checked" -gt 0 ] || fail "no program calls mpi_job_relaunch()"
}

# ---- fatal messages (common/die.c) ----------------------------------------------------------

@test "a fatal message keeps its reason, errno name and file:line however long the argument" {
    local src="$BATS_TEST_TMPDIR/long_die.c" prog="$BATS_TEST_TMPDIR/long_die"
    cat >"$src" <<'C'
#include "kit.h"
#include <errno.h>
#include <string.h>
int main(void)
{
    static char path[5000];
    memset(path, 'a', sizeof path - 1);
    kit_cli_init("Usage: long_die\n");
    errno = ENOENT;
    kit_die_errno("open %s", path);
}
C
    local sanitize=()
    [ -n "${KIT_SANITIZE:-}" ] && sanitize=("-fsanitize=$KIT_SANITIZE")
    "${KIT_CC%% *}" -std=c11 -D_POSIX_C_SOURCE=200809L -I"$KIT_ROOT/common" "$src" \
        "$KIT_ROOT/$KIT_BUILD/common/libkit.a" -o "$prog" -pthread -lm "${sanitize[@]}" ||
        fail "could not build the test program"
    run_split "$prog"
    [ "$out_status" -eq 1 ] || fail "exit $out_status"
    grep -qE '^long_die: open a+\.\.\.: No such file or directory \(ENOENT\) \[long_die\.c:10\]$' \
        <<<"$out_stderr" || fail "$out_stderr"
}
