#!/usr/bin/env bats
# Exercise 01, fix the race: grades exercises/01-fix-the-race/counter.c (or a copy, see grade.bash).
# The total must be exact on every run: several thread counts, repeated, on all CPUs and on one,
# and ThreadSanitizer must see no race. A run that loses even one update fails its test. The
# threads must still run at the same time: the grader's driver (tests/exercises/drivers/
# 01-fix-the-race/grade_counter.c, built with the student's counter.c compiled into it) counts
# how many threads are alive at once and how many increments each hold of a mutex covers.
# Counted, not timed: the same on an idle machine, beside busy loops and on one CPU.

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
            grade_run counter --threads=$threads --iterations=1000
            expect_exact $threads 1000 || return 1
        done
    done
}

@test "[3] the total is exact on one CPU (taskset -c 0), at 2 and 8 threads" {
    local threads run
    for threads in 2 8; do
        for run in 1 2 3; do
            grade_run --one-cpu counter --threads=$threads --iterations=1000
            expect_exact $threads 1000 || return 1
        done
    done
}

@test "[3] ThreadSanitizer finds no data race, at 2 and 4 threads" {
    local threads
    for threads in 2 4; do
        grade_run --tsan counter --threads=$threads --iterations=1000
        if [ "$status" -ne 0 ] || grep -q 'WARNING: ThreadSanitizer' <<<"$output"; then
            graded "no ThreadSanitizer report and the exact total" \
                "every access to the counter, the read and the write, must happen with the \
lock held (chapter 02's README, 'ThreadSanitizer'; chapter 03, race_counter_fixed.c)"
            return 1
        fi
    done
}

# expect_counted THREADS ITERATIONS LINE-REGEX EXPECTED HINT: the last run of grade_counter
# had the exact total and printed a line matching LINE-REGEX.
expect_counted() {
    local line
    line=$(grep -E -m1 "$3" <<<"$output")
    [ "$status" -eq 0 ] && [ "$(number_after got)" = "$(($1 * $2))" ] && [ -n "$line" ] &&
        return 0
    if [ "$status" -le 1 ] && grep -q '^threads at once:' <<<"$output"; then
        graded "$4, and a total of $(($1 * $2))" "$5" \
            "$(grep -E '^(threads at once|longest hold)' <<<"$output" | paste -sd ';' |
                sed 's/;/; /'); total $(number_after got) (exit status $status)"
    else
        graded "$4, and a total of $(($1 * $2))" "$5"
    fi
}

@test "[3] the threads run at the same time: all alive at once, on all CPUs and on one" {
    local run threads pin
    for run in "4" "8" "4 --one-cpu"; do
        read -r threads pin <<<"$run"
        grade_run $pin grade_counter --threads=$threads --iterations=1000
        expect_counted $threads 1000 "^threads at once: $threads of $threads\$" \
            "all $threads threads alive at once" \
            "create every thread first, then join them all: a thread joined before the next \
is created runs alone, and the program is no faster than one thread (README.md, 'What the \
grader checks')" || return 1
    done
}

@test "[3] each hold of the lock covers one increment at a time, not a thread's whole loop" {
    local threads
    for threads in 2 8; do
        grade_run grade_counter --threads=$threads --iterations=1000
        expect_counted $threads 1000 '^longest hold of a mutex: [01] increments' \
            "each hold of the mutex over one read-yield-write" \
            "lock in add_one(), around one increment, not in count_up() around the loop: a \
thread that holds the lock for all its increments keeps every other thread waiting, and the \
threads run one after another" || return 1
    done
}

# Every interleaving of 2 threads x 2 increments with up to 2 preemptions, under chapter 13's
# controlled scheduler: a fix that loses an update only in a rare interleaving fails here, with
# the schedule that shows it (tests/exercises/explore.bash).
@test "[3] every interleaving of 2 threads x 2 increments keeps the total (controlled scheduler)" {
    load explore
    grade_explore counter --threads=2 --iterations=2
    explore_passed
}
