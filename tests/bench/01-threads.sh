# Chapter 01, threads: what real parallelism buys on this machine (concurrency_vs_parallelism),
# and how well sleeping threads overlap (many_threads). Sourced by tests/bench/run.
# The speedup is judged against the ceiling the program measured in the same rounds (as many
# copies of the whole job at once as there are threads or CPUs): threads that run in parallel
# reach at least 0.9 of it, whatever other programs took (they slow the copies as much).

threads_speedup='' threads_share=''
if bench_run chapters/01-threads concurrency_vs_parallelism --rounds=10; then
    threads_speedup=$(bench_ratio '^speedup:')
    threads_share=$(bench_of_ceiling "$threads_speedup")
fi
bench_row "threads: one CPU vs all CPUs, same CPU-bound job" \
    "${threads_speedup:+$(bench_ratio_words '^speedup:')}" \
    "-" "$([ -n "$threads_speedup" ] && echo - || echo MISSED)"
if [ -n "$threads_speedup" ]; then
    bench_row "  the ceiling: as many copies of the job at once" \
        "$(bench_ratio_words '^ceiling:')" "-" "-"
fi
if [ "$(nproc)" -ge 2 ]; then
    bench_row "  the speedup's share of that ceiling" "$threads_share" ">= 0.9" \
        "$(bench_at_least "$threads_share" 0.9)"
fi

if bench_run chapters/01-threads many_threads --threads=20 --sleep=0.2; then
    bench_row "threads: 20 sleeping threads vs 20 sleeps in a row" \
        "x$(grep -m1 '^OK:' <<<"$BENCH_OUT" | grep -oE 'x[0-9.]+' | tr -d x) faster" "-" "-"
else
    bench_row "threads: 20 sleeping threads vs 20 sleeps in a row" "" "-" MISSED
fi
