#!/usr/bin/env bats
# Chapter 10, async HTTP with libcurl: the four fetchers against the kit's local server (one per
# suite, started in setup_file). Each test checks the per-URL lines, the summary and the exit
# code; concurrency is proved by the server's own count of requests in flight (/stats), not by
# timing: sequential had 1 in flight, threads W, async all of them, limited never more than K.

load ../helpers
load ../server

FETCHERS=(fetch_sequential fetch_threads fetch_async fetch_limited)

setup_file() {
    start_local_server
    start_truncating_server
}

teardown_file() {
    kill "$TRUNCATING_PID" 2>/dev/null
    stop_local_server
}

# A port on 127.0.0.1 where nothing listens: bound by the kernel's choice, then closed.
refused_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The local server has no endpoint that hangs up in the middle of a body, so this one does:
# every connection gets a head promising 1000 bytes, 10 of them, and a close. It runs for the
# whole suite (stopped in teardown_file); its URL is in $TRUNCATING_URL.
start_truncating_server() {
    local port_file="$BATS_FILE_TMPDIR/truncating.port"
    setpriv --pdeathsig TERM -- python3 -c '
import socket, sys
listener = socket.create_server(("127.0.0.1", 0))
with open(sys.argv[1] + ".tmp", "w") as f:
    print(listener.getsockname()[1], file=f)
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    client, _ = listener.accept()
    client.recv(4096)
    client.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
    client.close()
' "$port_file" </dev/null >/dev/null 2>&1 3>&- &
    TRUNCATING_PID=$!
    local tries=0
    until [ -s "$port_file" ] || [ $tries -ge 250 ]; do sleep 0.02; tries=$((tries + 1)); done
    [ -s "$port_file" ] || { echo "the truncating server did not start" >&2; return 1; }
    export TRUNCATING_PID TRUNCATING_URL="http://127.0.0.1:$(cat "$port_file")/truncated"
}

# run_in_session PROG [ARGS...]: run_prog, as the leader of a new session, then check that no
# process of that session is left (the local server a program started must be stopped). With
# NOFILE set, the program runs under `ulimit -n $NOFILE`.
run_in_session() {
    local prog
    prog=$(prog_path "$1")
    shift
    run timeout -k 2 "$(kit_timeout 30)" setsid bash -c \
        'echo $$ >"$0"; [ -z "$1" ] || ulimit -n "$1" || exit 99; shift; exec "$@"' \
        "$BATS_TEST_TMPDIR/sid" "${NOFILE:-}" "$prog" "$@"
    local sid left
    sid=$(cat "$BATS_TEST_TMPDIR/sid")
    left=$(ps -eo sid=,pid=,stat=,args= | awk -v sid="$sid" '$1 == sid')
    [ -z "$left" ] || fail "left running after the program exited: $left"
}

@test "each fetcher with no URL starts the local server, fetches, stops it, and says OK" {
    local prog
    for prog in "${FETCHERS[@]}"; do
        run_in_session "$prog"
        assert_success
        assert_line --regexp '^ok +200 +[0-9]+ bytes +[0-9.]+ s +http://127\.0\.0\.1:[0-9]+/delay/0\.2$'
        assert_line --regexp '^OK: all [0-9]+ transfers succeeded$'
    done
}

