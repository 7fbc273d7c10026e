# Shared by every bats suite: load it with `load ../helpers` (from tests/chapters/ or tests/exercises/).
#
#   run_prog PROG [ARGS...]  run a program of this suite's lesson under a timeout, like bats' run
#   prog_path PROG           the path of a program of this suite's lesson
#   kit_timeout              seconds a program may run before its process group is killed
#
# The lesson is taken from the suite's file name: tests/chapters/02-races.bats -> chapters/02-races.

bats_load_library bats-support
bats_load_library bats-assert

: "${KIT_BUILD:?run the tests through make test}"
KIT_ROOT=${KIT_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
KIT_LESSON="$(basename "$(dirname "$BATS_TEST_FILENAME")")/$(basename "$BATS_TEST_FILENAME" .bats)"

# Sanitizers make programs several times slower; the timeouts grow to match.
kit_timeout() {
    local seconds=${1:-30}
    [ -n "${KIT_SANITIZE:-}" ] && seconds=$((seconds * 4))
    echo "$seconds"
}

prog_path() {
    echo "$KIT_ROOT/$KIT_BUILD/$KIT_LESSON/$1"
}

# run_prog [--timeout S] PROG [ARGS...]
# Runs under timeout(1), which puts the program in its own process group and on expiry kills
# the whole group (TERM, then KILL 2 s later): a hung program, and any child it forked, dies.
# $status 124 (or 137) means it timed out.
run_prog() {
    local seconds=30
    if [ "$1" = --timeout ]; then seconds=$2; shift 2; fi
    local prog=$1
    shift
    run timeout -k 2 "$(kit_timeout "$seconds")" "$(prog_path "$prog")" "$@"
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

# The first number after "x" on the line matching REGEX, e.g. ratio_on 'speedup' -> 1.93.
ratio_on() {
    grep -E "$1" <<<"$output" | grep -oE 'x[0-9]+(\.[0-9]+)?' | head -1 | tr -d x
}

# at_least VALUE MIN: numeric comparison for ratios (fails with a readable message).
at_least() {
    awk -v v="$1" -v m="$2" 'BEGIN { exit !(v + 0 >= m + 0) }' ||
        fail "expected at least $2, got '$1'"
}
