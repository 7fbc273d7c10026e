#!/usr/bin/env bats
# Exercise 04, pool map: grades exercises/04-pool-map/lib/pool_map.c (or a copy, see grade.bash)
# with the grader's own driver, tests/exercises/drivers/04-pool-map/grade_map.c, built beside it.
# Input order kept when later inputs finish first; the first error in input order returned, a
# failed input's result 0; many tiny calls, on all CPUs and on one; calls inside fn at once,
# proven by a rendezvous the driver controls (never by CPU load, so a busy machine changes
# nothing); a busy worker holding up nobody; every worker joined; ThreadSanitizer clean.

load grade

setup_file() { grade_setup_file; }

HINT_ORDER="let each worker take the next input's index i under the mutex and write its \
result to results[i], never to 'the next free slot' (chapter 06, tp_map in lib/thread_pool.c; \
README.md hints 1-3)"

@test "[3] results in input order although later inputs finish first, 1 to 16 workers" {
    local workers
    for workers in 1 2 4 16; do
        grade_run --timeout 15 grade_map --test=order --workers=$workers
        expect_ok "each input's result in its own slot, pool_map returning 0" "$HINT_ORDER" ||
            return 1
    done
}

@test "[3] the first error in input order comes back, failed results 0, the others right" {
    local workers
    for workers in 1 3 8; do
        grade_run --timeout 15 grade_map --test=errors --workers=$workers
        expect_ok "ERANGE (input 2's error), not EDOM (input 5's, which failed first); a failed \
input's result 0, although its call wrote something else there before failing" \
            "keep each input's error in its own slot too; after joining the workers, return the \
first non-zero one in input order; store 0 as a failed input's result, whatever the call left \
(README.md hint 4)" || return 1
    done
}

@test "[2] 10000 tiny calls, every result right, on all CPUs and on one (taskset -c 0)" {
    grade_run --timeout 15 grade_map --test=many --workers=4
    expect_ok "10000 right results" "$HINT_ORDER" || return 1
    grade_run --timeout 15 --one-cpu grade_map --test=many --workers=3
    expect_ok "10000 right results on one CPU" "$HINT_ORDER"
}

@test "[2] the calls really run at once: 2 and 4 workers have that many calls inside fn together" {
    local workers
    for workers in 2 4; do
        grade_run --timeout 20 grade_map --test=at-once --workers=$workers
        expect_ok "$workers calls inside fn at once on $workers workers, run by $workers threads" \
            "run fn with no lock held: hold the mutex only to take the next index; start \
exactly workers threads (README.md hints 1-3)" || return 1
    done
}

@test "[2] a busy call holds up nobody: the free workers take every next input, one at a time" {
    local workers
    for workers in 2 3; do
        grade_run --timeout 20 grade_map --test=share --workers=$workers
        expect_ok "while input 0's call was busy, the other workers took all 11 other inputs" \
            "no fixed share per worker and no batches: a free worker takes the next input \
nobody has taken, one at a time (README.md hint 2)" || return 1
    done
}

@test "[2] every worker is joined: no thread left, no stack left behind, after 200 maps" {
    grade_run --timeout 30 grade_map --test=join
    expect_ok "no thread but main left, and the address space no larger" \
        "pthread_join every thread pool_map started before it returns (chapter 01, forgot_join.c; \
README.md hint 3)"
}

@test "[2] ThreadSanitizer finds no data race (order and errors)" {
    local test
    for test in order errors; do
        grade_run --timeout 15 --tsan grade_map --test=$test --workers=4
        [ "$status" -eq 0 ] && ! grep -q 'WARNING: ThreadSanitizer' <<<"$output" && continue
        graded "no ThreadSanitizer report, and the right results" \
            "the shared next-input index (and anything else two workers touch) under the mutex; \
results and errors read only after every worker is joined"
        return 1
    done
}
