# Chapter 09, servers: rows for tests/bench/run (sourced; its bench_* functions are in scope).
# 1. /json requests per second, `wrk -t1 -c50` on loopback: loop_server against nginx with one
#    worker serving a file with the same bytes (no access log), side by side in this run, in
#    alternating rounds, best of 3 each. Target: loop_server at x1.0 of nginx or better.
#    thread_server in the same rounds, for the chapter's comparison (no target).
# 2. What 1000 idle connections cost each server: threads and resident memory (c10k_client).
# 3. C10K: 10,000 connections held, the time a newcomer waits for /json (target <= 50 ms), and
#    500 concurrent /delay/0.5 requests (target: done in 0.75 s or less, "about half a second").
# 4. Hostile clients: one connection pipelining 200 x HEAD /numbers/1000000, then a newcomer's
#    GET /json (target <= 150 ms: the loop serves a request a connection a turn); 40 clients
#    asking /bytes/10485760 and never reading, and what they add to loop_server's resident
#    memory (target < 64 MB: bodies are made 64 KiB at a time as the socket drains).
# Every server started here is stopped at the end, also when a step fails.

servers_dir=$(mktemp -d)
servers_pids=()

servers_cleanup() {
    local pid
    for pid in "${servers_pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${servers_pids[@]}"; do wait "$pid" 2>/dev/null; done
    servers_pids=()
    rm -rf "$servers_dir"
}
trap servers_cleanup EXIT

# servers_start NAME: one of chapter 09's servers on a free port; sets servers_port. (Not
# called in $(...): a subshell would lose the PID that servers_cleanup needs.)
servers_start() {
    "$KIT_BUILD/chapters/09-servers/$1" --port=0 --port-file="$servers_dir/$1.port" --quiet \
        >/dev/null 2>"$servers_dir/$1.log" </dev/null &
    servers_pids+=($!)
    local tries
    for tries in $(seq 500); do
        [ -s "$servers_dir/$1.port" ] && { servers_port=$(cat "$servers_dir/$1.port"); return 0; }
        sleep 0.01
    done
    bench_warn "$1 did not start: $(cat "$servers_dir/$1.log")"
    return 1
}

# A port nobody listens on (nginx cannot report the port it was given for port 0).
servers_free_port() {
    local port
    for _ in $(seq 100); do
        port=$((20000 + RANDOM % 20000))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
    done
    return 1
}

# servers_start_nginx BODY_FILE: nginx, 1 worker, serving BODY_FILE at /json; sets servers_port.
servers_start_nginx() {
    local port
    port=$(servers_free_port) || return 1
    cp "$1" "$servers_dir/json" && chmod 755 "$servers_dir" && chmod 644 "$servers_dir/json"
    cat >"$servers_dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $servers_dir/nginx.pid;
error_log $servers_dir/nginx-error.log;
$([ "$(id -u)" -eq 0 ] && echo "user root;")
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $servers_dir/nginx-body;
    proxy_temp_path $servers_dir/nginx-proxy;
    fastcgi_temp_path $servers_dir/nginx-fastcgi;
    uwsgi_temp_path $servers_dir/nginx-uwsgi;
    scgi_temp_path $servers_dir/nginx-scgi;
    server {
        listen 127.0.0.1:$port;
        location = /json { default_type application/json; alias $servers_dir/json; }
    }
}
EOF
    nginx -e "$servers_dir/nginx-error.log" -p "$servers_dir" -c "$servers_dir/nginx.conf" \
        </dev/null >/dev/null 2>&1 &
    servers_pids+=($!)
    for _ in $(seq 500); do
        curl -s -o /dev/null "http://127.0.0.1:$port/json" && { servers_port=$port; return 0; }
        sleep 0.01
    done
    bench_warn "nginx did not start: $(cat "$servers_dir/nginx-error.log")"
    return 1
}

# servers_wrk PORT: /json requests per second over 2 s, wrk -t1 -c50.
servers_wrk() {
    bench_status "wrk -t1 -c50 -d2s http://127.0.0.1:$1/json"
    wrk -t1 -c50 -d2s "http://127.0.0.1:$1/json" 2>/dev/null |
        awk '/^Requests\/sec:/ { printf "%.0f\n", $2 }'
}

servers_max() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 > b + 0) ? a : b }'; }

servers_loop_rps='' servers_nginx_rps='' servers_thread_rps=''
if servers_start loop_server && servers_loop_port=$servers_port &&
    servers_start thread_server && servers_thread_port=$servers_port &&
    curl -sS -o "$servers_dir/body" "http://127.0.0.1:$servers_loop_port/json" &&
    servers_start_nginx "$servers_dir/body" && servers_nginx_port=$servers_port; then
    for _ in 1 2 3; do # alternating rounds: a busy moment hurts both, not one
        servers_loop_rps=$(servers_max "$servers_loop_rps" "$(servers_wrk "$servers_loop_port")")
        servers_nginx_rps=$(servers_max "$servers_nginx_rps" "$(servers_wrk "$servers_nginx_port")")
        servers_thread_rps=$(servers_max "$servers_thread_rps" "$(servers_wrk "$servers_thread_port")")
    done
