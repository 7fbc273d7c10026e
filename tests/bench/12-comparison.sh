# Chapter 12, the comparison: rows for tests/bench/run (sourced; its bench_* functions are in
# scope). One local server (chapter 09's loop_server) serves every row, side by side in one run.
# 1. perf_compare, best of 3 rounds: 10 x /delay/0.2 sequential / thread pool / event loop
#    (targets: both concurrent ways at least x5 faster than sequential, whatever the CPUs), and
#    4 x the sum of squares of range(2.5e8) sequential / thread pool / process pool / threads
#    under the simulated GIL, 2 workers, beside the ceiling perf_compare measured in the same
#    rounds (2 copies of the sequential way at once: what the CPUs, and the host under this VM,
#    gave in this run). Targets: threads and processes reach at least 0.85 of that ceiling (their
#    pools start and stop inside the timing), judged always, since other programs slow the
#    copies as much; they keep at least 1.8 CPUs busy (CPU time / wall time), judged on 2 idle
#    CPUs only; the simulated GIL at most 1.1, judged always (no load can make a correctly
#    locked run keep two CPUs busy). Figures from its --csv file; its time per number is set
#    beside Python's below.
# 2. Its Python twin (chapters/12-comparison/twins/perf_compare.py), the seed's own comparison:
#    urllib on a ThreadPoolExecutor, asyncio + aiohttp, sum(i * i ...) on a ThreadPoolExecutor
#    (the real GIL) and a ProcessPoolExecutor, in the same run (figures, no targets), and the
#    time per number of C's sum_of_squares against Python's.
# 3. news_scraper, 100 pages, best of 5 rounds: each way's time and the winner (figures).

cmp_server_out=$(mktemp)
cmp_csv=$(mktemp)
cmp_url=''
"$KIT_BUILD/chapters/09-servers/loop_server" --port 0 >"$cmp_server_out" 2>&1 &
cmp_server_pid=$!
for _ in $(seq 100); do
    cmp_url=$(sed -nE 's|^listening on (http://127\.0\.0\.1:[0-9]+).*|\1|p' "$cmp_server_out")
    [ -n "$cmp_url" ] && break
    sleep 0.05
done
[ -n "$cmp_url" ] || bench_warn "loop_server did not start: $(cat "$cmp_server_out")"

# cmp_speedup WORKLOAD APPROACH: the speedup column of the CSV (baseline time / this time).
cmp_speedup() {
    awk -F, -v w="$1" -v a="$2" '$1 == w && $2 == a { print $6 }' "$cmp_csv"
}

# cmp_text SPEEDUP: the kit's notation for it.
cmp_text() {
    [ -n "$1" ] && bench_ratio_text "$1" 1
}

# ---- 1. perf_compare ------------------------------------------------------------------------
: >"$cmp_csv"
cmp_numbers=250000000
cmp_c_ns='' cmp_ceiling_words=''
if [ -n "$cmp_url" ] && bench_run_idle chapters/12-comparison perf_compare --url="$cmp_url" \
    --requests=10 --delay=0.2 --tasks=4 --numbers=$cmp_numbers --workers=2 --rounds=3 \
    --csv="$cmp_csv"; then
    cmp_c_ns=$(awk -F, -v n=$cmp_numbers '$1 == "cpu" && $2 == "sequential" {
        printf "%.3f", $3 / (4 * n) * 1e9 }' "$cmp_csv")
    cmp_ceiling_words=$(bench_ratio_words '^ceiling:')
fi
cmp_value=$(cmp_speedup io threads)
bench_row "perf_compare: 10 x /delay/0.2, threads vs sequential" "$(cmp_text "$cmp_value")" \
    ">= x5" "$(bench_at_least "$cmp_value" 5)"
cmp_value=$(cmp_speedup io event_loop)
bench_row "  the event loop vs sequential" "$(cmp_text "$cmp_value")" ">= x5" \
    "$(bench_at_least "$cmp_value" 5)"
bench_row "perf_compare: sum of squares, the ceiling (2 copies)" "$cmp_ceiling_words" "-" "-"
for cmp_way in threads processes; do
    cmp_value=$(cmp_speedup cpu $cmp_way)
    bench_row "  2 $cmp_way vs sequential" "$(cmp_text "$cmp_value")" "-" "-"
    if [ "$(nproc)" -ge 2 ]; then
        cmp_value=$(bench_of_ceiling "$cmp_value") # perf_compare's output is still BENCH_OUT
        bench_row "    their share of the ceiling" "$cmp_value" ">= 0.85" \
            "$(bench_at_least "$cmp_value" 0.85)"
    fi
    cmp_value=$(awk -F, -v a=$cmp_way '$1 == "cpu" && $2 == a { print $5 }' "$cmp_csv")
    if [ "$(nproc)" -ge 2 ]; then
        bench_row "    CPUs busy (CPU time / wall time)" "$cmp_value" ">= 1.8" \
            "$(bench_judge_idle "$(bench_at_least "$cmp_value" 1.8)")"
    else
        bench_row "    CPUs busy (CPU time / wall time), 1 CPU" "$cmp_value" "needs 2 CPUs" "-"
    fi
