#!/usr/bin/env bats
# Chapter 12, the comparison: perf_compare (I/O-bound work sequential / threads / event loop,
# CPU-bound work sequential / threads / processes / threads under a simulated GIL) and
# news_scraper (titles with threads, processes and the event loop), against the kit's local
# server (one per suite). The tests bound what the programs control: equal results, the server's
# own count of requests in flight, overlapping waits, at most one CPU busy under the simulated
# GIL, CPUs kept busy (on idle CPUs only). Speedups and the winner are figures: their targets
# live in tests/bench/12-comparison.sh.

load ../helpers
load ../server

setup_file() {
    start_local_server
}

teardown_file() {
    stop_local_server
}

# A port on 127.0.0.1 where nothing listens: bound by the kernel's choice, then closed.
refused_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The "at once" column of the last table row whose label matches REGEX.
at_once_on() {
    grep -E "^  $1 " <<<"$output" | tail -1 |
        sed -nE 's/.* s +([0-9]+\.[0-9]+) +(x[0-9.]+ (faster|slower)|baseline|fastest)$/\1/p'
}

# run_in_session PROG [ARGS...]: run_prog as the leader of a new session, then check that no
# process of that session is left (the local server and the workers must all be gone).
run_in_session() {
    local prog
    prog=$(prog_path "$1")
    shift
    run timeout -k 2 "$(kit_timeout 30)" setsid bash -c 'echo $$ >"$0"; exec "$@"' \
        "$BATS_TEST_TMPDIR/sid" "$prog" "$@"
    local sid left
    sid=$(cat "$BATS_TEST_TMPDIR/sid")
    left=$(ps -eo sid=,pid=,stat=,args= | awk -v sid="$sid" '$1 == sid')
    [ -z "$left" ] || fail "left running after the program exited: $left"
}

# wait_for_children PID N: until PID has N children (at most 10 s); fails otherwise.
wait_for_children() {
    local tries=0
    until [ "$(cat "/proc/$1/task/$1/children" 2>/dev/null | wc -w)" -ge "$2" ]; do
        [ $tries -lt 500 ] || fail "pid $1 never had $2 children"
        sleep 0.02
        tries=$((tries + 1))
    done
}

@test "perf_compare with no URL: its own server, the whole table, equal sums, the GIL on one CPU, nothing left" {
    run_in_session perf_compare
    assert_success
    assert_line --regexp '^I/O-bound: 8 requests to http://127\.0\.0\.1:[0-9]+/delay/0\.04 '
    local row
    for row in 'sequential \(libcurl easy\)' 'thread pool' 'event loop \(libcurl multi\)' \
        'sequential' 'process pool' 'threads \+ simulated GIL'; do
        assert_line --regexp "^  $row +[0-9.]+ s +[0-9.]+ s +[0-9.]+ +(baseline|x[0-9.]+ (faster|slower))\$"
    done
    assert_line 'sums: every task of every approach found the formula'"'"'s sum'
    # One after another is exactly one at a time; threads and the loop had all 8 in flight.
    assert_line --regexp '^waits: most transfers in flight at once: 1 one after another, 8 on threads, 8 on the event loop'
    assert_line --regexp '^GIL: 0 steps began while another ran; '
    assert_line 'OK: every transfer done, same sums everywhere; under the GIL one step ran at a time'
    # The CPU-bound speedups stand beside the ceiling of the same rounds: a copy of the
    # sequential way per worker (one per CPU, at least 2), or per CPU, the fewer.
    local copies
    copies=$(nproc)
    assert_line --regexp "^ceiling: x[0-9.]+ (faster|slower) \\($copies cop(y|ies) of the baseline's work"
    # No load can make a correctly locked run keep two CPUs busy (chapter 07's bound).
    at_most "$(at_once_on 'threads \+ simulated GIL')" 1.3
}

