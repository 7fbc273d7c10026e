# Chapter 11, hybrid: rows for tests/bench/run (sourced; its bench_* functions are in scope).
# 1. run_in_executor: compute(5e8), about 0.2 s of CPU, once in a callback of the loop and once
#    in a worker process, while the loop's ticker fires every 10 ms: how late it fired at worst,
#    less the time the loop's thread waited for a CPU. The stall in the callback is a figure (it
#    is the computation's length); with the worker the target is at most 5 ms, judged on idle
#    CPUs only.
# 2. fetch_and_process: 16 lists of 500,000 numbers (2.4 MB of JSON each) from the local server
#    it starts, with 1 worker and with 2: wall time, the workers' CPU time, the loop's own, the
#    sequential check's time, and the ticker's worst lateness (less CPU waits) beside the longest
#    computation. Target: with 2 workers, the ticker late by at most a tenth of one computation
#    (what is left is the loop's own work: curl reading the bodies, a few ms of CPU per megabyte
#    here, and the copy into a worker's pipe), judged on idle CPUs only. The speed-up of 2
#    workers over 1 is a figure, not a target: the loop's process and the local server (which
#    writes the 38 MB of JSON) share the same 2 CPUs with the workers, and on this VM it came out
#    anywhere from x1.23 to x1.42 in three idle runs of one morning. What a pool of 2 gains on CPU
#    work is chapter 06's row, measured against the machine's own ceiling.

# The number right after "$2" on the first line of BENCH_OUT matching $1.
hybrid_number_after() {
    grep -m1 -E -- "$1" <<<"$BENCH_OUT" | sed -nE "s/.*$2 *x?([0-9]+(\.[0-9]+)?).*/\1/p"
}

# run_in_executor's ticker lateness less CPU waits, in ms, in its Nth mode run ($1: 1 = loop,
# 2 = executor, as --mode=all runs them).
hybrid_own_late() {
    grep -E '^   the ticker fired ' <<<"$BENCH_OUT" | sed -n "$1p" |
        sed -nE 's/.*late; ([0-9]+(\.[0-9]+)?) ms of it .*/\1/p'
}

# ---- 1. run_in_executor -----------------------------------------------------------------------
hybrid_stall='' hybrid_executor_late=''
if bench_run_idle chapters/11-hybrid run_in_executor --numbers=5e8; then
    hybrid_stall=$(hybrid_own_late 1)
    hybrid_executor_late=$(hybrid_own_late 2)
fi
bench_row "10 ms ticker's worst lateness, compute(5e8) in the loop" \
    "${hybrid_stall:+$hybrid_stall ms}" "-" "-"
bench_row "  compute(5e8) in a worker process (run_in_executor)" \
    "${hybrid_executor_late:+$hybrid_executor_late ms}" "<= 5 ms" \
    "$(bench_judge_idle "$(bench_at_most "$hybrid_executor_late" 5)")"

# ---- 2. fetch_and_process, 1 and 2 workers ----------------------------------------------------
hybrid_wall_1=''
if bench_run chapters/11-hybrid fetch_and_process --workers=1 --lists=16 --numbers=500000; then
    hybrid_wall_1=$(hybrid_number_after '^summary: ' 'wall')
fi
bench_row "fetch_and_process: 16 x 500,000 numbers, 1 worker: wall" \
    "${hybrid_wall_1:+$hybrid_wall_1 s}" "-" "-"
hybrid_wall_2='' hybrid_workers_cpu='' hybrid_loop_cpu='' hybrid_check='' hybrid_late='' hybrid_longest=''
if bench_run_idle chapters/11-hybrid fetch_and_process --workers=2 --lists=16 --numbers=500000; then
    hybrid_wall_2=$(hybrid_number_after '^summary: ' 'wall')
    hybrid_workers_cpu=$(hybrid_number_after '^summary: ' 'CPU')
    hybrid_loop_cpu=$(hybrid_number_after '^summary: ' 'in the workers,')
    hybrid_check=$(hybrid_number_after '^check: ' 'identical, in')
    hybrid_late=$(hybrid_number_after '^ticker: ' 'late,')
    hybrid_longest=$(hybrid_number_after '^overlap: ' 'took')
fi
bench_row "  2 workers: wall" "${hybrid_wall_2:+$hybrid_wall_2 s}" "-" "-"
bench_row "  2 workers: CPU in the workers / in the loop's process" \
    "${hybrid_workers_cpu:+$hybrid_workers_cpu s / $hybrid_loop_cpu s}" "-" "-"
bench_row "  the same work in one process, list after list" \
    "${hybrid_check:+$hybrid_check s}" "-" "-"
bench_row "  2 workers vs 1, wall" "$(bench_ratio_text "$hybrid_wall_1" "$hybrid_wall_2")" "-" "-"
hybrid_tenth=$(awk -v l="$hybrid_longest" 'BEGIN { if (l != "") printf "%.1f", l / 10 }')
bench_row "  the longest computation" "${hybrid_longest:+$hybrid_longest ms}" "-" "-"
bench_row "  the ticker's worst lateness (target: 1/10 of that)" \
    "${hybrid_late:+$hybrid_late ms}" "<= ${hybrid_tenth:-?} ms" \
    "$(bench_judge_idle "$(bench_at_most "$hybrid_late" "${hybrid_tenth:-0}")")"
