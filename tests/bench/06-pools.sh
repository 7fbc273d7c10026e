# Chapter 06, pools: rows for tests/bench/run (sourced; its bench_* functions are in scope).
# 1. thread_pool: submit + result of a no-op task with 2 workers, timed as throughput (200,000
#    tasks submitted, then every result taken; time per task = total / count). Target <= 2 us.
#    Python's ThreadPoolExecutor is measured in the same run by the kit's twin
#    (chapters/06-pools/twins/thread_pool_cost.py).
# 2. pool_speed: the sum of squares of range(2e9) in 8 chunks by the parent alone, by 2
#    independent processes (nothing shared) and by a pool of 2 workers, beside the ceiling (2
#    copies of the parent's whole sum at once), side by side in each round, best of 3.
#    Targets: the pool reaches at least 0.9 of the same run's ceiling, judged always (other
#    programs slow the copies as much as the pool); it reaches at least 0.95 of the independent
#    processes' speedup, keeping at least 1.8 CPUs busy: those two need 2 CPUs that nobody else
#    is using, and are not judged on 1 CPU or when other processes took the CPUs.
# 3. task_size: per-task overhead and what chunking buys (figures, no target).

# The number right after "$2" on the first line of BENCH_OUT matching $1.
pools_number_after() {
    grep -m1 -E -- "$1" <<<"$BENCH_OUT" | sed -nE "s/.*$2 *x?([0-9]+(\.[0-9]+)?).*/\1/p"
}

pools_task_us=''
if bench_run_idle chapters/06-pools thread_pool --workers=2 --noop-tasks=200000; then
    pools_task_us=$(pools_number_after '^5\. cost:' 'cost:')
fi
bench_row "thread pool, 2 workers: submit + result, no-op task" \
    "${pools_task_us:+$pools_task_us us/task}" "<= 2 us" \
    "$(bench_judge_idle "$(bench_at_most "$pools_task_us" 2)")"
pools_python_us=''
bench_python chapters/06-pools/twins/thread_pool_cost.py 100000 2 &&
    pools_python_us=$(pools_number_after '^cost:' 'cost:')
bench_row "  Python ThreadPoolExecutor (twins/thread_pool_cost.py)" \
    "$([ -n "$pools_python_us" ] && echo "$pools_python_us us/task" || bench_python_missing)" "-" "-"
if [ -n "$pools_task_us" ] && [ -n "$pools_python_us" ]; then
    bench_row "  thread pool vs Python ThreadPoolExecutor, per task" \
        "$(bench_ratio_text "$pools_python_us" "$pools_task_us")" "-" "-"
fi

pools_alone='' pools_share='' pools_cpus='' pools_speedup='' pools_independent='' pools_ceiling=''
pools_of_ceiling=''
if bench_run_idle chapters/06-pools pool_speed --workers=2 --numbers=2000000000 --chunks=8 \
    --rounds=3; then
    pools_speedup=$(grep -m1 -E '^   pool of' <<<"$BENCH_OUT" | grep -oE 'x[0-9.]+ (faster|slower)')
    pools_independent=$(grep -m1 -E 'independent processes +[0-9]' <<<"$BENCH_OUT" |
        grep -oE 'x[0-9.]+ (faster|slower)')
    pools_share=$(pools_number_after '^   the pool reached' 'reached')
    pools_cpus=$(pools_number_after '^   CPUs in use:' 'processes,')
    pools_ceiling=$(bench_ratio_words '^ceiling:')
    pools_of_ceiling=$(bench_of_ceiling "$(bench_ratio '^   pool of')")
fi
bench_row "process pool of 2 vs the parent alone, 8 chunks" "$pools_speedup" "-" "-"
bench_row "  the ceiling: 2 copies of the parent's sum at once" "$pools_ceiling" "-" "-"
if [ "$(nproc)" -ge 2 ]; then
    bench_row "  the pool's share of that ceiling" "$pools_of_ceiling" ">= 0.9" \
        "$(bench_at_least "$pools_of_ceiling" 0.9)"
fi
bench_row "  2 independent processes vs the parent alone" "${pools_independent:-}" "-" "-"
if [ "$(nproc)" -ge 2 ]; then
    bench_row "  the pool's share of their speedup" "${pools_share:-}" ">= 0.95" \
        "$(bench_judge_idle "$(bench_at_least "$pools_share" 0.95)")"
    bench_row "  CPUs the pool kept busy (CPU time / wall time)" "${pools_cpus:-}" ">= 1.8" \
        "$(bench_judge_idle "$(bench_at_least "$pools_cpus" 1.8)")"
else
    bench_row "  the pool's share of their speedup (1 CPU)" "${pools_share:-}" "-" "-"
fi

pools_overhead='' pools_gain=''
if bench_run chapters/06-pools task_size --workers=2; then
    pools_overhead=$(pools_number_after '^per-task overhead:' 'overhead:')
    pools_gain=$(bench_ratio_words '^chunking buys:')
fi
bench_row "thread pool: per-task overhead, 200000 tiny tasks" \
    "${pools_overhead:+$pools_overhead us}" "-" "-"
bench_row "  the same sum in 8 chunks vs in 200000 tasks" "$pools_gain" "-" "-"