@test "SIGTERM to a fetcher, or Ctrl-C to its group, stops and reaps the server it started" {
    local run signal target
    for run in fetch_sequential "fetch_threads --workers=1" "fetch_limited --max-in-flight=1"; do
        local words=($run) # the program, then its options
        local prog=${words[0]}
        for signal in TERM INT; do
            # The program leads a new session (its pid is the session and group id) with SIGINT
            # back to its default (bash ignores it in background jobs); setsid --wait forks
            # first if it must, and waits.
            rm -f "$BATS_TEST_TMPDIR/pid" "$BATS_TEST_TMPDIR/out"
            setsid --wait bash -c 'echo $$ >"$0"; exec env --default-signal=INT "$@"' \
                "$BATS_TEST_TMPDIR/pid" "$(prog_path "$prog")" "${words[@]:1}" -n 50 \
                >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null 3>&- &
            local waiter=$! tries=0
            until grep -qs '^ok ' "$BATS_TEST_TMPDIR/out" || [ $tries -ge 500 ]; do
                sleep 0.02
                tries=$((tries + 1))
            done
            grep -q '^ok ' "$BATS_TEST_TMPDIR/out" || fail "$prog printed no line: $(cat "$BATS_TEST_TMPDIR/out")"
            local pid
            pid=$(cat "$BATS_TEST_TMPDIR/pid")
            target=$pid
            [ "$signal" = INT ] && target=-$pid # Ctrl-C reaches the whole group
            kill -"$signal" -- "$target"
            local status=0
            wait "$waiter" || status=$?
            [ "$status" -ne 0 ] || fail "$prog exited 0 after SIG$signal"
            grep -q "^$prog: SIG$signal: stopped and reaped 1 child process before dying of it\$" \
                "$BATS_TEST_TMPDIR/out" ||
                fail "$prog did not say so: $(tail -2 "$BATS_TEST_TMPDIR/out")"
            local left
            left=$(ps -eo sid=,pid=,stat=,args= | awk -v sid="$pid" '$1 == sid')
            [ -z "$left" ] || fail "left after SIG$signal to $prog: $left"
        done
    done
}

@test "an error exit after the local server started stops and reaps it too" {
    # No URL: the server starts, then 500 transfers at once cannot have their descriptors.
    local run
    for run in "fetch_async -n 500" "fetch_limited --max-in-flight=500 -n 500"; do
        local words=($run) # the program, then its options
        NOFILE=64 run_in_session "${words[@]}"
        assert_failure 1
        assert_line --regexp "^${words[0]}: out of file descriptors: 64 allowed \(ulimit -n\), 500 transfers at once need about 5[0-9][0-9] "
    done
}

@test "a URL's line gives its status, its bytes and its time; the summary counts them" {
    local prog
    for prog in "${FETCHERS[@]}"; do
        run_prog "$prog" "$KIT_SERVER_URL/bytes/4096" "$KIT_SERVER_URL/json"
        assert_success
        assert_line --regexp "^ok +200 +4096 bytes +[0-9.]+ s +$KIT_SERVER_URL/bytes/4096\$"
        assert_line --regexp '^summary: 2 transfers, 2 ok, 0 HTTP error statuses, 0 transport errors;'
        assert_line 'OK: all 2 transfers succeeded'
    done
}

@test "fetch_sequential has one request in flight at a time" {
    server_stats_reset
    run_prog fetch_sequential -n 4 "$KIT_SERVER_URL/delay/0.1"
    assert_success
    [ "$(server_stat max_in_flight)" -eq 1 ]
}

@test "fetch_threads has as many requests in flight as it has workers" {
    server_stats_reset
    run_prog fetch_threads --workers=4 -n 8 "$KIT_SERVER_URL/delay/0.5"
    assert_success
    assert_line '4 worker threads'
    [ "$(server_stat max_in_flight)" -eq 4 ]
}

@test "fetch_async has all its requests in flight at once, past select's 1024 descriptors" {
    server_stats_reset
    # Each request waits 2 s at the server: starting 1500 transfers took over 0.5 s at a load
    # of 20 on 2 CPUs, and the first had ended before the last began (721 in flight at most).
    run_prog fetch_async --quiet --timeout=30 -n 1500 "$KIT_SERVER_URL/delay/2"
    assert_success
    assert_line 'OK: all 1500 transfers succeeded'
    local max
    max=$(server_stat max_in_flight)
    [ "$max" -gt 1024 ] || fail "at most $max requests were in flight at once, expected over 1024"
}

@test "fetch_limited never has more than K in flight, and has K (the server's count)" {
    server_stats_reset
    run_prog fetch_limited --max-in-flight=3 -n 12 "$KIT_SERVER_URL/delay/0.2"
    assert_success
    assert_line 'OK: all 12 transfers succeeded'
    [ "$(server_stat requests)" -ge 12 ]
    [ "$(server_stat max_in_flight)" -eq 3 ]
}

