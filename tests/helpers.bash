# Shared by every bats suite: load it with `load ../helpers` (from tests/chapters/ or tests/exercises/).
#
#   run_prog PROG [ARGS...]  run a program of this suite's lesson under a timeout, like bats' run
#                            (--timeout S, --one-cpu before PROG)
#   prog_path PROG           the path of a program of this suite's lesson
#   prog_copy_for_nobody PROG
#                            a copy of it that user nobody can run (see below); sets $nobody_copy
#   kit_timeout              seconds a program may run before its process group is killed
#   run_on_one_cpu PROG      run_prog, pinned to CPU 0 whatever CPUs the suite may use
#   run_on_idle_cpus PROG    run_prog, then skip the test if other processes took the CPUs
#   tsan_build NN-x          build a chapter with ThreadSanitizer, print its programs' folder
#   readme_lines_test        a README test's first line: it runs in make test-readme only
#   ratio_on, at_least, at_most   read and bound a ratio such as x1.93
#
# The lesson is taken from the suite's file name: tests/chapters/02-races.bats -> chapters/02-races.

load ../assertions

: "${KIT_BUILD:?run the tests through make test}"
KIT_ROOT=${KIT_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
# (parameter expansion, not basename and dirname: this runs before every test)
kit_suite_folder=${BATS_TEST_FILENAME%/*}
KIT_LESSON=${kit_suite_folder##*/}/${BATS_TEST_FILENAME##*/}
KIT_LESSON=${KIT_LESSON%.bats}

# Sanitizers make programs several times slower; the timeouts grow to match.
kit_timeout() {
    local seconds=${1:-30}
    [ -n "${KIT_SANITIZE:-}" ] && seconds=$((seconds * 4))
    echo "$seconds"
}

prog_path() {
    echo "$KIT_ROOT/$KIT_BUILD/$KIT_LESSON/$1"
}

# prog_copy_for_nobody PROG: copy a program of this suite's lesson into a folder of its own that
# anyone may read, and set $nobody_copy to the copy's path. Tests run a program as user nobody
# to put it under `ulimit -u` (root is exempt), and nobody may not be able to reach the build
# folder (a checkout inside a folder only its owner may enter, such as /root or a `mktemp -d`
# one). The caller removes the folder: rm -rf "${nobody_copy%/*}".
prog_copy_for_nobody() {
    local folder
    folder=$(mktemp -d /tmp/kit-nobody.XXXXXX) && chmod 755 "$folder" &&
        cp "$(prog_path "$1")" "$folder/" || fail "could not copy $1 for user nobody"
    nobody_copy=$folder/$1
}

# run_prog [--timeout S] [--one-cpu] PROG [ARGS...]
# Runs under timeout(1), which puts the program in its own process group and on expiry kills
# the whole group (TERM, then KILL 2 s later): a hung program, and any child it forked, dies.
# --one-cpu pins it to CPU 0 with taskset. $status 124 (or 137) means it timed out.
run_prog() {
    local seconds=30 pin=()
    while :; do
        case $1 in
        --timeout) seconds=$2; shift 2 ;;
        --one-cpu) pin=(taskset -c 0); shift ;;
        *) break ;;
        esac
    done
    local prog=$1
    shift
    run timeout -k 2 "$(kit_timeout "$seconds")" "${pin[@]}" "$(prog_path "$prog")" "$@"
}

# run_on_one_cpu [--timeout S] PROG [ARGS...]: run_prog, pinned to CPU 0 (where races must
# show too).
run_on_one_cpu() {
    run_prog --one-cpu "$@"
}

# tsan_build NN-x: build chapters/NN-x with ThreadSanitizer beside the suite's own build (same
# compiler, same build prefix) and print the folder its programs land in, as make names it.
tsan_build() {
    local settings=(SANITIZE=thread CC="$KIT_CC" BUILD_PREFIX="$KIT_BUILD_PREFIX")
    make -s -C "$KIT_ROOT" "chapter-${1%%-*}" "${settings[@]}" >&2 || return 1
    local build
    build=$(make -s --no-print-directory -C "$KIT_ROOT" build-folder "${settings[@]}") || return 1
    echo "$KIT_ROOT/$build/chapters/$1"
}

