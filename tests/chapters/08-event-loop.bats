#!/usr/bin/env bats
# Chapter 08, the event loop: the loop's own promises (due order, never early, EV_ERROR on a
# hang-up, stale events dropped, cancelled timers never run), tasks that overlap their sleeps
# and interleave in a fixed order, the blocking pitfall and its two fixes, and tasks against
# threads. Timing is judged as ratios with slack or as "late by less than half the stall";
# absolute figures are in `make bench` (tests/bench/08-event-loop.sh).

load ../helpers

# ---- loop_basics --------------------------------------------------------------------------------

@test "loop_basics: timers fire in due order, the pipe is read, the hang-up is EV_ERROR" {
    run_prog loop_basics
    assert_success
    assert_line --regexp '^ +[0-9.]+ ms  timer "first" \([0-9.]+ ms late\)$'
    assert_line --regexp '^ +[0-9.]+ ms  fd [0-9]+ ready: EV_READ, read "ping"$'
    assert_line --regexp '^ +[0-9.]+ ms  fd [0-9]+ ready: EV_ERROR, read\(\) says end of file: unwatch, close$'
    assert_line 'ev_run returned by itself: nothing watched, no timer pending'
    assert_line 'OK: timers in due order (first second third), none early; the pipe: data, then the hang-up as EV_ERROR'
    # the order in which the lines came out, not only the program's own check: the timers in
    # due order, the pipe's data before its hang-up (how the two interleave is timing)
    local events
    events=$(grep -E '^ +[0-9.]+ ms ' <<<"$output")
    assert_equal "$(grep -oE 'timer "[a-z]+"' <<<"$events" | tr '\n' ' ')" \
        'timer "first" timer "second" timer "third" '
    assert_equal "$(grep -oE 'read "ping"|end of file' <<<"$events" | tr '\n' ' ')" \
        'read "ping" end of file '
}

@test "loop_basics: the same order with 1 ms units, 5 runs, and on one CPU" {
    for _ in 1 2 3 4 5; do
        run_prog loop_basics --unit-ms=1
        assert_success
        assert_line --regexp '^OK: timers in due order'
    done
    run_on_one_cpu loop_basics --unit-ms=2
    assert_success
    assert_line --regexp '^OK: timers in due order'
}

@test "loop_basics: a bad unit exits 2" {
    local bad
    for bad in 0 1001 x -3 1.5; do
        run_prog loop_basics --unit-ms="$bad"
        assert_failure 2
    done
}

# ---- stale_events -------------------------------------------------------------------------------

@test "stale_events: a reused fd's stale event is dropped, a cancelled timer never runs, 5 runs" {
    for _ in 1 2 3 4 5; do
        run_prog stale_events
        assert_success
        assert_line --regexp '^fd ([0-9]+) ready: read its byte, dropped the client on fd ([0-9]+) .*, and a new client got fd \2$'
        assert_line --regexp '^fd [0-9]+ ready: the new client.s own byte, read$'
        refute_line --partial "the old client's stale event"
        refute_line 'the cancelled timer ran'
        assert_line --regexp '^OK: the stale event for the reused fd was dropped'
    done
}

@test "stale_events: the same on one CPU" {
    run_on_one_cpu stale_events
    assert_success
    assert_line --regexp '^OK: '
}

# ---- tasks_gather -------------------------------------------------------------------------------

@test "tasks_gather: three gathered sleeps take about one sleep (at least x2 faster than in turn)" {
    run_prog tasks_gather
    assert_success
    assert_line --regexp '^OK: 3 sleeps of 0\.20 s gathered took [0-9.]+ s, about one sleep: x[0-9.]+ faster than one after another \([0-9.]+ s\)$'
    at_least "$(ratio_on '^OK: 3 sleeps')" 2
}

@test "tasks_gather: one after another, each task says Two before the next says One" {
    run_prog tasks_gather
    assert_success
    local part1
    part1=$(sed -n '/awaited one after another/,/one after another:/p' <<<"$output" |
        grep -oE 'count [0-9] +(One|Two)' | tr -s ' ' | tr '\n' ',')
    assert_equal "$part1" 'count 1 One,count 1 Two,count 2 One,count 2 Two,count 3 One,count 3 Two,'
}

@test "tasks_gather: say_hello and print_numbers x2 interleave as Hello 1 1 2 2 World 3 3" {
    run_prog tasks_gather
    assert_success
    assert_line --regexp '^OK: say_hello and print_numbers x2 interleaved: Hello 1 1 2 2 World 3 3, in [0-9.]+ s on one thread$'
    local words
    words=$(sed -n '/^2\./,$p' <<<"$output" | grep -E '^  \[' | awk '{ print $NF }' | tr '\n' ' ')
    assert_equal "$words" 'Hello 1 1 2 2 World 3 3 '
}

@test "tasks_gather: 5 short tasks overlap too (at least x2.5), 3 runs" {
    for _ in 1 2 3; do
        run_prog tasks_gather --tasks=5 --sleep=0.05
        assert_success
        assert_line --regexp '^OK: 5 sleeps of 0\.05 s gathered'
        at_least "$(ratio_on '^OK: 5 sleeps')" 2.5
    done
}