@test "every kind of failure gets its own line, the other transfers finish, and the exit is 1" {
    local port prog
    port=$(refused_port)
    for prog in "${FETCHERS[@]}"; do
        # fetch_limited would retry three of these: -r 0 makes it give up at once like the rest.
        local retries=()
        [ "$prog" = fetch_limited ] && retries=(--retries=0)
        run_prog "$prog" --timeout=0.5 "${retries[@]}" "http://127.0.0.1:$port/" \
            http://no-such-host.invalid/ "$KIT_SERVER_URL/stall" "$KIT_SERVER_URL/status/500" \
            "$KIT_SERVER_URL/status/404" "$TRUNCATING_URL" "$KIT_SERVER_URL/json"
        assert_failure 1
        assert_line --regexp "^error +--- .* http://127\.0\.0\.1:$port/: transport error: Couldn't connect to server \(.*\)\$"
        assert_line --regexp "^error +--- .* http://no-such-host\.invalid/: transport error: Couldn't resolve host name \(.*\)\$"
        assert_line --regexp "^error +--- .* s +$KIT_SERVER_URL/stall: transport error: Timeout was reached \(.*\)\$"
        assert_line --regexp "^http +500 .* $KIT_SERVER_URL/status/500: HTTP error status 500\$"
        assert_line --regexp "^http +404 .* $KIT_SERVER_URL/status/404: HTTP error status 404\$"
        assert_line --regexp "^ok +200 .* $KIT_SERVER_URL/json\$"
        assert_line --regexp "^error +--- +10 bytes .* $TRUNCATING_URL: transport error: Transferred a partial file \(.*\)\$"
        assert_line --regexp '^summary: 7 transfers, 1 ok, 2 HTTP error statuses, 4 transport errors;'
        assert_line 'FAILED: 6 of 7 transfers failed'
    done
}

# run_limited N PROG [ARGS...]: run_prog under `ulimit -n N` (soft and hard: the program cannot
# raise it back).
run_limited() {
    local limit=$1 prog
    prog=$(prog_path "$2")
    shift 2
    run timeout -k 2 "$(kit_timeout 30)" bash -c 'ulimit -n "$1" && shift && exec "$@"' \
        limited "$limit" "$prog" "$@"
}

@test "too few descriptors for the transfers at once: one line says so, before any transfer" {
    local run
    for run in "fetch_async -n 100" "fetch_threads --workers=100 -n 100" \
        "fetch_limited --max-in-flight=100 -n 100"; do
        local words=($run) # the program, then its options
        run_limited 64 "${words[@]}" "$KIT_SERVER_URL/json"
        assert_failure 1
        assert_line --regexp "^${words[0]}: out of file descriptors: 64 allowed \(ulimit -n\), 100 transfers at once need about 1[0-9][0-9] "
        refute_line --regexp '^(ok|error|http) '
        [ "${#lines[@]}" -eq 1 ] || fail "expected one line: $output"
    done
    # What fits is not refused: one at a time, or two threads.
    run_limited 32 fetch_sequential -n 3 "$KIT_SERVER_URL/json"
    assert_success
    run_limited 32 fetch_threads --workers=2 -n 4 "$KIT_SERVER_URL/json"
    assert_success
}

@test "descriptors that run out mid-run: each transfer says so, and the verdict names the cause" {
    # The truncating server closes every connection, so each transfer opens a new socket. Once
    # the run has begun, its limit drops to 3 descriptors (stdin, stdout, stderr): every
    # socket() after that fails with EMFILE, which curl alone calls "Couldn't connect".
    local out="$BATS_TEST_TMPDIR/out"
    timeout -k 2 "$(kit_timeout 30)" "$(prog_path fetch_limited)" --max-in-flight=1 \
        --retries=0 -n 10000 "$TRUNCATING_URL" >"$out" 2>&1 3>&- &
    local job=$! tries=0
    until grep -q '^error ' "$out" || [ $tries -ge 500 ]; do
        sleep 0.02
        tries=$((tries + 1))
    done
    prlimit --pid "$(pgrep -P "$job")" --nofile=3:3 || fail "prlimit failed: $(cat "$out")"
    local status=0
    wait "$job" || status=$?
    [ "$status" -eq 1 ] || fail "exit $status: $(tail -3 "$out")"
    grep -q "^error .* $TRUNCATING_URL: transport error: out of file descriptors: 3 allowed (ulimit -n) (EMFILE; curl: Couldn't connect to server)\$" "$out" ||
        fail "no line names EMFILE: $(tail -3 "$out")"
    grep -qE '^FAILED: 10000 of 10000 transfers failed, [0-9]+ of them out of file descriptors: 3 allowed \(ulimit -n\)$' "$out" ||
        fail "the verdict does not name the cause: $(tail -3 "$out")"
}

