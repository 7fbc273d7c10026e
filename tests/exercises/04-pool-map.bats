#!/usr/bin/env bats
# Exercise 04, pool map: grades exercises/04-pool-map/lib/pool_map.c (or a copy, see grade.bash)
# with the grader's own driver, tests/exercises/drivers/04-pool-map/grade_map.c, built beside it.
# Input order kept when later inputs finish first; the first error in input order returned;
# many tiny calls, on all CPUs and on one; CPUs really kept busy at once (CPU time over wall
# time, never a speedup: see helpers.bash); every worker joined; ThreadSanitizer clean.

load grade

setup_file() { grade_setup_file; }

# expect_ok EXPECTED HINT: the last run printed OK and exited 0; else what it printed instead.
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

@test "[3] the first error in input order comes back, the other results still right" {
    local workers
    for workers in 1 3 8; do
        grade_run --timeout 15 grade_map --test=errors --workers=$workers
        expect_ok "ERANGE (input 2's error), not EDOM (input 5's, which failed first)" \
            "keep each input's error in its own slot too; after joining the workers, return the \
first non-zero one in input order (README.md hint 4)" || return 1
    done
}

@test "[2] 10000 tiny calls, every result right, on all CPUs and on one (taskset -c 0)" {
    grade_run --timeout 15 grade_map --test=many --workers=4
    expect_ok "10000 right results" "$HINT_ORDER" || return 1
    grade_run --timeout 15 --one-cpu grade_map --test=many --workers=3
    expect_ok "10000 right results on one CPU" "$HINT_ORDER"
}

@test "[2] the calls really run in parallel: CPUs kept busy at once" {
    local snapshots="$BATS_TEST_TMPDIR/cpu-snapshots" busy cpus others
    cpu_snapshot "$snapshots"
    grade_run --timeout 30 grade_map --test=parallel
    cpu_snapshot "$snapshots"
    expect_ok "every result right, then CPUs busy measured" "$HINT_ORDER" || return 1
    busy=$(ratio_on 'CPUs busy')
    cpus=$(grep -oE 'of [0-9]+$' <<<"$output" | grep -oE '[0-9]+')
    [ "${cpus:-1}" -ge 2 ] || skip "one CPU: parallel calls cannot keep more than one busy"
    others=$(others_busy "$snapshots")
    awk -v others="$others" 'BEGIN { exit !(others < 0.25) }' ||
        skip "other processes kept $others CPUs busy during the run: no idle CPUs to measure on"
    # A map that runs one call at a time keeps 1.0 CPU busy, a parallel one 1.9 or so. The idle
    # check averages over the whole run, the result checks included, so a burst of other work
    # during the map alone can pass it: 1.3 leaves room for that (1.48 was seen).
    awk -v busy="$busy" 'BEGIN { exit !(busy >= 1.3) }' && return 0
    graded "at least 1.3 CPUs busy on average over the map" \
        "run fn with no lock held: hold the mutex only to take the next index (README.md hint 2)" \
        "x$busy CPUs busy"
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
