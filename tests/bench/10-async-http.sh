# Chapter 10, async HTTP: rows for tests/bench/run (sourced; its bench_* functions are in scope).
# One local server (chapter 09's loop_server) serves every row, side by side in one run.
# 1. 1,000 requests to /delay/0.5 all at once: fetch_async (libcurl multi on the epoll loop) and
#    its Python twin (asyncio.gather of aiohttp requests, Debian's python3-aiohttp), 3 rounds
#    each, alternating, best of 3 for each figure. Targets: fetch_async's wall time <= 0.7 s;
#    its CPU time <= half the twin's. Both measure the CPU time of the transfers only.
#    Why half and not less: about half of fetch_async's CPU time is the kernel's work for
#    1,000 loopback connections, which both programs pay, and most of the rest is libcurl's own
#    per-transfer work, which the kit cannot trim.
# 2. 5,000 transfers at once with fetch_async (fd limits raised by both programs): all must
#    succeed; the server's /stats says how many were in flight at once.
# 3. 50 x /delay/0.2: fetch_sequential, fetch_threads (10 and 50 workers) and fetch_async,
#    wall time, speed-up over sequential and peak memory (figures; async has a target of x10).

http_server_out=$(mktemp)
http_server_pid=''
http_url=''
"$KIT_BUILD/chapters/09-servers/loop_server" --port 0 >"$http_server_out" 2>&1 &
http_server_pid=$!
for _ in $(seq 100); do
    http_url=$(sed -nE 's|^listening on (http://127\.0\.0\.1:[0-9]+).*|\1|p' "$http_server_out")
    [ -n "$http_url" ] && break
    sleep 0.05
done
[ -n "$http_url" ] || bench_warn "loop_server did not start: $(cat "$http_server_out")"

# After a fetcher failed: say why (its first failed line), and whether the server still runs.
http_explain_failure() {
    bench_warn "$(grep -m1 -E '^(error|http) ' <<<"$BENCH_OUT")"
    kill -0 "$http_server_pid" 2>/dev/null ||
        bench_warn "loop_server is gone; its last lines: $(tail -3 "$http_server_out")"
}

# http_field NAME: the number after NAME (wall, cpu, memory) on BENCH_OUT's summary line.
http_field() {
    grep -m1 '^summary:' <<<"$BENCH_OUT" | sed -nE "s/.*$1 ([0-9]+(\.[0-9]+)?).*/\1/p"
}

# The smaller of two numbers, either of which may be empty.
http_min() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "") print b; else if (b == "" || a + 0 <= b + 0) print a; else print b }'
}

http_max_in_flight() {
    curl -sf --max-time 5 "$http_url/stats" | sed -nE 's/.*"max_in_flight": *([0-9]+).*/\1/p'
}

# A python3 that can import aiohttp: Debian's, whatever python3 comes first on PATH.
http_python=''
for candidate in /usr/bin/python3 python3; do
    if "$candidate" -c 'import aiohttp' 2>/dev/null; then
        http_python=$candidate
        break
    fi
done

# ---- 1. 1,000 x /delay/0.5: fetch_async vs asyncio + aiohttp ---------------------------------
http_c_wall='' http_c_cpu='' http_c_mem='' http_py_wall='' http_py_cpu='' http_py_mem=''
if [ -n "$http_url" ]; then
    for _ in 1 2 3; do
        if bench_run chapters/10-async-http fetch_async --quiet -n 1000 "$http_url/delay/0.5"; then
            http_c_wall=$(http_min "$http_c_wall" "$(http_field wall)")
            http_c_cpu=$(http_min "$http_c_cpu" "$(http_field cpu)")
            http_c_mem=$(http_min "$http_c_mem" "$(http_field memory)")
        else
            http_explain_failure
        fi
        [ -n "$http_python" ] || continue
        bench_status "twins/fetch_async.py -n 1000"
        if BENCH_OUT=$(timeout -k 2 300 "$http_python" chapters/10-async-http/twins/fetch_async.py \
            --quiet -n 1000 "$http_url/delay/0.5" 2>&1); then
            http_py_wall=$(http_min "$http_py_wall" "$(http_field wall)")
            http_py_cpu=$(http_min "$http_py_cpu" "$(http_field cpu)")
            http_py_mem=$(http_min "$http_py_mem" "$(http_field memory)")
        else
            bench_warn "the aiohttp twin failed: $(tail -3 <<<"$BENCH_OUT")"
        fi
    done
