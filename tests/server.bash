# The kit's local server for networked bats suites: one loop_server per suite, on a free port.
#
#   load ../server                 (after load ../helpers), then:
#   setup_file()    { start_local_server; }      # extra loop_server options may follow
#   teardown_file() { stop_local_server; }
#
# start_local_server exports KIT_SERVER_URL (http://127.0.0.1:PORT, no trailing slash),
# KIT_SERVER_PORT and KIT_SERVER_PID for every test of the suite, and fails the suite loudly,
# with the server's own messages, when it does not come up. stop_local_server stops it with
# SIGTERM (SIGKILL after 2 s) and fails if it did not exit cleanly (status 0): a sanitizer
# report from the server fails the suite. bats runs teardown_file even when tests failed; and
# should bats itself be killed, the server gets SIGTERM when the shell that started it exits
# (setpriv --pdeathsig), so nothing is left listening after `make test`.
#
#   server_stats_reset      zero the counters (/stats/reset) before a test that reads them
#   server_stat NAME        one figure of /stats: server_stat max_in_flight -> 20
#
# The server's stderr (its log) is in $KIT_SERVER_LOG.

# start_local_server [LOOP_SERVER_OPTIONS...]
start_local_server() {
    local program="$KIT_ROOT/$KIT_BUILD/chapters/09-servers/loop_server"
    local dir=${BATS_FILE_TMPDIR:?start_local_server belongs in setup_file}
    [ -x "$program" ] || {
        echo "start_local_server: $program is not built (make chapter-09)" >&2
        return 1
    }
    export KIT_SERVER_LOG="$dir/local-server.log"
    local port_file="$dir/local-server.port"
    rm -f "$port_file"
    # fd 3 is bats' own: a background process holding it would make bats wait for ever.
    setpriv --pdeathsig TERM -- "$program" --port=0 --port-file="$port_file" "$@" \
        >"$dir/local-server.out" 2>"$KIT_SERVER_LOG" </dev/null 3>&- &
    export KIT_SERVER_PID=$!
    local deadline=$((SECONDS + $(kit_timeout 10)))
    until [ -s "$port_file" ]; do
        if ! kill -0 "$KIT_SERVER_PID" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
            echo "start_local_server: loop_server did not start listening; its log:" >&2
            cat "$KIT_SERVER_LOG" >&2
            kill -KILL "$KIT_SERVER_PID" 2>/dev/null
            wait "$KIT_SERVER_PID" 2>/dev/null
            return 1
        fi
        sleep 0.02
    done
    export KIT_SERVER_PORT
    KIT_SERVER_PORT=$(cat "$port_file")
    export KIT_SERVER_URL="http://127.0.0.1:$KIT_SERVER_PORT"
}

# stop_local_server: SIGTERM, a bounded wait, SIGKILL if need be; fails unless it exited 0.
stop_local_server() {
    [ -n "${KIT_SERVER_PID:-}" ] || return 0
    kill -TERM "$KIT_SERVER_PID" 2>/dev/null
    local waited=0
    while kill -0 "$KIT_SERVER_PID" 2>/dev/null && [ "$waited" -lt 200 ]; do
        # A zombie still answers kill -0: bash reaps it in wait below.
        [[ $(ps -o stat= -p "$KIT_SERVER_PID" 2>/dev/null) == Z* ]] && break
        sleep 0.01
        waited=$((waited + 1))
    done
    if kill -0 "$KIT_SERVER_PID" 2>/dev/null && [[ $(ps -o stat= -p "$KIT_SERVER_PID") != Z* ]]; then
        echo "stop_local_server: loop_server still running 2 s after SIGTERM: killed" >&2
        kill -KILL "$KIT_SERVER_PID" 2>/dev/null
    fi
    local status=0
    wait "$KIT_SERVER_PID" 2>/dev/null || status=$?
    unset KIT_SERVER_PID
    if [ "$status" -ne 0 ]; then
        echo "stop_local_server: loop_server exited with status $status; its log:" >&2
        cat "$KIT_SERVER_LOG" >&2
        return 1
    fi
}

# Zero the counters of /stats (and forget /flaky ids): call before a test that reads them.
server_stats_reset() {
    curl -sS -m 5 -o /dev/null "$KIT_SERVER_URL/stats/reset"
}

# server_stat NAME: one number from /stats.
server_stat() {
    curl -sS -m 5 "$KIT_SERVER_URL/stats" | jq -e ".$1"
}
