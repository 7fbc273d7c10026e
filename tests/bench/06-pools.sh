# Chapter 06, pools: rows for tests/bench/run (sourced; its bench_* functions are in scope).
# 1. thread_pool: submit + result of a no-op task with 2 workers, timed as throughput (200,000
#    tasks submitted, then every result taken; time per task = total / count). Target <= 2 us.
#    Python's ThreadPoolExecutor, about 23 us per task, is the figure quoted in the issue that
#    set this target (Lessons 04-07); it is a constant here, not re-measured.
# 2. process_pool: the sum of squares of range(2e9) in 8 chunks, sequential vs a pool of 2
#    workers, side by side in one run, best of 3 each. Target >= x1.8, which needs 2 CPUs; on
#    one CPU the row has no target.
#    How many CPUs the pool kept busy (its workers' CPU time over wall time) is shown under it.
#    A second run with 2 chunks (one per worker: two independent processes) shows what the
#    machine itself allows; on a virtual machine that can be well under x2.
# 3. task_size: per-task overhead and what chunking buys (figures, no target).

pools_python_us=23 # us per task, Python's ThreadPoolExecutor, from the issue

# The number right after "$2" on the first line of BENCH_OUT matching $1.
pools_number_after() {
    grep -m1 -E -- "$1" <<<"$BENCH_OUT" | sed -nE "s/.*$2 *x?([0-9]+(\.[0-9]+)?).*/\1/p"
}

pools_task_us=''
if bench_run chapters/06-pools thread_pool --workers=2 --noop-tasks=200000; then
    pools_task_us=$(pools_number_after '^5\. cost:' 'cost:')
fi
bench_row "thread pool: submit + result of a no-op task, 2 workers" \
    "${pools_task_us:+$pools_task_us us/task}" "<= 2 us" "$(bench_at_most "$pools_task_us" 2)"
pools_vs_python=$(awk -v t="$pools_task_us" -v p="$pools_python_us" \
    'BEGIN { if (t > 0) printf "x%.0f", p / t }')
bench_row "thread pool vs Python ThreadPoolExecutor (23 us, the issue's figure)" \
    "$pools_vs_python" "-" "-"

pools_speedup='' pools_cpus=''
if bench_run chapters/06-pools process_pool --workers=2 --numbers=2000000000 --chunks=8 \
    --rounds=3; then
    pools_speedup=$(pools_number_after '^   speedup:' 'speedup:')
    pools_cpus=$(pools_number_after '^   CPUs in use' 'pool run:')
fi
if [ "$(nproc)" -ge 2 ]; then
    bench_row "process pool (2 workers) vs sequential, 8 large chunks" \
        "${pools_speedup:+x$pools_speedup}" ">= x1.8" "$(bench_at_least "$pools_speedup" 1.8)"
else
    bench_row "process pool (2 workers) vs sequential, 8 large chunks (1 CPU)" \
        "${pools_speedup:+x$pools_speedup}" "-" "-"
fi
# Near 2.0 here with a speedup short of x2: the pool kept both CPUs busy, and the CPUs
# themselves ran slower side by side (shared cores or caches under a virtual machine).
bench_row "  CPUs the pool kept busy meanwhile (CPU time / wall time)" "${pools_cpus:-}" "-" "-"

# The ceiling: two chunks, one per worker, is two independent processes with nothing to share.
# On a virtual machine this can be well below x2; the row above can hardly beat it.
pools_ceiling=''
if bench_run chapters/06-pools process_pool --workers=2 --numbers=2000000000 --chunks=2 \
    --rounds=3; then
    pools_ceiling=$(pools_number_after '^   speedup:' 'speedup:')
fi
bench_row "  for scale: 2 chunks on 2 workers (two independent processes)" \
    "${pools_ceiling:+x$pools_ceiling}" "-" "-"

pools_overhead='' pools_gain=''
if bench_run chapters/06-pools task_size --workers=2; then
    pools_overhead=$(pools_number_after '^per-task overhead:' 'overhead:')
    pools_gain=$(pools_number_after '^chunking buys:' 'buys:')
fi
bench_row "thread pool: per-task overhead (200000 tiny tasks vs 8 chunks)" \
    "${pools_overhead:+$pools_overhead us}" "-" "-"
bench_row "thread pool: what chunking buys (same sum, 8 chunks vs 200000 tasks)" \
    "${pools_gain:+x$pools_gain}" "-" "-"
