# Shared by the grading suites of exercises 01-03: `load explore` after `load grade`.
#
#   grade_explore [--bound N] [--max-runs N] PROG [ARGS...]
#       build PROG of the folder under test (its scratch tree, see tests/grade/prepare) under
#       chapter 13's controlled scheduler (make explore, mk/explore.mk), then run it through
#       every interleaving with up to N preemptions (default 2), like bats' run. The search
#       is capped in runs, never in seconds, so that a busy machine changes how long it takes,
#       not what it finds; the timed run around it is only the guard against a hang.
#   explore_passed
#       true if the last grade_explore ran every interleaving and all passed; else it fails
#       the test with the failing interleaving's schedule and the command that replays it step
#       by step in the student's own copy (graded, from grade.bash).

# The hint for a failing interleaving: how to see it.
EXPLORE_HINT="replay the interleaving above step by step (the command after 'replay it'): it \
prints each thread's reads, writes and locks in the order that breaks your code (chapter 13, \
'Every interleaving')"

grade_explore() {
    local bound=2 max_runs=5000
    while [ $# -gt 0 ]; do
        case $1 in
        --bound) bound=$2; shift 2 ;;
        --max-runs) max_runs=$2; shift 2 ;;
        *) break ;;
        esac
    done
    local prog=$1
    shift
    local tree=${GRADE_FOLDER%/build/*} unit=exercises/$GRADE_EXERCISE binary
    local command="make explore PROG=$unit/$prog ARGS='$*'"
    GRADE_LAST_RUN="$command BOUND=$bound"
    # Built as tests/grade/prepare builds: in the sandbox, which may write the tree's build
    # folder only; the compiler's messages are the last lines of its output.
    local log="$BATS_TEST_TMPDIR/explore-build.log"
    if ! binary=$("$KIT_ROOT/tests/grade/timed-run" --writable "$tree/build" --no-backtraces \
        "$(kit_timeout 300)" make -s -C "$tree" --no-print-directory BUILD_PREFIX=build WERROR= \
        CC="${KIT_CC:-gcc}" PROG="$unit/$prog" explore-path </dev/null 2>"$log"); then
        status=127
        output="the scheduler's build of $prog failed: $(tail -5 "$log")"
        return 0
    fi
    run env KIT_EXPLORE=dfs KIT_EXPLORE_BOUND="$bound" KIT_EXPLORE_MAX_RUNS="$max_runs" \
        KIT_EXPLORE_SECONDS=3600 KIT_EXPLORE_COMMAND="$command" \
        "$KIT_ROOT/tests/grade/timed-run" --no-backtraces "$(kit_timeout 240)" \
        "$tree/$binary" "$@"
}

explore_passed() {
    if [ "$status" -eq 0 ] && grep -q '^explored .*: all passed$' <<<"$output"; then
        return 0
    fi
    local what
    if grep -q '^schedule: ' <<<"$output"; then
        what=$(grep -A6 '^FAILED: ' <<<"$output" | grep -E '^(FAILED|  T|schedule|replay)')
    elif grep -q 'the cap' <<<"$output"; then
        what="not judged: the search was cut by its cap before every interleaving ran"
    fi
    graded "every interleaving with up to the bound's preemptions passes" "$EXPLORE_HINT" \
        "${what:-$(describe_run)}"
}