fi
servers_ratio=$(awk -v l="$servers_loop_rps" -v n="$servers_nginx_rps" \
    'BEGIN { if (n > 0 && l > 0) printf "%.2f", l / n }')
servers_ratio_text=''
[ -n "$servers_ratio" ] &&
    servers_ratio_text=$(bench_ratio_text "$servers_loop_rps" "$servers_nginx_rps")
bench_row "loop_server /json, wrk -t1 -c50 (best of 3 x 2 s)" \
    "${servers_loop_rps:+$servers_loop_rps req/s}" "-" "-"
bench_row "nginx, 1 worker, the same bytes, same rounds" \
    "${servers_nginx_rps:+$servers_nginx_rps req/s}" "-" "-"
bench_row "loop_server vs nginx" "$servers_ratio_text" "not slower" \
    "$(bench_at_least "$servers_ratio" 1.0)"
bench_row "thread_server /json (a thread per connection)" \
    "${servers_thread_rps:+$servers_thread_rps req/s}" "-" "-"

# servers_in_flight PORT: the "in_flight" figure of the server's /stats.
servers_in_flight() {
    curl -sS -m 5 "http://127.0.0.1:$1/stats" | grep -oE '"in_flight": [0-9]+' | grep -oE '[0-9]+$'
}

servers_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

servers_hog_ms='' servers_rss_mb=''
if servers_start loop_server; then
    servers_pid=${servers_pids[-1]}
    exec {servers_hog}<>"/dev/tcp/127.0.0.1/$servers_port"
    for _ in $(seq 200); do printf 'HEAD /numbers/1000000 HTTP/1.1\r\nHost: x\r\n\r\n'; done \
        >&"$servers_hog"
    sleep 0.05
    servers_hog_ms=$(curl -sS -o /dev/null -w '%{time_total}' "http://127.0.0.1:$servers_port/json" |
        awk '{ printf "%.1f", $1 * 1000 }')
    exec {servers_hog}>&-
    servers_rss_before=$(servers_rss_kb "$servers_pid") servers_readers=()
    for _ in $(seq 40); do
        exec {servers_fd}<>"/dev/tcp/127.0.0.1/$servers_port"
        printf 'GET /bytes/10485760 HTTP/1.1\r\nHost: x\r\n\r\n' >&"$servers_fd"
        servers_readers+=("$servers_fd")
    done
    for _ in $(seq 500); do
        [ "$(servers_in_flight "$servers_port")" = 40 ] && break
        sleep 0.02
    done
    [ "$(servers_in_flight "$servers_port")" = 40 ] &&
        servers_rss_mb=$(awk -v a="$(servers_rss_kb "$servers_pid")" -v b="$servers_rss_before" \
            'BEGIN { printf "%.1f", (a - b) / 1024 }')
    for servers_fd in "${servers_readers[@]}"; do exec {servers_fd}>&-; done
fi
servers_cleanup
bench_row "loop_server: GET /json beside 200 pipelined HEADs" \
    "${servers_hog_ms:+$servers_hog_ms ms}" "<= 150 ms" "$(bench_at_most "$servers_hog_ms" 150)"
bench_row "loop_server: memory added by 40 clients not reading" \
    "${servers_rss_mb:+$servers_rss_mb MB}" "< 64 MB" "$(bench_at_most "$servers_rss_mb" 63.9)"

# What c10k_client saw the server hold ("the server holds 1000: 2 threads, 3.6 MB resident") as
# its threads and memory: "2, 3.6 MB".
servers_held() {
    grep -m1 -oE 'the server holds [0-9]+: .*' <<<"$BENCH_OUT" |
        sed -E 's/.*: ([0-9]+) threads?, ([0-9.]+ MB) resident.*/\1, \2/'
}

for servers_kind in loop thread; do
    servers_cost=''
    bench_run chapters/09-servers c10k_client --server=$servers_kind --connections=1000 \
        --delays=0 && servers_cost=$(servers_held)
    bench_row "1000 idle connections: ${servers_kind}_server's threads, RSS" "$servers_cost" "-" "-"
done

servers_newcomer='' servers_delays=''
if bench_run chapters/09-servers c10k_client --connections=10000 --delays=500 --delay=0.5; then
    servers_newcomer=$(grep -m1 -oE 'in [0-9.]+ ms' <<<"$BENCH_OUT" | grep -oE '[0-9.]+')
    servers_delays=$(grep -m1 -E '^3\. ' <<<"$BENCH_OUT" | grep -oE 'in [0-9.]+ s' | grep -oE '[0-9.]+')
fi
bench_row "loop_server, 10,000 open: a newcomer's GET /json" \
    "${servers_newcomer:+$servers_newcomer ms}" "<= 50 ms" "$(bench_at_most "$servers_newcomer" 50)"
bench_row "loop_server: 500 x /delay/0.5 at once, time for all" \
    "${servers_delays:+$servers_delays s}" "<= 0.75 s" "$(bench_at_most "$servers_delays" 0.75)"
trap - EXIT