done
cmp_value=$(cmp_speedup cpu threads_gil)
bench_row "  2 threads under the simulated GIL vs sequential" "$(cmp_text "$cmp_value")" "-" "-"
cmp_value=$(awk -F, '$1 == "cpu" && $2 == "threads_gil" { print $5 }' "$cmp_csv")
bench_row "    CPUs busy (CPU time / wall time)" "$cmp_value" "<= 1.1" \
    "$(bench_at_most "$cmp_value" 1.1)"

# ---- 2. the Python twin ---------------------------------------------------------------------
# A python3 that can import aiohttp (Debian's), else whatever python3 there is.
cmp_python=''
for cmp_candidate in /usr/bin/python3 python3; do
    if "$cmp_candidate" -c 'import aiohttp' 2>/dev/null; then
        cmp_python=$cmp_candidate
        break
    fi
done
[ -n "$cmp_python" ] || cmp_python=$(command -v python3)
cmp_py=''
if [ -n "$cmp_url" ] && [ -n "$cmp_python" ]; then
    bench_status "twins/perf_compare.py --rounds 3"
    cmp_py=$(timeout -k 2 300 "$cmp_python" chapters/12-comparison/twins/perf_compare.py \
        --url "$cmp_url" --requests 10 --delay 0.2 --tasks 4 --numbers 5000000 --workers 2 \
        --rounds 3 2>&1) || {
        bench_warn "the Python twin failed: $(tail -3 <<<"$cmp_py")"
        cmp_py=''
    }
fi
# cmp_py_row GROUP NAME: the twin's "x1.93 faster" (or its note) for that row.
cmp_py_row() {
    grep -m1 -E "^$1 +$2 " <<<"$cmp_py" | sed -E 's/.*(x[0-9.]+ (faster|slower)|not measured.*)$/\1/'
}
if [ -z "$cmp_py" ]; then
    bench_row "Python twin (twins/perf_compare.py)" \
        "$([ -n "$cmp_python" ] && echo "? (the twin failed)" || echo "not measured: no python3")" \
        "-" "-"
else
    bench_row "Python twin: 10 x /delay/0.2, threads vs sequential" "$(cmp_py_row io threads)" \
        "-" "-"
    bench_row "  asyncio + aiohttp vs sequential" "$(cmp_py_row io asyncio)" "-" "-"
    bench_row "Python twin: sum of squares, the ceiling (2 copies)" \
        "$(grep -m1 -oE '^ceiling: x[0-9.]+ (faster|slower)' <<<"$cmp_py" | cut -d' ' -f2-)" "-" "-"
    bench_row "  2 threads vs sequential (the real GIL)" "$(cmp_py_row cpu threads)" "-" "-"
    bench_row "  2 processes vs sequential" "$(cmp_py_row cpu processes)" "-" "-"
fi
cmp_py_ns=$(sed -nE 's/^cpu per number: ([0-9.]+) ns.*/\1/p' <<<"$cmp_py")
bench_row "sum of squares, time per number: C / Python" \
    "${cmp_c_ns:-?} / ${cmp_py_ns:-?} ns" "-" "-"
if [ -n "$cmp_c_ns" ] && [ -n "$cmp_py_ns" ]; then
    bench_row "  C vs Python, per number" "$(bench_ratio_text "$cmp_py_ns" "$cmp_c_ns")" "-" "-"
fi

# ---- 3. news_scraper ------------------------------------------------------------------------
# news_scraper's "winner: the event loop, 0.0281 s (threads 0.0511 s, processes 0.0447 s)".
cmp_winner=''
if [ -n "$cmp_url" ] && bench_run chapters/12-comparison news_scraper --url="$cmp_url" \
    --pages=100 --rounds=5; then
    cmp_winner=$(sed -nE 's/^winner: //p' <<<"$BENCH_OUT")
fi
bench_row "news_scraper: 100 pages, best of 5, the winner" "${cmp_winner%%,*}" "-" "-"
if [ -n "$cmp_winner" ]; then
    cmp_time=${cmp_winner% (*}
    bench_row "  its time" "${cmp_time##*, }" "-" "-"
    cmp_others=${cmp_winner#* (}
    while read -r cmp_way; do
        bench_row "  $(sed -E 's/ [0-9.]+ s$//' <<<"$cmp_way")" \
            "$(grep -oE '[0-9.]+ s$' <<<"$cmp_way")" "-" "-"
    done < <(sed 's/)$//; s/, /\n/g' <<<"$cmp_others")
fi

if [ -n "$cmp_server_pid" ]; then
    kill "$cmp_server_pid" 2>/dev/null
    wait "$cmp_server_pid" 2>/dev/null
fi
rm -f "$cmp_server_out" "$cmp_csv"
