#!/usr/bin/env bats
# The program contract's command-line half (CONVENTIONS.md section 2), for every program in the
# kit, found by looking in the build folder: a new program is covered without editing this file.
#   --help            exits 0 and prints a usage line on stdout
#   --no-such-option  exits 2 with a reason on stderr
#   a bad number      exits 2 with a reason on stderr, for the first numeric option (--name=N)
#                     that --help lists: not a number, negative, huge, empty

bats_load_library bats-support
bats_load_library bats-assert

setup_file() {
    : "${KIT_BUILD:?run the tests through make test}"
}

all_programs() {
    cd "$KIT_ROOT" || return 1
    local src
    for src in chapters/*/*.c exercises/*/*.c solutions/*/*.c; do
        [ -f "$src" ] && echo "$KIT_BUILD/${src%.c}"
    done
}

# Runs PROG ARGS with a timeout; sets out_status, out_stdout, out_stderr.
run_split() {
    local errfile="$BATS_TEST_TMPDIR/stderr"
    out_status=0
    out_stdout=$(timeout -k 2 20 "$@" 2>"$errfile" </dev/null) || out_status=$?
    out_stderr=$(cat "$errfile")
}

@test "every program has been built" {
    local prog missing=()
    while read -r prog; do [ -x "$KIT_ROOT/$prog" ] || missing+=("$prog"); done < <(all_programs)
    [ ${#missing[@]} -eq 0 ] || fail "not built: ${missing[*]}"
    [ "$(all_programs | wc -l)" -gt 0 ] || fail "no programs found"
}

@test "--help exits 0 and prints a usage line on stdout" {
    local prog bad=()
    while read -r prog; do
        run_split "$KIT_ROOT/$prog" --help
        [ "$out_status" -eq 0 ] && grep -q '^Usage: ' <<<"$out_stdout" ||
            bad+=("$prog (exit $out_status)")
    done < <(all_programs)
    [ ${#bad[@]} -eq 0 ] || fail "$(printf '%s\n' "${bad[@]}")"
}

@test "an unknown option exits 2 with a reason on stderr" {
    local prog bad=()
    while read -r prog; do
        run_split "$KIT_ROOT/$prog" --no-such-option
        [ "$out_status" -eq 2 ] && [ -n "$out_stderr" ] || bad+=("$prog (exit $out_status)")
    done < <(all_programs)
    [ ${#bad[@]} -eq 0 ] || fail "$(printf '%s\n' "${bad[@]}")"
}

@test "a bad number for a numeric option exits 2 with a reason on stderr" {
    local prog option value bad=() checked=0
    while read -r prog; do
        run_split "$KIT_ROOT/$prog" --help
        option=$(grep -oE -- '--[a-z][a-z-]*=N\b' <<<"$out_stdout" | head -1 | cut -d= -f1)
        [ -n "$option" ] || continue
        checked=$((checked + 1))
        for value in abc -5 1e99 99999999999999999999 ''; do
            run_split "$KIT_ROOT/$prog" "$option=$value"
            [ "$out_status" -eq 2 ] && [ -n "$out_stderr" ] ||
                bad+=("$prog $option='$value' (exit $out_status)")
        done
    done < <(all_programs)
    [ ${#bad[@]} -eq 0 ] || fail "$(printf '%s\n' "${bad[@]}")"
    [ "$checked" -gt 0 ] || fail "no program lists a numeric option (--name=N) in its --help"
}

@test "an unexpected argument exits 2 with a reason on stderr" {
    local prog bad=()
    while read -r prog; do
        run_split "$KIT_ROOT/$prog" --help
        grep -q '^Usage: [^ ]* .*\[[A-Z]*\.\.\.\]' <<<"$out_stdout" && continue # takes operands
        run_split "$KIT_ROOT/$prog" unexpected-operand
        [ "$out_status" -eq 2 ] && [ -n "$out_stderr" ] || bad+=("$prog (exit $out_status)")
    done < <(all_programs)
    [ ${#bad[@]} -eq 0 ] || fail "$(printf '%s\n' "${bad[@]}")"
}

# ---- every option takes one number syntax (common/cli.c) ------------------------------------

@test "numbers: spaces, a plus sign, hex, inf and nan are refused by every numeric option" {
    local prog option value bad=()
    while read -r prog; do
        run_split "$KIT_ROOT/$prog" --help
        option=$(grep -oE -- '--[a-z][a-z-]*=N\b' <<<"$out_stdout" | head -1 | cut -d= -f1)
        [ -n "$option" ] || continue
        for value in ' 5' '5 ' '+5' 0x10 inf nan 1e 5. .5 1,5; do
            run_split "$KIT_ROOT/$prog" "$option=$value"
            [ "$out_status" -eq 2 ] && grep -q 'is not a number' <<<"$out_stderr" ||
                bad+=("$prog $option='$value' (exit $out_status: $out_stderr)")
        done
    done < <(all_programs)
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

@test "stdout full: every program says so and exits 1 (--help > /dev/full)" {
    local prog bad=()
    while read -r prog; do
        out_status=0
        timeout -k 2 20 "$KIT_ROOT/$prog" --help >/dev/full 2>"$BATS_TEST_TMPDIR/stderr" ||
            out_status=$?
        [ "$out_status" -eq 1 ] &&
            grep -q ': write to stdout: No space left on device (ENOSPC)$' "$BATS_TEST_TMPDIR/stderr" ||
            bad+=("$prog (exit $out_status: $(cat "$BATS_TEST_TMPDIR/stderr"))")
    done < <(all_programs)
    [ ${#bad[@]} -eq 0 ] || fail "$(printf '%s\n' "${bad[@]}")"
}

@test "stdout closed at start: every program says so and exits 1" {
    local prog bad=()
    while read -r prog; do
        out_status=0
        timeout -k 2 20 "$KIT_ROOT/$prog" --help >&- 2>"$BATS_TEST_TMPDIR/stderr" ||
            out_status=$?
        [ "$out_status" -eq 1 ] && grep -q 'stdout is closed.*(EBADF)$' "$BATS_TEST_TMPDIR/stderr" ||
            bad+=("$prog (exit $out_status: $(cat "$BATS_TEST_TMPDIR/stderr"))")
    done < <(all_programs)
    [ ${#bad[@]} -eq 0 ] || fail "$(printf '%s\n' "${bad[@]}")"
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
