# Chapter 01, threads: what real parallelism buys on this machine (concurrency_vs_parallelism),
# and how well sleeping threads overlap (many_threads). Sourced by tests/bench/run.
#
# This first fragment also defines what the later ones use (they belong in tests/bench/run):
#   bench_run_idle LESSON PROG [ARGS...]  bench_run, and measure in BENCH_OTHERS how many CPUs
#                                          OTHER processes kept busy meanwhile, on average
#   bench_judge_idle MET                   MET, or "skipped: ..." when others took the CPUs: a
#                                          target that needs idle CPUs cannot be judged then
#   bench_python SCRIPT [ARGS...]          run a Python twin (chapters/NN-x/twins/x.py) if
#                                          python3 is installed; its output in BENCH_OUT
#   bench_python_missing                   the figure to show when python3 is not installed
#   bench_ratio_text FAST SLOW             FAST / SLOW in the kit's notation: x1.93 faster,
#                                          or x1.05 slower when it is under 1

# /proc/stat's busy time of all CPUs (seconds), this shell's children's CPU time, and the clock.
bench_cpu_snapshot() {
    times >"$1.times"
    awk -v hz="$(getconf CLK_TCK)" -v now="$(date +%s.%N)" '
        function secs(t, p) { split(t, p, /[ms]/); return p[1] * 60 + p[2] }
        FILENAME == "/proc/stat" && /^cpu / { busy = ($2 + $3 + $4 + $7 + $8 + $9) / hz }
        FILENAME != "/proc/stat" && FNR == 2 { ours = secs($1) + secs($2) }
        END { print busy, ours, now }' /proc/stat "$1.times" >>"$1"
}

bench_run_idle() {
    local snapshots
    snapshots=$(mktemp)
    bench_cpu_snapshot "$snapshots"
    bench_run "$@"
    local status=$?
    bench_cpu_snapshot "$snapshots"
    BENCH_OTHERS=$(awk 'NR == 1 { busy = $1; ours = $2; start = $3 }
        NR == 2 { printf "%.2f\n", (($1 - busy) - ($2 - ours)) / ($3 - start) }' "$snapshots")
    rm -f "$snapshots" "$snapshots.times"
    return $status
}

bench_judge_idle() {
    if awk -v o="${BENCH_OTHERS:-0}" 'BEGIN { exit !(o >= 0.25) }'; then
        echo "skipped: others kept $BENCH_OTHERS CPUs busy"
    else
        echo "$1"
    fi
}

bench_ratio_text() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a + 0 <= 0 || b + 0 <= 0) print "?"
        else if (a / b >= 1) printf "x%.2f faster\n", a / b
        else printf "x%.2f slower\n", b / a }'
}

bench_python() {
    command -v python3 >/dev/null || return 1
    BENCH_OUT=$(timeout -k 2 300 python3 "$@" 2>&1)
}

bench_python_missing() {
    command -v python3 >/dev/null && echo "? (the twin failed)" || echo "not measured: no python3"
}

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
