# Chapter 01, threads: what real parallelism buys on this machine (concurrency_vs_parallelism),
# and how well sleeping threads overlap (many_threads). Sourced by tests/bench/run.

if bench_run chapters/01-threads concurrency_vs_parallelism --rounds=10; then
    bench_row "threads: one CPU vs all CPUs, same CPU-bound job" \
        "x$(bench_value '^speedup:') faster" "-" "-"
else
    bench_row "threads: one CPU vs all CPUs, same CPU-bound job" "" "-" MISSED
fi

if bench_run chapters/01-threads many_threads --threads=20 --sleep=0.2; then
    bench_row "threads: 20 sleeping threads vs 20 sleeps in a row" \
        "x$(grep -m1 '^OK:' <<<"$BENCH_OUT" | grep -oE 'x[0-9.]+' | tr -d x) faster" "-" "-"
else
    bench_row "threads: 20 sleeping threads vs 20 sleeps in a row" "" "-" MISSED
fi
