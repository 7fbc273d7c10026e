# Chapter 07, the GIL: rows for tests/bench/run (sourced; its bench_* functions are in scope).
# One run of gil_sim, scaled up to about 1 s per case and fastest of 3, gives both speedups:
# 2 threads over 1 under the simulated GIL (target: no gain, judged on idle CPUs: a disturbed
# 1-thread round flatters it) and without any lock, beside the ceiling gil_sim measured in the
# same rounds (2 copies of the 1-thread work at once). Without a lock the target is at least 0.9
# of that ceiling, judged always: other programs slow the copies as much as the threads; on 1
# CPU it is not judged. Python's own figure, the same CPU-bound work in 1 thread and then
# in 2, is measured in the same run by the kit's twin (chapters/07-gil/twins/gil_speedup.py),
# beside its own ceiling (2 processes each doing the 1-thread work at once).

# The speedup (the first xN.NN) on the first line of gil_sim's table that matches $1.
gil_bench_speedup() {
    grep -m1 -E -- "$1" <<<"$BENCH_OUT" | grep -oE 'x[0-9]+(\.[0-9]+)?' | head -1 | tr -d x
}

gil_bench_with='' gil_bench_without='' gil_bench_ceiling='' gil_bench_share=''
if bench_run_idle chapters/07-gil gil_sim --threads=2 --steps=100000 --repeat=3; then
    gil_bench_with=$(gil_bench_speedup '^with the simulated GIL')
    gil_bench_without=$(gil_bench_speedup '^without a lock')
    gil_bench_ceiling=$(bench_ratio_words '^ceiling:')
    gil_bench_share=$(bench_of_ceiling "$gil_bench_without")
fi

bench_row "gil_sim speedup with simulated GIL (2 threads vs 1)" \
    "${gil_bench_with:+x$gil_bench_with}" \
    "<= x1.1" "$(bench_judge_idle "$(bench_at_most "$gil_bench_with" 1.1)")"
if [ "$(nproc)" -ge 2 ]; then
    bench_row "gil_sim speedup without GIL (2 threads vs 1)" \
        "${gil_bench_without:+x$gil_bench_without}" "-" "-"
    bench_row "  the ceiling: 2 copies of the 1-thread work at once" "$gil_bench_ceiling" "-" "-"
    bench_row "  the speedup's share of that ceiling" "$gil_bench_share" ">= 0.9" \
        "$(bench_at_least "$gil_bench_share" 0.9)"
else
    bench_row "gil_sim speedup without GIL (2 threads vs 1, only 1 CPU)" \
        "${gil_bench_without:+x$gil_bench_without}" "needs 2 CPUs" "-"
fi

# The twin's "speedup: x1.01 (1 thread 0.064 s, 2 threads 0.076 s, GIL on, Python 3.11.7)".
gil_python='' gil_python_ceiling='' gil_python_kind=''
if bench_python chapters/07-gil/twins/gil_speedup.py 20000000; then
    gil_python=$(grep -m1 -oE '^speedup: x[0-9.]+' <<<"$BENCH_OUT" | cut -d' ' -f2)
    gil_python_ceiling=$(grep -m1 -oE '^ceiling: x[0-9.]+' <<<"$BENCH_OUT" | cut -d' ' -f2)
    gil_python_kind=$(sed -nE 's/^speedup: .*(GIL [a-z]+), (Python [0-9.]+)\)$/\2 threads, \1/p' \
        <<<"$BENCH_OUT")
fi
bench_row "  ${gil_python_kind:-Python threads} (twins/gil_speedup.py)" \
    "${gil_python:-$(bench_python_missing)}" "-" "-"
if [ -n "$gil_python" ]; then
    bench_row "  its ceiling: 2 processes doing that work at once" "$gil_python_ceiling" "-" "-"
fi
