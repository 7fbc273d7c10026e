# Shared by the grading suites of exercises 04 to 06 (`load judge-04-06` after `load grade`):
# their drivers print one verdict line a run, `OK: ...` (exit 0) or `BROKEN: what was
# expected, what happened` (exit 1).
#
#   expect_ok EXPECTED HINT   the last grade_run printed OK and exited 0; else fail the test
#                             with what the driver said instead (graded, grade.bash)

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
