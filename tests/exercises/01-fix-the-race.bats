#!/usr/bin/env bats
# Exercise 01, fix the race: grades exercises/01-fix-the-race/counter.c (or a copy, see grade.bash).
# The total must be exact on every run: several thread counts, repeated, on all CPUs and on one,
# and ThreadSanitizer must see no race. A run that loses even one update fails its test.

load grade

setup_file() { grade_setup_file; }

HINT_LOCK="lock one mutex before the read and unlock it after the write, so that no other \
thread runs between them (chapter 03, race_counter_fixed.c; README.md hints 1-3)"

# expect_exact THREADS ITERATIONS: the last grade_run printed the exact total and exited 0.
expect_exact() {
    local expected=$(($1 * $2)) got
    got=$(number_after got)
    [ "$status" -eq 0 ] && [ "$got" = "$expected" ] && return 0
    if [ "$status" -le 1 ] && [ -n "$got" ]; then
        graded "a total of $expected" "$HINT_LOCK" \
            "$got: $((expected - got)) updates lost (exit status $status)"
    else
        graded "a total of $expected" "$HINT_LOCK"
    fi
}

@test "[3] the total is exact at 2, 4 and 8 threads, 3 runs each" {
    local threads run
    for threads in 2 4 8; do
        for run in 1 2 3; do
            grade_run counter --threads=$threads --iterations=5000
            expect_exact $threads 5000 || return 1
        done
    done
}

@test "[3] the total is exact on one CPU (taskset -c 0), at 2 and 8 threads" {
    local threads run
    for threads in 2 8; do
        for run in 1 2 3; do
            grade_run --one-cpu counter --threads=$threads --iterations=5000
            expect_exact $threads 5000 || return 1
        done
    done
}

@test "[3] ThreadSanitizer finds no data race, at 2 and 4 threads" {
    local threads
    for threads in 2 4; do
        grade_run --tsan counter --threads=$threads --iterations=2000
        if [ "$status" -ne 0 ] || grep -q 'WARNING: ThreadSanitizer' <<<"$output"; then
            graded "no ThreadSanitizer report and the exact total" \
                "every access to the counter, the read and the write, must happen with the \
lock held (chapter 02's README, 'ThreadSanitizer'; chapter 03, race_counter_fixed.c)"
            return 1
        fi
    done
}