# A README's try-this lines run at the sizes the README gives, to prove that what it tells a
# learner to try works: about a minute for the seven chapters that have them on the plain
# build, minutes under a sanitizer (over two of them under TSan for chapter 05 alone). They run
# in `make test-readme` (KIT_README_LINES=1; CI runs it) on the plain build. A README test calls
# this first, and elsewhere skips, saying where its lines run; the programs' own tests run in
# make test, under every sanitizer too.
readme_lines_test() {
    [ -n "${KIT_README_LINES:-}" ] || skip "the README's try-this lines run in make test-readme"
    [ -z "${KIT_SANITIZE:-}" ] || skip "the README's try-this lines run on the plain build"
}

# True when the programs under test were built with ThreadSanitizer.
built_with_tsan() {
    [[ ",${KIT_SANITIZE:-}," == *",thread,"* ]]
}

# Deliberately racy demos are expected to race: under a TSan build, their report is the
# lesson, not a failure. Call before run_prog for those programs only.
allow_tsan_reports() {
    export TSAN_OPTIONS="exitcode=0 report_bugs=0 ${TSAN_OPTIONS:-}"
}

# The number of the first ratio on the line matching REGEX: "x1.93 faster" and "x1.93 slower"
# both give 1.93, so a test that bounds a ratio also asserts the word after it.
ratio_on() {
    grep -E "$1" <<<"$output" | grep -oE 'x[0-9]+(\.[0-9]+)?' | head -1 | tr -d x
}

# at_most VALUE MAX: the counterpart of at_least.
at_most() {
    awk -v v="$1" -v m="$2" 'BEGIN { exit !(v != "" && v + 0 <= m + 0) }' ||
        fail "expected at most $2, got '$1'"
}

# Parallel tests bound what the program controls: how many CPUs it kept busy at once (its CPU
# time over the wall-clock time), never the speedup. A speedup also depends on the hardware
# under the CPUs: the two CPUs of a virtual machine may be two hyperthreads of one core, where a
# perfectly parallel program gains about x1.2 (x1.18 was seen in CI). Speedups are measured and
# held to their targets in `make bench`.
# Even CPUs in use needs CPUs that nobody else is using: on a machine busy with other work, a
# correct parallel program gets about one CPU. run_on_idle_cpus runs a program like run_prog,
# measures what OTHER processes used meanwhile (busy time from /proc/stat minus the program's own
# CPU time), and skips the test, saying so, when they kept 0.25 CPU or more busy on average. A
# bug that serialises the program's own threads shows in its own CPU time, not in others', so it
# still fails the test.
run_on_idle_cpus() {
    local snapshots="$BATS_TEST_TMPDIR/cpu-snapshots"
    rm -f "$snapshots"
    cpu_snapshot "$snapshots"
    run_prog "$@"
    cpu_snapshot "$snapshots"
    local others
    others=$(others_busy "$snapshots")
    awk -v others="$others" 'BEGIN { exit !(others < 0.25) }' ||
        skip "other processes kept $others CPUs busy during the run: no idle CPUs to measure on"
}

# cpu_snapshot FILE: append "machine-busy our-cpu now" (seconds) to FILE: the CPU time every CPU
# has spent busy (any process, /proc/stat), the CPU time of this shell's finished children (as
# `times` reports them), and the clock. Call it directly, not inside $(...): `times` in a
# subshell would report the subshell's children.
cpu_snapshot() {
    times >"$1.times"
    awk -v hz="$(getconf CLK_TCK)" -v now="$(date +%s.%N)" '
        function secs(t, p) { split(t, p, /[ms]/); return p[1] * 60 + p[2] }
        FILENAME == "/proc/stat" && /^cpu / { busy = ($2 + $3 + $4 + $7 + $8 + $9) / hz }
        FILENAME != "/proc/stat" && FNR == 2 { ours = secs($1) + secs($2) }
        END { print busy, ours, now }' /proc/stat "$1.times" >>"$1"
}

# CPUs kept busy by other processes, on average, between the two snapshots in FILE.
others_busy() {
    awk 'NR == 1 { busy = $1; ours = $2; start = $3 }
         NR == 2 { printf "%.2f\n", (($1 - busy) - ($2 - ours)) / ($3 - start) }' "$1"
}

# at_least VALUE MIN: numeric comparison for ratios (fails with a readable message).
at_least() {
    awk -v v="$1" -v m="$2" 'BEGIN { exit !(v + 0 >= m + 0) }' ||
        fail "expected at least $2, got '$1'"
}
