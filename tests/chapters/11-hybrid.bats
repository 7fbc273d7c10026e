#!/usr/bin/env bats
# Chapter 11, hybrid: run_in_executor (computing in a loop callback stalls the loop; handing the
# work to a worker process does not) and fetch_and_process (curl on the loop, a process pool
# computing, results checked exactly against an independent computation in Python), against the
# kit's local server; Ctrl-C, SIGTERM to the parent alone, and a worker killed, each leaving
# nothing behind. The programs print the loop's lateness (less the time its thread waited for a
# CPU, see lib/ticker.h) beside the computations' CPU time; the tests judge it as a ratio of the
# two, the claim that holds on any machine; absolute figures are in make bench.

load ../helpers
load ../server
load ../processes

setup_file() {
    start_local_server
}

teardown_file() {
    stop_local_server
}

# expected_lines SEED... : the line fetch_and_process must print for each list
# $KIT_SERVER_URL/numbers/$NUMBERS?seed=SEED, computed here in Python with exact integers: the
# mean as sum / n and the standard deviation as sqrt(n * sum(x^2) - sum(x)^2) / n, as the C does.
expected_lines() {
    python3 - "$KIT_SERVER_URL" "$NUMBERS" "$@" <<'EOF'
import json, math, sys, urllib.request
url, numbers = sys.argv[1], sys.argv[2]
for index, seed in enumerate(sys.argv[3:], start=1):
    with urllib.request.urlopen(f"{url}/numbers/{numbers}?seed={seed}", timeout=10) as answer:
        data = json.load(answer)["data"]
    n, total, squares = len(data), sum(data), sum(x * x for x in data)
    std = math.sqrt(float(n * squares - total * total)) / n
    print(f"list {index} by worker [0-9]+ in [0-9.]+ ms: {n} numbers, "
          f"sum of squares {squares}, mean {total / n:.3f}, std {std:.3f}")
EOF
}

# ticker_and_cpu MODE: "LATE CPU" in ms for run_in_executor's MODE (loop or executor) in
# $output: the ticker's worst lateness less CPU waits, and what compute(n) took.
ticker_and_cpu() {
    awk -v mode="$1:" '
        $1 ~ /^(loop|executor):$/ { current = $1 }
        current == mode && /^   compute\(/ { for (i = 1; i < NF; i++) if ($(i + 1) == "ms") cpu = $i }
        current == mode && /^   the ticker fired / { sub(/.*late; /, ""); print $1, cpu; exit }' <<<"$output"
}

# stalled MODE yes|no: the loop stalled (late by half the computation or more), or not.
stalled() {
    local figures
    figures=$(ticker_and_cpu "$1")
    awk -v f="$figures" -v want="$2" 'BEGIN { split(f, x, " ")
        exit !(x[2] != "" && ((x[1] >= x[2] / 2) == (want == "yes"))) }' ||
        fail "$1: expected stalled=$2; late and CPU ms: '$figures': $output"
}

# loop_kept_time: fetch_and_process's ticker was late (less CPU waits) by less than half its
# longest computation, when that computation took four ticks (20 ms) or more: a shorter one
# cannot stall the ticker by much, so a stalled loop and a free one look alike.
loop_kept_time() {
    local late longest
    late=$(sed -nE 's/^ticker: .* late, ([0-9.]+) ms of it .*/\1/p' <<<"$output")
    longest=$(sed -nE 's/^overlap: .* took ([0-9.]+) ms of CPU$/\1/p' <<<"$output")
    awk -v l="$late" -v c="$longest" 'BEGIN { exit !(l != "" && c != "" && (c < 20 || l < c / 2)) }' ||
        fail "the loop stalled: ticker late $late ms, longest computation $longest ms: $output"
}

@test "run_in_executor: computing in the callback stalls the loop; the worker keeps it on time" {
    run_prog run_in_executor
    assert_success
    assert_line 'OK: compute(500000000) matches the closed formula both ways'
    stalled loop yes
    stalled executor no
    assert_line --regexp '^   the result arrived on the result pipe [0-9.]+ ms after the task was sent; the ticker fired [1-9][0-9]* times meanwhile$'
    [ "$(grep -c '^   compute(500000000) = 41666666541666666750000000  (matches the closed formula)' <<<"$output")" -eq 2 ] ||
        fail "expected the exact compute(5e8) from both ways: $output"
    # On one CPU the worker and the loop take turns, and the loop still stays on time.
    run_on_one_cpu run_in_executor --mode=executor --numbers=2e8
    assert_success
    assert_line 'OK: compute(200000000) matches the closed formula'
    stalled executor no
    assert_line --regexp '^   compute\(200000000\) = 2666666646666666700000000  \(matches the closed formula\), [0-9.]+ ms of CPU in worker 0$'
}

