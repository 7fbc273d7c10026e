# Chapter 03, locks: the cost of excessive locking (lock_granularity). Sourced by tests/bench/run.

if bench_run chapters/03-locks lock_granularity; then
    bench_row "locks: 2 threads, 1M increments, each locked" \
        "$(bench_value '^lock per item') ms" "-" "-"
    bench_row "locks: lock per item vs local sum merged once" \
        "$(grep -m1 '^OK:' <<<"$BENCH_OUT" | grep -oE 'x[0-9.]+ (faster|slower)')" "-" "-"
else
    bench_row "locks: lock per item vs local sum merged once" "" "-" MISSED
fi