@test "perf_compare against the suite's server: every request counted, all in flight at once; CSV and chart" {
    server_stats_reset
    run_prog perf_compare --url="$KIT_SERVER_URL" --requests=6 --delay=0.15 --numbers=1e7 \
        --rounds=1 --csv="$BATS_TEST_TMPDIR/table.csv" --chart="$BATS_TEST_TMPDIR/chart.png"
    assert_success
    assert_line --regexp '^OK: '
    assert_line --regexp '^waits: most transfers in flight at once: 1 one after another, 6 on threads, 6 on the event loop '
    assert_line "CSV written to $BATS_TEST_TMPDIR/table.csv"
    assert_line "chart written to $BATS_TEST_TMPDIR/chart.png"
    [ "$(server_stat requests)" -eq 18 ] # 6 requests x 3 approaches, all reached the server
    [ "$(server_stat max_in_flight)" -eq 6 ]
    local csv="$BATS_TEST_TMPDIR/table.csv"
    [ "$(head -1 "$csv")" = workload,approach,wall_seconds,cpu_seconds,at_once,speedup ]
    [ "$(cut -d, -f1,2 "$csv" | tail -n +2 | tr '\n' ' ')" = \
        "io,sequential io,threads io,event_loop cpu,sequential cpu,threads cpu,processes cpu,threads_gil " ]
    [ "$(grep -cE '^[a-z]+,[a-z_]+(,[0-9]+\.[0-9]+){4}$' "$csv")" -eq 7 ] || fail "$(cat "$csv")"
    [ "$(head -c 8 "$BATS_TEST_TMPDIR/chart.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
        fail "the chart is not a PNG file"
}

@test "perf_compare keeps the CPUs busy with threads and with processes (needs 2 idle CPUs)" {
    [ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
    run_on_idle_cpus perf_compare --url="$KIT_SERVER_URL" --requests=2 --delay=0.01 \
        --numbers=1e8 --workers=2
    assert_success
    # A pool that ran its work one piece at a time keeps 1.0 CPU busy; both idle CPUs, 1.9-2.0.
    # The idle check averages over the whole run, the waits included, so a burst of other work
    # during the CPU rows alone can pass it: 1.3 leaves room for that and still fails a pool
    # that does not run in parallel.
    at_least "$(at_once_on 'thread pool')" 1.3 # the CPU-bound row, the last of the two
    at_least "$(at_once_on 'process pool')" 1.3
}

@test "perf_compare on one CPU: the waits still overlap, and it says ~x1.0 is honest for CPU work" {
    run_on_one_cpu perf_compare --url="$KIT_SERVER_URL" --requests=4 --numbers=1e7
    assert_success
    assert_line --regexp '^note: only 1 CPU: threads and processes can only take turns'
    assert_line --regexp '^waits: most transfers in flight at once: 1 one after another, 4 on threads, 4 on the event loop'
    assert_line --regexp '^OK: '
}

@test "perf_compare without gnuplot: a note instead of the chart, the table, OK" {
    run timeout -k 2 "$(kit_timeout 30)" env PATH=/nonexistent "$(prog_path perf_compare)" \
        --url="$KIT_SERVER_URL" --requests=2 --delay=0.05 --numbers=1e6 \
        --chart="$BATS_TEST_TMPDIR/none.png"
    assert_success
    assert_line --regexp '^note: no gnuplot on PATH .*: no chart drawn$'
    assert_line --regexp '^  process pool '
    assert_line --regexp '^waits: most transfers in flight at once: 1 one after another, 2 on threads, 2 on the event loop '
    assert_line --regexp '^OK: '
    [ ! -e "$BATS_TEST_TMPDIR/none.png" ]
}

@test "bad options and values exit 2 with the reason; an unwritable file exits 1 before measuring" {
    local args
    while read -r args; do
        run_prog perf_compare $args
        [ "$status" -eq 2 ] || fail "perf_compare $args: exit $status: $output"
        assert_output --partial 'Usage: perf_compare'
    done <<'EOF'
--requests=201
--delay=abc
--numbers=1e99
--requests=200 --delay=1
--tasks=64 --numbers=4e9
--csv=
stray-operand
EOF
    run_prog perf_compare --requests=200 --delay=1
    assert_output --partial 'over the cap of 30 s'
    while read -r args; do
        run_prog news_scraper $args
        [ "$status" -eq 2 ] || fail "news_scraper $args: exit $status: $output"
        assert_output --partial 'Usage: news_scraper'
    done <<'EOF'
--pages=501
--processes=abc
--url=
--pages=3 http://127.0.0.1:1/page
--url=http://127.0.0.1:1 http://127.0.0.1:1/page
EOF
    run_prog perf_compare --csv=/nonexistent/table.csv
    assert_failure 1
    assert_output --regexp 'open /nonexistent/table\.csv for the CSV: .*\(ENOENT\)'
    run_prog perf_compare --chart=/nonexistent/chart.png
    assert_failure 1
    assert_output --regexp 'open /nonexistent/chart\.png for the chart: .*\(ENOENT\)'
}

@test "a URL where nothing listens: a line per failed transfer naming it, FAILED, exit 1" {
    local port
    port=$(refused_port)
    run_prog perf_compare --url="http://127.0.0.1:$port" --requests=4 --numbers=1e6 --rounds=1
    assert_failure 1
    assert_line --regexp "^sequential: error +--- .* http://127\.0\.0\.1:$port/delay/0\.04: transport error: Couldn't connect to server"
    assert_line --regexp '^event_loop: \.\.\. and 1 more transfers failed$'
    assert_line --regexp '^FAILED: 12 transfers failed, 0 sums wrong, '
    run_prog news_scraper --url="http://127.0.0.1:$port" --pages=2 --rounds=1
    assert_failure 1
    assert_line --regexp "^processes: error +--- .* http://127\.0\.0\.1:$port/news/2: transport error: Couldn't connect to server"
    assert_line 'FAILED: 6 pages went wrong (above): not every way found every title'
    refute_line --regexp '^winner: '
}

@test "news_scraper with no URL: its own server, 12 titles once, the table, the winner, nothing left" {
    run_in_session news_scraper
    assert_success
    assert_line '    1  Local News 1: Library extends its opening hours'
    assert_line '   12  Local News 12: Farmers market moves to the old station'
    [ "$(grep -cE '^ +[0-9]+  Local News [0-9]+: ' <<<"$output")" -eq 12 ]
    assert_line --regexp '^  threads \(12\) +[0-9.]+ s '
    assert_line --regexp '^  event loop \(1 thread\) +[0-9.]+ s '
    assert_line --regexp '^winner: (threads|processes|the event loop), [0-9.]+ s \('
    [ "$(grep -c ' fastest$' <<<"$output")" -eq 1 ]
    assert_line 'OK: threads, processes and the event loop found the same 12 titles'
}

# Pages given as URLs: the server's, and two files (libcurl reads file:// the same three ways).
# The title is the document's own, html/head/title: a page without one is named, even when an
# inline SVG of its body has a <title> of its own; a page with one keeps it, whatever the SVG's.
@test "news_scraper with page URLs: each page's head title, and which pages had none" {
    local dir=$BATS_TEST_TMPDIR
    printf '<!DOCTYPE html>\n<html><body><p>No title of its own</p><svg><title>An icon</title></svg></body></html>\n' >"$dir/svg.html"
    printf '<html><head><title>The  page\n own title</title></head><body><svg><title>An icon</title></svg></body></html>\n' >"$dir/titled.html"
    run_prog news_scraper --rounds=1 "$KIT_SERVER_URL/news/7" "file://$dir/svg.html" \
        "file://$dir/titled.html" "$KIT_SERVER_URL/json"
    assert_success
    assert_line --regexp "^4 pages given, $KIT_SERVER_URL/news/7 first; "
    assert_line '    1  Local News 7: School robotics club heads to the nationals'
    assert_line "    2  (no title in the page's head) file://$dir/svg.html"
    assert_line '    3  The page own title'
    assert_line "    4  (no title in the page's head) $KIT_SERVER_URL/json"
    refute_output --partial 'An icon'
    assert_line 'OK: threads, processes and the event loop found the same 2 titles, and no title in the head of 2 pages (named above)'
}

@test "news_scraper with page URLs: a page that cannot be fetched is named, FAILED, exit 1" {
    local port
    port=$(refused_port)
    run_prog news_scraper --rounds=1 "$KIT_SERVER_URL/news/1" "http://127.0.0.1:$port/page"
    assert_failure 1
    assert_line --regexp "^threads: error +--- .* http://127\.0\.0\.1:$port/page: transport error: Couldn't connect to server"
    assert_line "    2  (not read) http://127.0.0.1:$port/page"
    assert_line 'FAILED: 3 pages went wrong (above): not every way found every title'
}

@test "news_scraper against the suite's server: every page fetched three ways each round, the right titles" {
    server_stats_reset
    run_prog news_scraper --url="$KIT_SERVER_URL" --pages=30 --threads=5 --processes=3 --rounds=2
    assert_success
    [ "$(server_stat requests)" -eq 180 ] # 30 pages x 3 ways x 2 rounds
    assert_line '   30  Local News 30: Record crowd at the summer festival'
    assert_line --regexp '^  processes \(3\) '
    assert_line 'OK: threads, processes and the event loop found the same 30 titles'
}

@test "news_scraper: a worker process killed mid-way is named and its pages are lost, not waited for" {
    # /stall?/news/N: the server never answers, so each worker waits (3 s timeout) for its page.
    # The workers are the scraper's only children (--url: no local server). Their pids are read
    # with the shell's own read, no process started between seeing them and killing one: on a
    # busy machine a test that forks to look can miss the whole window.
    local out="$BATS_TEST_TMPDIR/out" tries=0
    rm -f "$BATS_TEST_TMPDIR/pid"
    timeout -k 2 "$(kit_timeout 30)" bash -c 'echo $$ >"$0"; exec "$@"' "$BATS_TEST_TMPDIR/pid" \
        "$(prog_path news_scraper)" --url="$KIT_SERVER_URL/stall?" --timeout=3 --pages=2 \
        --threads=2 --processes=2 --rounds=1 >"$out" 2>&1 3>&- &
    local waiter=$!
    until [ -s "$BATS_TEST_TMPDIR/pid" ] || [ $tries -ge 500 ]; do
        sleep 0.02
        tries=$((tries + 1))
    done
    local scraper kids=()
    scraper=$(cat "$BATS_TEST_TMPDIR/pid")
    tries=0
    until [ ${#kids[@]} -ge 2 ]; do # the threads' 3 s first, then the workers
        [ $tries -lt 1500 ] || fail "never saw 2 worker processes: $(cat "$out")"
        { read -r -a kids || true; } 2>/dev/null <"/proc/$scraper/task/$scraper/children"
        sleep 0.01
        tries=$((tries + 1))
    done
    local victim=${kids[0]}
    kill -KILL "$victim"
    local status=0
    wait "$waiter" || status=$?
    output=$(cat "$out")
    mapfile -t lines <"$out" # what bats' run would have set, for assert_line
    [ "$status" -eq 1 ] || fail "exit $status: $output"
    assert_line --regexp "^processes: worker [01] \(pid $victim\) was killed by signal 9 "
    assert_line --regexp "^processes: http://.*/news/[12]: lost: its worker process died\$"
    assert_line --regexp '^FAILED: '
}

@test "perf_compare: SIGTERM while the process pool runs stops and reaps the workers and the server" {
    rm -f "$BATS_TEST_TMPDIR/pid"
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$BATS_TEST_TMPDIR/pid" "$(prog_path perf_compare)" \
        --requests=2 --delay=0.01 --tasks=2 --numbers=5e8 >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
    local waiter=$! tries=0
    until [ -s "$BATS_TEST_TMPDIR/pid" ] || [ $tries -ge 250 ]; do sleep 0.02; tries=$((tries + 1)); done
    local pid
    pid=$(cat "$BATS_TEST_TMPDIR/pid")
    wait_for_children "$pid" 3 # the local server and 2 pool workers
    kill -TERM "$pid"
    local status=0
    wait "$waiter" || status=$?
    [ "$status" -ne 0 ] || fail "exited 0 after SIGTERM"
    grep -q 'SIGTERM: stopped and reaped 3 child processes' "$BATS_TEST_TMPDIR/out" ||
        fail "$(cat "$BATS_TEST_TMPDIR/out")"
    local left
    left=$(ps -eo sid=,pid=,stat=,args= | awk -v sid="$pid" '$1 == sid')
    [ -z "$left" ] || fail "left after SIGTERM: $left"
}
