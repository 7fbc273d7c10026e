#!/usr/bin/env bats
# Chapter 03, locks: the fixed programs give exact results on every run, at several thread counts
# and on one core; deadlock.c ends in bounded time with its BROKEN verdict; and a ThreadSanitizer
# build of the chapter runs clean.

load ../helpers

CYCLE='thread 1 holds lock A and waits for lock B, thread 2 holds lock B and waits for lock A'
TRYLOCK_OK='^OK: 100 transfers done, balances back to 100 and 100; [1-9][0-9]* retries, no deadlock'

@test "race_counter_fixed: exact total over 5 runs at 2, 3, 4 and 8 threads" {
    for threads in 2 3 4 8; do
        for _ in 1 2 3 4 5; do
            run_prog race_counter_fixed --threads="$threads" --iterations=200
            assert_success
            assert_line "OK: expected $((threads * 200)), got $((threads * 200))"
        done
    done
}

@test "race_counter_fixed: exact total on one core, 5 runs" {
    for _ in 1 2 3 4 5; do
        run_on_one_cpu race_counter_fixed --threads=4 --iterations=200
        assert_success
        assert_line 'OK: expected 800, got 800'
    done
}

@test "atomic_counter: exact total over 5 runs at 1, 2, 4 and 8 threads" {
    for threads in 1 2 4 8; do
        for _ in 1 2 3 4 5; do
            run_prog atomic_counter --threads="$threads" --iterations=2000
            assert_success
            assert_line "OK: expected $((threads * 2000)), got $((threads * 2000))"
        done
    done
}

@test "atomic_counter: exact total on one core, 5 runs" {
    for _ in 1 2 3 4 5; do
        run_on_one_cpu atomic_counter --threads=4 --iterations=2000
        assert_success
        assert_line 'OK: expected 8000, got 8000'
    done
}

@test "lock_granularity: both totals exact, a lock per item at least x1.5 slower" {
    run_prog lock_granularity --items=300000
    assert_success
    assert_line --regexp '^OK: both totals exact \(149850000\); a lock per item was x[0-9.]+ slower '
    at_least "$(ratio_on '^OK: ')" 1.5
}

@test "lock_granularity: the same with 4 threads on one core" {
    run_on_one_cpu lock_granularity --threads=4 --items=300000
    assert_success
    assert_line --regexp '^OK: both totals exact \(149850000\); a lock per item was x[0-9.]+ slower '
    at_least "$(ratio_on '^OK: ')" 1.5
}

@test "semaphore_limit: the most workers inside at once is exactly the limit" {
    run_prog semaphore_limit
    assert_success
    assert_line 'OK: at most 3 at once (limit 3)'
    run_prog semaphore_limit --workers=6 --limit=2
    assert_success
    assert_line 'OK: at most 2 at once (limit 2)'
    run_prog semaphore_limit --workers=4 --limit=1
    assert_success
    assert_line 'OK: at most 1 at once (limit 1)'
}

@test "semaphore_limit: exactly the limit on one core too" {
    run_on_one_cpu semaphore_limit --workers=10 --limit=4
    assert_success
    assert_line 'OK: at most 4 at once (limit 4)'
}

@test "semaphore_limit: a limit above the number of workers is a usage error" {
    run_prog semaphore_limit --workers=2 --limit=3
    assert_failure 2
}

@test "event_flag: workers wait until the event is set; after clear, a wait times out" {
    run_prog event_flag
    assert_success
    assert_line --regexp '^main: after 100 ms, [0-9]+ of 3 workers waiting, 0 got past'
    assert_line 'OK: 3 workers waited until the event was set; after clear, a wait timed out'
    run_on_one_cpu event_flag --workers=8 --delay-ms=20
    assert_success
    assert_line 'OK: 8 workers waited until the event was set; after clear, a wait timed out'
}