@test "run_in_executor: a computation too short to show a stall gets a note" {
    run_prog run_in_executor --numbers=1e6
    assert_success
    [ "$(grep -c '^note: compute(1000000) took [0-9.]* ms, too short to stall a ticker of 10 ms; try --numbers=5e8$' <<<"$output")" -eq 2 ] ||
        fail "expected a note for each way: $output"
    assert_line 'OK: compute(1000000) matches the closed formula both ways'
}

@test "run_in_executor: a worker killed mid-computation is named, and the program exits 1" {
    start_session run_in_executor --mode=executor --numbers=4e9
    kill_one_child 2 0.3
    finish_session
    [ "$exit_code" -eq 1 ] || fail "exit status $exit_code: $output"
    assert_line --regexp "^worker 0 \(pid $killed_child\) was killed by signal 9 .*: stopping the pool$"
    assert_line 'FAILED: a worker died; 0 other workers stopped and reaped'
    refute_output --regexp 'Sanitizer|runtime error'
}

@test "fetch_and_process: every list's figures are exact, and the loop never stalled" {
    NUMBERS=200000
    local expected line
    expected=$(expected_lines 1 2 3 4 5 6 7 8)
    run_prog fetch_and_process --workers=2
    assert_success
    while read -r line; do
        assert_line --regexp "^ +[0-9.]+ s  computed  $line\$"
    done <<<"$expected"
    assert_line --regexp '^ +[0-9.]+ s  fetched   list 8, [0-9.]+ KiB in [0-9.]+ s: http://127\.0\.0\.1:[0-9]+/numbers/200000\?seed=8  -> (worker [01]|queued: every worker is busy)$'
    assert_line --regexp '^check: the same function in this process, one list after another: 8 of 8 results identical, in '
    assert_line --regexp '^summary: 8 lists: 8 computed, 0 failed \(0 transfers, 0 not lists of numbers\);'
    assert_line 'OK: 8 lists fetched and computed by 2 worker processes, identical to the sequential computation'
    loop_kept_time
}

@test "fetch_and_process: other sizes and worker counts give the same exact figures" {
    NUMBERS=1000
    local expected line workers
    expected=$(expected_lines 1 2 3 4 5)
    for workers in 1 3; do
        run_prog fetch_and_process --workers=$workers --lists=5 --numbers=1000
        assert_success
        while read -r line; do
            assert_line --regexp "^ +[0-9.]+ s  computed  $line\$"
        done <<<"$expected"
        assert_line --regexp "^OK: 5 lists fetched and computed by $workers worker process(es)?, "
        loop_kept_time
    done
    # URLs of the suite's server, one list of 2.4 MB (more than a pipe holds) through 1 worker.
    NUMBERS=500000
    expected=$(expected_lines 7)
    run_on_one_cpu fetch_and_process --workers=1 "$KIT_SERVER_URL/numbers/500000?seed=7" \
        "$KIT_SERVER_URL/numbers/1000?seed=1"
    assert_success
    assert_line --regexp "^ +[0-9.]+ s  computed  $expected\$"
    assert_line --regexp '^OK: 2 lists fetched and computed by 1 worker process, '
    loop_kept_time
}