@test "tasks_gather: on one CPU, the same overlap and order" {
    run_on_one_cpu tasks_gather
    assert_success
    at_least "$(ratio_on '^OK: 3 sleeps')" 2
    assert_line --regexp '^OK: say_hello and print_numbers x2 interleaved: Hello 1 1 2 2 World 3 3'
}

@test "tasks_gather: bad task counts and sleeps exit 2" {
    local args
    for args in --tasks=1 --tasks=11 --sleep=0 --sleep=3 --sleep=abc -n; do
        run_prog tasks_gather "$args"
        assert_failure 2
    done
}

# ---- blocking_pitfall ---------------------------------------------------------------------------

@test "blocking_pitfall: the blocking call stalls the tickers, await and a thread do not" {
    run_prog blocking_pitfall
    assert_success
    assert_line --regexp '^BROKEN: one blocking call of 200 ms stalled every other task: their timers fired up to [0-9.]+ ms late$'
    assert_line --regexp '^OK: await task_sleep\(\) instead: the worker waited 200 ms and the tickers stayed on time'
    assert_line --regexp '^OK: the blocking call in a thread: the worker waited 200 ms and the tickers stayed on time'
    # the stall was measured: at least half the call (the program judges the stall it caused
    # itself: lateness minus the time its loop waited for a CPU that other programs held)
    local late
    late=$(grep '^BROKEN' <<<"$output" | grep -oE '[0-9.]+ ms late' | grep -oE '^[0-9.]+')
    at_least "$late" 100
    assert_equal "$(grep -c "waited [0-9.]* ms for a CPU" <<<"$output")" 3
}

@test "blocking_pitfall: each mode alone, with a 100 ms call" {
    run_prog blocking_pitfall --mode=blocking --block-ms=100
    assert_success
    assert_line --regexp '^BROKEN: one blocking call of 100 ms stalled'
    refute_line --regexp '^OK'
    run_prog blocking_pitfall --mode=await --block-ms=100
    assert_success
    assert_line --regexp '^OK: await task_sleep\(\) instead: the worker waited 100 ms'
    refute_line --regexp '^BROKEN'
    run_prog blocking_pitfall --mode=thread --block-ms=100
    assert_success
    assert_line --regexp '^OK: the blocking call in a thread: the worker waited 100 ms'
}

@test "blocking_pitfall: on one CPU, the same verdicts (the thread only waits)" {
    run_on_one_cpu blocking_pitfall
    assert_success
    assert_line --regexp '^BROKEN: one blocking call'
    assert_equal "$(grep -c '^OK: ' <<<"$output")" 2
}

@test "blocking_pitfall: bad modes and durations exit 2" {
    local args
    for args in --mode=nope --mode= --block-ms=10 --block-ms=6000 --block-ms=x; do
        run_prog blocking_pitfall "$args"
        assert_failure 2
    done
}

# ---- tasks_vs_threads ---------------------------------------------------------------------------

@test "tasks_vs_threads: waiting tasks take far less memory and start faster than threads" {
    run_prog tasks_vs_threads
    assert_success
    assert_line --regexp '^   start-up: [0-9.]+ ms \([0-9.]+ us per task\)$'
    assert_line --regexp '^   start-up: [0-9.]+ ms \([0-9.]+ us per thread\)$'
    assert_line --regexp '^   RSS: \+[0-9.]+ [KMG]?B \([0-9.]+ [KMG]?B per thread\); virtual: \+[0-9.]+ [KMG]?B$'
    assert_line --regexp '^OK: [0-9]+ waiting tasks took x[0-9.]+ less memory \(RSS\) and started x[0-9.]+ faster than [0-9]+ threads$'
    at_least "$(ratio_on 'less memory')" 5
    at_least "$(grep '^OK:' <<<"$output" | grep -oE 'started x[0-9.]+' | tr -dc '0-9.')" 2
}

@test "tasks_vs_threads: smaller thread stacks shrink the virtual size, not the verdict" {
    run_prog tasks_vs_threads --count=500 --stack-kb=64
    assert_success
    assert_line '500 threads, each waiting on one condition variable (stack 64 KB, --stack-kb):'
    assert_line --regexp '^OK: 500 waiting tasks'
    at_least "$(ratio_on 'less memory')" 5
}

@test "tasks_vs_threads: on one CPU too" {
    run_on_one_cpu tasks_vs_threads --count=1000
    assert_success
    assert_line --regexp '^OK: 1000 waiting tasks'
}

@test "tasks_vs_threads: a failing pthread_create is explained, not a crash" {
    [ -z "${KIT_SANITIZE:-}" ] || skip "sanitizers reserve more address space than the limit allows"
    # 1 GB of address space holds far fewer than 1000 stacks of 8 MB: pthread_create says EAGAIN.
    run timeout -k 2 "$(kit_timeout 30)" bash -c 'ulimit -v 1000000 && exec "$0" --count=1000' \
        "$(prog_path tasks_vs_threads)"
    assert_failure 1
    assert_line --regexp '^FAILED: pthread_create of thread [0-9]+ of 1000: Resource temporarily unavailable\. .*ulimit -u'
}

@test "tasks_vs_threads: bad counts and stack sizes exit 2" {
    local args
    for args in --count=99 --count=100001 --count=x --stack-kb=8 --stack-kb=70000; do
        run_prog tasks_vs_threads "$args"
        assert_failure 2
    done
}