@test "fetch_threads out of threads (ulimit -u): a note, and the workers it has fetch every URL" {
    # root is exempt from ulimit -u: run as nobody, which then may have 6 threads and processes.
    [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null ||
        skip "needs root and setpriv to run a program as nobody under ulimit -u"
    [ "$(pgrep -c -u 65534)" -eq 0 ] || skip "user nobody already runs processes"
    prog_copy_for_nobody fetch_threads
    run timeout -k 2 "$(kit_timeout 30)" setpriv --reuid=65534 --regid=65534 --clear-groups \
        bash -c 'ulimit -u 6 && exec "$@"' limited "$nobody_copy" --workers=20 \
        -n 40 "$KIT_SERVER_URL/json"
    rm -rf "${nobody_copy%/*}"
    assert_success
    assert_line --regexp '^note: out of threads or processes after [1-6] of 20 workers \(ulimit -u: 6\): the [1-6] started fetch every URL$'
    assert_line --regexp '^[1-6] worker threads$'
    assert_line 'OK: all 40 transfers succeeded'
}

@test "fetch_limited retries a 5xx with exponential backoff until it succeeds" {
    local url="$KIT_SERVER_URL/flaky/2?id=retry-$BATS_TEST_NUMBER-$$"
    run_prog fetch_limited --backoff=0.05 "$url"
    assert_success
    assert_line --regexp "^retry +$(sed 's/[?.]/\\&/g' <<<"$url"): attempt 1 failed \(HTTP error status 5[0-9][0-9]\), next attempt in 0\.050 s\$"
    assert_line --partial 'attempt 2 failed (HTTP error status 5'
    assert_line --partial 'next attempt in 0.100 s'
    assert_line --regexp '^ok +200 .*\(3 attempts\)$'
}

@test "fetch_limited gives up after its retries, and never retries a 404 or a bad name" {
    local port
    port=$(refused_port)
    run_prog fetch_limited --retries=2 --backoff=0 "http://127.0.0.1:$port/" \
        "$KIT_SERVER_URL/status/404" http://no-such-host.invalid/ "$KIT_SERVER_URL/status/503"
    assert_failure 1
    assert_line --regexp "^error .* http://127\.0\.0\.1:$port/: transport error: .*\(3 attempts\)\$"
    assert_line --regexp "^http +503 .*\(3 attempts\)\$"
    assert_line --regexp "^http +404 .*HTTP error status 404\$"
    assert_line --regexp "^error .*no-such-host\.invalid/: transport error: Couldn't resolve host name \(.*\)\$"
    refute_line --regexp '^retry .*(status/404|no-such-host)'
}

@test "a failed write to stdout is reported and exits 1" {
    local prog
    for prog in "${FETCHERS[@]}"; do
        run bash -c '"$1" "$2" >/dev/full' _ "$(prog_path "$prog")" "$KIT_SERVER_URL/json"
        assert_failure 1
        assert_output --partial 'write to stdout'
    done
}

@test "fetch_threads is clean under ThreadSanitizer" {
    local dir
    dir=$(tsan_build 10-async-http)
    run timeout -k 2 "$(kit_timeout 60)" "$dir/fetch_threads" --workers=4 -n 8 "$KIT_SERVER_URL/json"
    assert_success
    refute_output --partial 'WARNING: ThreadSanitizer'
}
