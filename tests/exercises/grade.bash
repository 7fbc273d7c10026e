# Shared by the grading suites, tests/exercises/NN-x.bats: `load grade` in setup_file and setup.
#
# A suite grades the folder named by GRADE_FOLDER (the built exercises/NN-x of a scratch tree,
# see tests/grade/prepare), which tests/grade/grade sets for each copy it grades: the kit's
# exercises/, a student's copy, the solutions or a deliberately broken solution. Run by
# `make test` without it, a suite grades the reference solution, so that the kit's own suite
# proves every solution passes every test.
#
#   grade_run [--timeout S] [--one-cpu] [--tsan] PROG [ARGS...]
#                         run a program of the folder under test like bats' run, bounded by
#                         tests/grade/timed-run (a hang is killed, with each thread's backtrace)
#                         in tests/grade/sandbox: an unprivileged user in namespaces of its
#                         own, where it can write nothing but $TMPDIR (a private 128 MiB
#                         /dev/shm) and read only what every user may read (not bats' temporary
#                         folders); its output is cut at 1 MiB; every process it started is
#                         gone when it ends; it reaches the local server on 127.0.0.1
#   describe_run          what the last grade_run did, for a failing test's "got:" line
#   graded NAME WHAT HINT EXPECTED
#                         fail the test: what was expected, what happened, a hint
#   expect_ok EXPECTED HINT
#                         a grader's driver (tests/exercises/drivers/NN-x/*.c) printed its
#                         verdict `OK: ...` and exited 0; else fail with its `BROKEN: ...` line
#   number_after WORD     the number after WORD in $output ("got 123" -> 123)
#   grade_start_local_server [OPTIONS]
#                         start_local_server (tests/server.bash, `load ../server`) with the
#                         loop_server of the scratch tree of the folder under test
#
# A test's name starts with its points: @test "[3] the total is exact ...". tests/grade/grade
# reads them.

load ../helpers

GRADE_EXERCISE=${BATS_TEST_FILENAME##*/}
GRADE_EXERCISE=${GRADE_EXERCISE%.bats}

# Builds the solution when no folder was given (make test). Call from setup_file.
grade_setup_file() {
    if [ -z "${GRADE_FOLDER:-}" ]; then
        [ -d "$KIT_ROOT/solutions/$GRADE_EXERCISE" ] ||
            skip "no solutions/ here (a student's copy of the kit): make grade grades your exercises"
        export GRADE_SOURCE="$KIT_ROOT/solutions/$GRADE_EXERCISE" GRADE_TAG=solutions
        GRADE_FOLDER=$("$KIT_ROOT/tests/grade/prepare" "$GRADE_SOURCE" "$GRADE_EXERCISE" \
            "$GRADE_TAG") || true
        export GRADE_FOLDER
    fi
}

# For a suite whose exercise uses chapter 09 (its uses.mk): start the local server from the
# scratch tree the folder under test was built in, where uses_code had it built with the same
# compiler and flags (a plain make grade builds nothing in the kit's own build folder). Call it
# in setup_file after grade_setup_file; stop_local_server in teardown_file.
grade_start_local_server() {
    KIT_ROOT=${GRADE_FOLDER%/exercises/*} KIT_BUILD=. start_local_server "$@"
}

# The folder of the ThreadSanitizer build of the folder under test (built on first use).
grade_tsan_folder() {
    local folder="$BATS_FILE_TMPDIR/tsan-folder"
    if [ ! -s "$folder" ]; then
        "$KIT_ROOT/tests/grade/prepare" "$GRADE_SOURCE" "$GRADE_EXERCISE" "$GRADE_TAG" thread \
            >"$folder" || true
    fi
    cat "$folder"
}

grade_run() {
    local seconds=10 folder=$GRADE_FOLDER pin=()
    while [ $# -gt 0 ]; do
        case $1 in
        --timeout) seconds=$2; shift 2 ;;
        --one-cpu) pin=(taskset -c 0); shift ;;
        --tsan) folder=$(grade_tsan_folder); seconds=$((seconds * 4)); shift
                # The first report ends the run (exit 66): a report is already a failure.
                export TSAN_OPTIONS="halt_on_error=1 ${TSAN_OPTIONS:-}" ;;
        *) break ;;
        esac
    done
    local prog=$folder/$1
    shift
    GRADE_LAST_RUN="$(basename "$prog") $*"
    if [ ! -x "$prog" ]; then
        status=127
        output="$(basename "$prog") was not built: the build failed (the compiler's errors are above the grade)"
        return 0
    fi
    run "$KIT_ROOT/tests/grade/timed-run" "$(kit_timeout "$seconds")" "${pin[@]}" "$prog" "$@"
}

# What the last grade_run did, in a few lines: output over the cap, a timeout with its
# backtraces, a signal (a limit of the sandbox named), a sanitizer's report, or the exit status
# and the last lines of output.
describe_run() {
    local signal cut
    cut=$(sed -n 's/^OUTPUT CUT: //p' <<<"$output" | tail -1)
    if [ -n "$cut" ]; then
        echo "${cut%% (*}" # it printed 300 MB; 1 MiB is allowed
        [ "$status" -ne 125 ] || return 0
    fi
    if [ "$status" -eq 124 ]; then
        echo "it did not finish in time (a deadlock, or a wake-up nobody sent?)"
        sed -n '/^TIMEOUT:/,$p' <<<"$output" | head -40
    elif [ "$status" -eq 127 ]; then
        echo "$output"
    elif [ "$status" -gt 128 ]; then
        signal=$(kill -l "$((status - 128))" 2>/dev/null)
        case $signal in
        XCPU) echo "it was killed: it used more CPU time than the sandbox allows" ;;
        XFSZ) echo "it was killed: it wrote a file bigger than the sandbox allows (64 MiB)" ;;
        *) echo "it crashed: killed by SIG${signal:-$((status - 128))}" ;;
        esac
        tail -8 <<<"$output"
    elif grep -q 'WARNING: ThreadSanitizer:' <<<"$output"; then
        echo "ThreadSanitizer reported:"
        grep -A 12 -m1 'WARNING: ThreadSanitizer:' <<<"$output" | grep -E 'WARNING|^ +#[0-9] |^  (Read|Write|Previous|Atomic|Cycle|Mutex)' | grep -v libsanitizer |
            head -14
    else
        echo "exit status $status; its last lines:"
        tail -6 <<<"$output" | sed 's/^/    /'
    fi
}

# graded EXPECTED HINT [WHAT-HAPPENED]: print why the test failed, and fail it.
graded() {
    {
        echo "run:      ${GRADE_LAST_RUN:-}"
        echo "expected: $1"
        echo "got:      ${3:-$(describe_run)}"
        echo "hint:     $2"
    } >&2
    return 1
}

# expect_ok EXPECTED HINT: the last grade_run printed a line `OK: ...` and exited 0; else the
# test fails with what was expected, the driver's `BROKEN: ...` line (or how the run ended
# instead) and the hint.
expect_ok() {
    [ "$status" -eq 0 ] && grep -q '^OK: ' <<<"$output" && return 0
    local broken
    broken=$(grep -m1 '^BROKEN: ' <<<"$output" | sed 's/^BROKEN: //')
    if [ -n "$broken" ] && [ "$status" -eq 1 ]; then
        graded "$1" "$2" "$broken"
    else
        graded "$1" "$2"
    fi
}

# The number right after WORD in $output: number_after got -> 123 for "... got 123 ...".
number_after() {
    grep -oE "$1 -?[0-9]+" <<<"$output" | tail -1 | grep -oE -- '-?[0-9]+$'
}