@test "deadlock: detects the deadlock and ends in bounded time, 5 runs" {
    for _ in 1 2 3 4 5; do
        run_prog --timeout 10 deadlock
        assert_success
        assert_line "BROKEN: deadlock detected: $CYCLE (timed out after 200 ms, backed out)"
        assert_line --regexp '^thread [12] .*: gave up, released its lock$'
        assert_line --regexp '^balances: A [0-9]+, B [0-9]+ \(total 200\)$'
    done
}

@test "deadlock: the same on one core, with a shorter timeout" {
    run_on_one_cpu deadlock --patience-ms=50
    assert_success
    assert_line "BROKEN: deadlock detected: $CYCLE (timed out after 50 ms, backed out)"
}

@test "deadlock_fixed: every transfer completes, money conserved, over 5 runs and thread counts" {
    for threads in 2 4 8; do
        for _ in 1 2 3 4 5; do
            run_prog deadlock_fixed --threads="$threads" --accounts=3 --transfers=1000
            assert_success
            local transfers=$((threads * 1000))
            assert_line "OK: $transfers transfers done with no deadlock; money conserved (3000)"
        done
    done
}

@test "deadlock_fixed: two accounts, heavy traffic both ways, on one core" {
    run_on_one_cpu deadlock_fixed --threads=4 --accounts=2 --transfers=2000
    assert_success
    assert_line 'OK: 8000 transfers done with no deadlock; money conserved (2000)'
}

@test "trylock_backoff: completes with retries, 5 runs, and on one core" {
    for _ in 1 2 3 4 5; do
        run_prog trylock_backoff --transfers=50
        assert_success
        assert_line --regexp "$TRYLOCK_OK"
    done
    run_on_one_cpu trylock_backoff --transfers=50
    assert_success
    assert_line --regexp "$TRYLOCK_OK"
}

@test "the fixed programs run clean under ThreadSanitizer" {
    local dir
    dir=$(tsan_build 03-locks) || fail "make chapter-03 SANITIZE=thread failed"
    local prog_and_args
    for prog_and_args in 'race_counter_fixed --iterations=200' 'atomic_counter --iterations=2000' \
        'lock_granularity --items=100000' semaphore_limit event_flag \
        'deadlock_fixed --transfers=2000' 'trylock_backoff --transfers=50'; do
        # TSan's own defaults: any report is printed and makes the program exit 66.
        # shellcheck disable=SC2086 # the program and its options, split on purpose
        TSAN_OPTIONS= run timeout -k 2 "$(kit_timeout 60)" "$dir/"$prog_and_args
        [ "$status" -eq 0 ] || fail "$prog_and_args exited $status under TSan: $output"
        refute_output --partial 'ThreadSanitizer'
        assert_line --regexp '^OK: '
    done
}

# ---- the README's "try this" lines ----------------------------------------------------------

# try_line PROG [ARGS...]: run one README line; it must end with exit 0 and a verdict.
try_line() {
    run_prog --timeout 60 "$@"
    assert_success
    assert_line --regexp '^(OK|BROKEN|note): '
}

@test "README: every try-this line runs and gives its verdict" {
    readme_lines_test
    try_line race_counter_fixed --threads=8
    try_line atomic_counter --threads=8 --iterations=1000
    try_line lock_granularity --threads=4 --items=10000000
    run_on_one_cpu lock_granularity --threads=4 --items=10000000
    assert_success
    try_line semaphore_limit --limit=1
    try_line deadlock --patience-ms=2000
}

@test "options: totals beyond the caps are refused up front, with the reason" {
    local args
    for args in "race_counter_fixed --threads=64 --iterations=1000000" \
        "atomic_counter --threads=64 --iterations=1000000" \
        "deadlock_fixed --threads=64 --transfers=100000" "trylock_backoff --transfers=1000000" \
        "semaphore_limit --workers=1000 --hold-ms=10000 --limit=1"; do
        # shellcheck disable=SC2086
        run_prog $args
        assert_failure 2
        assert_output --partial 'over the cap'
    done
}
