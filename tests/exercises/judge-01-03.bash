# Shared by the grading suites of exercises 01-03 (`load judge-01-03` after `load grade`): how
# they read the verdict of a grader's driver (tests/exercises/drivers/NN-x/*.c).

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
