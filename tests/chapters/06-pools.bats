#!/usr/bin/env bats
# Chapter 06, pools: thread_pool (futures, map, as_completed, errors, shutdown), process_pool
# (pre-forked workers: exact totals, reaping, Ctrl-C, SIGTERM, a worker killed), pool_speed
# (the pool against independent processes) and task_size (what chunking buys).

load ../helpers
load ../processes

# The worker pids process_pool printed on its "pool:" line.
worker_pids() {
    grep -m1 '^pool:' <<<"$1" | sed -E 's/.*pids ([0-9 ]+);.*/\1/'
}

# Fails if any of the given pids is still a live process_pool (running, or a zombie not reaped).
assert_gone() {
    local pid left=()
    for pid in "$@"; do
        [ -e "/proc/$pid" ] && grep -q process_pool "/proc/$pid/comm" 2>/dev/null && left+=("$pid")
    done
    [ ${#left[@]} -eq 0 ] || fail "workers still there: ${left[*]}"
}

# ---- thread_pool ------------------------------------------------------------------------------

@test "thread_pool: submit gives a future whose result is right" {
    run_prog thread_pool
    assert_success
    assert_line '1. submit: square(12) -> future; result() = 144'
    assert_line --regexp '^OK: '
}

@test "thread_pool: map keeps input order although later inputs finish first" {
    run_prog thread_pool
    assert_success
    assert_line --regexp '^2\. map: .*: 1 4 9 16 25 36 49 64  \(input order kept\)$'
}

@test "thread_pool: as_completed yields every future exactly once, not in submit order" {
    run_prog thread_pool --workers=4
    assert_success
    assert_line --regexp '^3\. as_completed: .*\(each exactly once; not submit order\)$'
    # the four indexes, each once
    local order
    order=$(grep '^3\. as_completed' <<<"$output" | sed -E 's/.*finished as: ([0-9 ]+) +\(.*/\1/')
    [ "$(tr ' ' '\n' <<<"$order" | grep -c .)" -eq 4 ] || fail "order '$order'"
    [ "$(tr ' ' '\n' <<<"$order" | grep . | sort -u | tr '\n' ' ')" = "0 1 2 3 " ] ||
        fail "order '$order' is not 0..3 once each"
    [ "${order%% *}" != 0 ] || fail "the 100 ms task came out first: '$order'"
}

@test "thread_pool: a task's error reaches the caller through its future" {
    run_prog thread_pool
    assert_success
    assert_line --regexp '^4\. errors: whole_sqrt of 16, -4, 81: 4 \[EDOM: .*\] 9$'
}

@test "thread_pool: shutdown joins every worker, no pool thread left" {
    run_prog thread_pool --workers=8
    assert_success
    assert_line 'pool of 8 worker threads started (8 named pool-worker-* in /proc/self/task)'
    assert_line '6. shutdown: every worker joined; pool-worker threads left: 0'
    assert_line --regexp '^OK: .*0 worker threads left after shutdown$'
}

@test "thread_pool: exact results on repeated runs with 1, 2, 3 and 8 workers" {
    local workers run
    for workers in 1 2 3 8; do
        for run in 1 2; do
            run_prog thread_pool --workers=$workers --noop-tasks=5000
            assert_success
            assert_line --regexp '^OK: '
            assert_line --partial '1 4 9 16 25 36 49 64  (input order kept)'
        done
    done
}

@test "thread_pool: the cost of a no-op task is measured and printed" {
    run_prog thread_pool --workers=2 --noop-tasks=50000
    assert_success
    assert_line --regexp '^5\. cost: [0-9]+\.[0-9]+ us per task \(submit \+ result of a no-op; 50000 tasks, 2 workers\)$'
}

# ---- process_pool -----------------------------------------------------------------------------

@test "process_pool: the documentation examples' totals are exact (4 chunks, compute 5M 10M 20M)" {
    run_prog process_pool --numbers=1000000
    assert_success
    assert_line '   total 333332833333500000  (matches the closed formula)'
    assert_line '   compute(5000000) = 41666654166667500000  (matches the closed formula)'
    assert_line '   compute(10000000) = 333333283333335000000  (matches the closed formula)'
    assert_line '   compute(20000000) = 2666666466666670000000  (matches the closed formula)'
    assert_line --regexp '^OK: all 4 totals match'
}

@test "process_pool: the same totals with 1, 2, 3 and 7 workers" {
    local workers
    for workers in 1 2 3 7; do
        run_prog process_pool --workers=$workers
        assert_success
        assert_line '   total 333332833333500000  (matches the closed formula)'
        assert_line --regexp '^OK: '
    done
}

@test "process_pool: every worker is reaped, no process left behind" {
    run_prog process_pool --workers=4
    assert_success
    assert_line 'pool shut down: 4 of 4 workers exited with status 0 and were reaped; no child processes left'
    local pids
    pids=$(worker_pids "$output")
    [ "$(wc -w <<<"$pids")" -eq 4 ] || fail "no worker pids in: $output"
    # shellcheck disable=SC2086
    assert_gone $pids
}

@test "process_pool: Ctrl-C mid-run stops and reaps every worker, then dies of SIGINT" {
    start_session process_pool --workers=3 --numbers=4000000000
    interrupt_session 4 0.2
    finish_session
    assert_died_of_sigint
}

@test "process_pool: SIGTERM to the parent alone stops and reaps every worker" {
    start_session process_pool --workers=3 --numbers=4000000000
    terminate_parent 4 0.2
    finish_session
    assert_died_of_sigterm
    assert_line --regexp '^process_pool: SIGTERM: stopped and reaped 3 child process'
}

@test "process_pool: a worker killed mid-run is named, the others stopped and reaped, exit 1" {
    start_session process_pool --workers=3 --numbers=4000000000
    kill_one_child 4 0.2
    finish_session
    [ "$exit_code" -eq 1 ] || fail "exit status $exit_code: $output"
    assert_line --regexp "^worker [0-2] \(pid $killed_child\) was killed by signal 9 .*: stopping the pool$"
    assert_line 'FAILED: a worker died; 2 other workers stopped and reaped'
    refute_output --regexp 'Sanitizer|runtime error'
}

@test "process_pool: a fork refused part-way stops the workers already started" {
    start_session_limited 3 process_pool --workers=4
    finish_session
    [ "$exit_code" -eq 1 ] || fail "exit status $exit_code: $output"
    assert_line --regexp 'fork worker [1-9]: Resource temporarily unavailable \(EAGAIN\)'
}

# ---- pool_speed -------------------------------------------------------------------------------

@test "pool_speed: the three ways give the formula's total, with uneven chunks" {
    local workers
    for workers in 1 2 3 7; do
        run_prog pool_speed --workers=$workers --numbers=1000003 --chunks=7 --rounds=1
        assert_success
        assert_line --regexp '^   the pool reached [0-9.]+ of the independent processes. speedup$'
        assert_line --regexp '^OK: the three ways give the formula.s total; every worker reaped$'
    done
    # The ceiling of the same rounds: a copy of the parent's whole sum per worker the CPUs run.
    local copies=7 # the last run's workers, or the CPUs, the fewer
    [ "$(nproc)" -ge 7 ] || copies=$(nproc)
    assert_line --regexp "^ceiling: x[0-9.]+ (faster|slower) \\($copies cop(y|ies) of the baseline's work"
    run_on_one_cpu pool_speed --workers=2 --numbers=1000003 --rounds=1
    assert_success
    assert_line --regexp "^ceiling: x[0-9.]+ (faster|slower) \\(1 copy of the baseline's work took"
}

# The speedup itself is held to its target in make bench (see run_on_idle_cpus for why).
@test "pool_speed: 2 workers keep 2 CPUs busy at once" {
    [ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
    run_on_idle_cpus pool_speed --workers=2 --numbers=400000000 --chunks=8 --rounds=3
    assert_success
    assert_line --regexp '^   pool of  2 workers +[0-9.]+ s   speedup: x[0-9.]+ (faster|slower)$'
    at_least "$(grep -E '^   CPUs in use' <<<"$output" | sed -E 's/.*processes, ([0-9.]+) by the pool.*/\1/')" 1.5
}

@test "pool_speed: Ctrl-C and SIGTERM mid-run leave nothing behind" {
    start_session pool_speed --workers=2 --numbers=4000000000 --rounds=5
    interrupt_session 3 0.3
    finish_session
    assert_died_of_sigint
    start_session pool_speed --workers=2 --numbers=4000000000 --rounds=5
    terminate_parent 3 0.3
    finish_session
    assert_died_of_sigterm
}

@test "README: every try-this line of the chapter runs and ends with OK" {
    readme_lines_test
    local args
    for args in "thread_pool --workers=1" "thread_pool --workers=2 --noop-tasks=1000000" \
        "process_pool --workers=1" "process_pool --workers=8" \
        "pool_speed --workers=1" "pool_speed --workers=2" "pool_speed --workers=8" \
        "pool_speed --workers=2 --numbers=2000000000 --chunks=3 --rounds=1" \
        "pool_speed --workers=2 --numbers=2000000000 --chunks=64 --rounds=1" \
        "task_size --workers=1" "task_size --workers=8" "task_size --chunks=1000" \
        "task_size --chunks=20000"; do
        # shellcheck disable=SC2086
        run_prog --timeout 60 $args
        assert_success
        assert_line --regexp '^OK: '
    done
    run_on_one_cpu pool_speed
    assert_success
}

# ---- task_size --------------------------------------------------------------------------------

@test "task_size: chunked tasks give the same total, and much faster than one per number" {
    run_prog task_size
    assert_success
    assert_line --regexp '^per-task overhead: [0-9]+\.[0-9]+ us '
    assert_line --regexp '^OK: both ways give 2666646666700000; '
    assert_line --regexp '^chunking buys: x[0-9.]+ faster$'
    at_least "$(ratio_on '^chunking buys')" 2
}

@test "task_size: exact totals with other sizes, chunk counts and worker counts" {
    run_prog task_size --numbers=1000 --chunks=1 --workers=1
    assert_success
    assert_line --regexp '^OK: both ways give 332833500; '
    run_prog task_size --numbers=99999 --chunks=7 --workers=3
    assert_success
    assert_line --regexp '^OK: both ways give 333318333549999; '
    run_prog task_size --numbers=50000 --chunks=100 --workers=8 --rounds=1
    assert_success
    assert_line --regexp '^OK: both ways give 41665416675000; '
    run_prog task_size --numbers=5000 --chunks=5000 --rounds=1
    assert_success
    assert_line --regexp '^OK: both ways give 41654167500; '
}

@test "task_size: more chunks than numbers is a usage error" {
    run_prog task_size --numbers=1000 --chunks=1001
    assert_failure 2
}