fi
bench_row "fetch_async: 1,000 x /delay/0.5 at once, wall time" \
    "${http_c_wall:+$http_c_wall s}" "<= 0.7 s" "$(bench_at_most "$http_c_wall" 0.7)"
bench_row "  its memory" "${http_c_mem:+$http_c_mem MiB}" "-" "-"
if [ -n "$http_python" ]; then
    http_half=$(awk -v p="$http_py_cpu" 'BEGIN { if (p != "") printf "%.3f", p / 2 }')
    bench_row "  asyncio + aiohttp twin: wall, CPU" \
        "${http_py_wall:+$http_py_wall s, $http_py_cpu s}" "-" "-"
    bench_row "  the twin's memory" "${http_py_mem:+$http_py_mem MiB}" "-" "-"
    bench_row "  fetch_async's CPU time (target: half the twin's)" "${http_c_cpu:+$http_c_cpu s}" \
        "<= ${http_half:-?} s" "$(bench_at_most "$http_c_cpu" "${http_half:-0}")"
else
    bench_row "  fetch_async's CPU time (no python3-aiohttp: no twin to judge it by)" \
        "${http_c_cpu:+$http_c_cpu s}" "-" "-"
fi

# ---- 2. 5,000 at once ---------------------------------------------------------------------------
http_5k_ok='' http_5k_wall='' http_5k_in_flight=''
if [ -n "$http_url" ]; then
    curl -sf --max-time 5 -o /dev/null "$http_url/stats/reset"
    if bench_run chapters/10-async-http fetch_async --quiet --timeout=30 -n 5000 \
        "$http_url/delay/0.5"; then
        http_5k_ok=$(grep -m1 '^summary:' <<<"$BENCH_OUT" | sed -nE 's/.*, ([0-9]+) ok,.*/\1/p')
        http_5k_wall=$(http_field wall)
        http_5k_in_flight=$(http_max_in_flight)
    else
        http_explain_failure
    fi
fi
bench_row "fetch_async: 5,000 x /delay/0.5 at once, transfers ok" "$http_5k_ok" "all 5000" \
    "$(bench_at_least "$http_5k_ok" 5000)"
bench_row "  their wall time" "${http_5k_wall:+$http_5k_wall s}" "-" "-"
bench_row "  most in flight at once (the server's /stats)" "$http_5k_in_flight" "-" "-"

# ---- 3. 50 x /delay/0.2: sequential vs threads vs async -----------------------------------------
http_seq_wall=''
if [ -n "$http_url" ] &&
    bench_run chapters/10-async-http fetch_sequential --quiet -n 50 "$http_url/delay/0.2"; then
    http_seq_wall=$(http_field wall)
elif [ -n "$http_url" ]; then
    http_explain_failure
fi
bench_row "50 x /delay/0.2, fetch_sequential: wall, memory" \
    "${http_seq_wall:+$http_seq_wall s, $(http_field memory) MiB}" "-" "-"

# http_compare WHAT TARGET PROG [ARGS...]: its wall time and memory, and its speed-up over
# sequential.
http_compare() {
    local what=$1 target=$2 wall='' speedup=''
    shift 2
    if [ -n "$http_url" ] && bench_run chapters/10-async-http "$@" --quiet -n 50 \
        "$http_url/delay/0.2"; then
        wall=$(http_field wall)
        speedup=$(awk -v s="$http_seq_wall" -v w="$wall" 'BEGIN { if (s > 0 && w > 0) printf "%.1f", s / w }')
    elif [ -n "$http_url" ]; then
        http_explain_failure
    fi
    bench_row "  $what: wall, memory" "${wall:+$wall s, $(http_field memory) MiB}" "-" "-"
    bench_row "    its speed-up over sequential" \
        "${speedup:+$(bench_ratio_text "$http_seq_wall" "$wall")}" "${target:--}" \
        "$([ -n "$target" ] && bench_at_least "$speedup" "${target#>= x}" || echo -)"
}
http_compare "fetch_threads, 10 workers" "" fetch_threads --workers=10
http_compare "fetch_threads, 50 workers" "" fetch_threads --workers=50
http_compare "fetch_async, one thread" ">= x10" fetch_async

if [ -n "$http_server_pid" ]; then
    kill "$http_server_pid" 2>/dev/null
    wait "$http_server_pid" 2>/dev/null
fi
rm -f "$http_server_out"