@test "fetch_and_process: each failure gets its line, the other lists are computed, exit 1" {
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    run_prog fetch_and_process --timeout=0.5 "http://127.0.0.1:$port/" "$KIT_SERVER_URL/status/404" \
        "$KIT_SERVER_URL/json" "$KIT_SERVER_URL/bytes/100" "$KIT_SERVER_URL/numbers/0" \
        "$KIT_SERVER_URL/stall" "$KIT_SERVER_URL/numbers/10?seed=5"
    assert_failure 1
    assert_line --regexp "^ +[0-9.]+ s  error +--- .* http://127\.0\.0\.1:$port/: transport error: Couldn't connect to server \(.*\)\$"
    assert_line --regexp "^ +[0-9.]+ s  http +404 .* $KIT_SERVER_URL/status/404: HTTP error status 404\$"
    assert_line --regexp "^ +[0-9.]+ s  error +--- .* $KIT_SERVER_URL/stall: transport error: Timeout was reached \(.*\)\$"
    assert_line --regexp '^ +[0-9.]+ s  computed  list 3 by worker [0-9]+: not a list of numbers: no "data" list in the JSON$'
    assert_line --regexp '^ +[0-9.]+ s  computed  list 4 by worker [0-9]+: not a list of numbers: not JSON \(cJSON stopped at byte 0 of 100\)$'
    assert_line --regexp '^ +[0-9.]+ s  computed  list 5 by worker [0-9]+: not a list of numbers: the "data" list is empty: no mean$'
    assert_line --regexp '^ +[0-9.]+ s  computed  list 7 by worker [0-9]+ in [0-9.]+ ms: 10 numbers, sum of squares 4006438, mean 563\.200, std 288\.876$'
    assert_line --regexp '^summary: 7 lists: 1 computed, 6 failed \(3 transfers, 3 not lists of numbers\);'
    assert_line 'FAILED: 6 of 7 lists failed'
}

@test "fetch_and_process: Ctrl-C and SIGTERM to the parent stop and reap the workers and the server" {
    start_session fetch_and_process --workers=2 --lists=40 --numbers=500000
    interrupt_session 4 0.3
    finish_session
    assert_died_of_sigint
    start_session fetch_and_process --workers=2 --lists=40 --numbers=500000
    terminate_parent 4 0.3
    finish_session
    assert_died_of_sigterm
    assert_line 'fetch_and_process: SIGTERM: stopped and reaped 3 child processes before dying of it'
}

@test "fetch_and_process: a worker killed mid-run is named, the rest stopped and reaped, exit 1" {
    start_session fetch_and_process --workers=2 --lists=40 --numbers=500000
    kill_one_child 4 0.3
    finish_session
    [ "$exit_code" -eq 1 ] || fail "exit status $exit_code: $output"
    assert_line --regexp "^worker 1 \(pid $killed_child\) was killed by signal 9 .*: stopping the pool$"
    assert_line 'FAILED: a worker died; 1 other worker stopped and reaped'
    refute_output --regexp 'Sanitizer|runtime error'
}

@test "fetch_and_process: too few descriptors for every list at once: one line, nothing left" {
    # Under `ulimit -n 64` (soft and hard), 100 lists at once cannot each have a socket: said
    # before any transfer, and the local server it had started is stopped and reaped.
    setsid bash -c 'ulimit -n 64 && exec "$@"' limited "$(prog_path fetch_and_process)" \
        --lists=100 --numbers=1000 >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null 3>&- &
    session=$!
    wait_until 5 leads_session "$session" || fail "process $session did not start its own session"
    finish_session
    [ "$exit_code" -eq 1 ] || fail "exit status $exit_code: $output"
    assert_line --regexp '^fetch_and_process: out of file descriptors: 64 allowed \(ulimit -n\), 100 transfers at once need about 1[0-9][0-9] '
    refute_line --regexp '^ +[0-9.]+ s  (fetched|error|computed) '
}

@test "fetch_and_process: usage errors, and a failed write to stdout" {
    run_prog fetch_and_process --lists=3 "$KIT_SERVER_URL/json"
    assert_failure 2
    assert_output --partial '--lists and --numbers choose the local server'
    run_prog fetch_and_process --lists=100 --numbers=1000000
    assert_failure 2
    assert_output --partial 'at most 2e7 numbers in all'
    run bash -c '"$1" --lists=2 --numbers=10 >/dev/full' _ "$(prog_path fetch_and_process)"
    assert_failure 1
    assert_output --partial 'write to stdout'
}

@test "README: every try-this line of the chapter runs and ends with OK" {
    readme_lines_test
    local args
    for args in "run_in_executor --mode=executor --numbers=2e9" "fetch_and_process --workers=1" \
        "fetch_and_process --lists=2 --numbers=1000000" "fetch_and_process --numbers=20000"; do
        # shellcheck disable=SC2086
        run_prog --timeout 60 $args
        assert_success
        assert_line --regexp '^OK: '
        if [[ $args == run_in_executor* ]]; then stalled executor no; else loop_kept_time; fi
    done
    run_on_one_cpu fetch_and_process
    assert_success
    assert_line --regexp '^OK: '
    loop_kept_time
}
