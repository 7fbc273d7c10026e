#!/usr/bin/env bats
# Chapter 05, queues: a bounded queue between threads, then pipes and shared memory between
# processes. Each test checks verdict lines and exit codes; the queue's speed is measured in
# tests/bench/05-queues.sh, never asserted here (timings on a shared machine are noise).

load ../helpers
load ../processes

# Under sanitizers everything runs several times slower: smaller sizes keep the file quick.
scaled() {
    if [ -n "${KIT_SANITIZE:-}" ]; then echo "$2"; else echo "$1"; fi
}

# No process of PROG may outlive it: every child was reaped, none left running as an orphan.
assert_no_leftover_processes() {
    local prog
    prog=$(prog_path "$1")
    run pgrep -f -- "$prog"
    [ "$status" -eq 1 ] || fail "processes of $1 still running: $output"
}

@test "bounded_queue: every item arrives exactly once with the defaults" {
    run_prog bounded_queue
    assert_success
    assert_line 'OK: 200000 items, none lost, none duplicated'
    assert_line --regexp '^throughput: [0-9]+\.[0-9]+ million items/s'
}

@test "bounded_queue: nothing lost or duplicated, 5 runs at several producer and consumer counts" {
    local items pc
    items=$(scaled 100000 20000)
    for pc in "1 1" "2 2" "4 1" "1 4" "3 5"; do
        set -- $pc
        for attempt in 1 2 3 4 5; do
            run_prog bounded_queue --producers="$1" --consumers="$2" --items="$items"
            assert_success
            assert_line "OK: $items items, none lost, none duplicated"
        done
    done
}

@test "bounded_queue: capacity 1 and 2 (every put and get waits) lose and duplicate nothing" {
    local items pc capacity
    items=$(scaled 5000 1000)
    for capacity in 1 2; do
        for pc in "1 1" "4 4" "3 1" "1 3"; do
            set -- $pc
            for attempt in 1 2 3; do
                run_prog bounded_queue -p "$1" -c "$2" -k "$capacity" -n "$items"
                assert_success
                assert_line "OK: $items items, none lost, none duplicated"
            done
        done
    done
}

@test "bounded_queue: the plain version (--always-signal) loses and duplicates nothing either" {
    local pc
    for pc in "1 1" "3 2"; do
        set -- $pc
        run_prog bounded_queue -p "$1" -c "$2" -k 4 -n "$(scaled 50000 5000)" --always-signal
        assert_success
        assert_line --regexp '^OK: [0-9]+ items, none lost, none duplicated$'
    done
}

@test "bounded_queue: shuts down cleanly when consumers outnumber items" {
    # Most consumers get no item at all: only their sentinel stops them. A lost wake-up
    # would hang here, and the timeout would turn it into a failure (status 124).
    run_prog --timeout 20 bounded_queue --producers=2 --consumers=8 --items=3 --capacity=1
    assert_success
    assert_line 'OK: 3 items, none lost, none duplicated'
}

@test "bounded_queue: each consumer's share adds up to the total" {
    run_prog bounded_queue --consumers=3 --items=30000
    assert_success
    local total
    total=$(grep -E '^consumer [0-9]+ took' <<<"$output" | awk '{ sum += $4 } END { print sum }')
    [ "$total" -eq 30000 ] || fail "consumers took $total items in all, expected 30000"
}

@test "pipe_ipc: every request is answered, the child sees end of file and is reaped" {
    run_prog pipe_ipc
    assert_success
    assert_line 'child said it answered 10000 requests, then closed its end (end of file: yes)'
    assert_line 'OK: 10000 requests answered, child saw end of file and exited 0'
    assert_no_leftover_processes pipe_ipc
}

@test "pipe_ipc: one request and many requests, 3 runs each" {
    local n
    for n in 1 $(scaled 50000 5000); do
        for attempt in 1 2 3; do
            run_prog pipe_ipc --requests="$n"
            assert_success
            assert_line "OK: $n requests answered, child saw end of file and exited 0"
        done
    done
    assert_no_leftover_processes pipe_ipc
}

@test "process_queue: every message from every sender arrives whole and in order" {
    run_prog process_queue
    assert_success
    local sender
    for sender in 0 1 2 3; do
        assert_line "sender $sender: 2000 messages received intact and in order"
    done
    assert_line "OK: 8000 messages from 4 senders, none torn, none lost, each sender's in order"
    assert_no_leftover_processes process_queue
}

@test "process_queue: no torn frames over 5 runs with 1, 8 and 16 senders" {
    local messages senders verdict
    messages=$(scaled 3000 500)
    for senders in 1 8 16; do
        for attempt in 1 2 3 4 5; do
            run_prog process_queue --senders="$senders" --messages="$messages"
            assert_success
            verdict="OK: $((senders * messages)) messages from $senders senders"
            assert_line "$verdict, none torn, none lost, each sender's in order"
        done
    done
    assert_no_leftover_processes process_queue
}

@test "shared_memory: the shared counter is exact with the defaults" {
    run_prog shared_memory
    assert_success
    assert_line 'OK: expected 4000000, got 4000000'
    assert_no_leftover_processes shared_memory
}

@test "shared_memory: exact total over 5 runs with 1, 2, 4 and 8 processes" {
    local increments processes
    increments=$(scaled 200000 20000)
    for processes in 1 2 4 8; do
        for attempt in 1 2 3 4 5; do
            run_prog shared_memory --processes="$processes" --increments="$increments"
            assert_success
            local expected=$((processes * increments))
            assert_line "OK: expected $expected, got $expected"
        done
    done
    assert_no_leftover_processes shared_memory
}

@test "shared_memory: leaves no object behind in /dev/shm" {
    run_prog shared_memory --increments=1000
    assert_success
    local object
    object=$(grep -oE '/dev/shm/kit-shared-memory-[0-9]+' <<<"$output")
    [ -n "$object" ] || fail "no shared memory object named in the output"
    [ ! -e "$object" ] || fail "$object was left behind"
}

@test "shared_memory: a child killed holding the lock: the lock is recovered (EOWNERDEAD)" {
    local run
    for run in 1 2 3; do
        run_prog shared_memory --die-holding=1000 --increments=20000
        assert_success
        assert_line --regexp '^child 0 \(pid [0-9]+\) was killed by signal 9 .* holding the lock'
        assert_line 'the lock was recovered 1 time with EOWNERDEAD after its holder died, then made consistent'
        assert_line 'OK: expected 61000, got 61000: the lock survived the death of its holder'
    done
}

@test "options: a total beyond the cap is refused up front, with the reason" {
    run_prog shared_memory --processes=64 --increments=100000000
    assert_failure 2
    assert_output --partial 'over the cap'
    run_prog process_queue --senders=64 --messages=10000000
    assert_failure 2
    assert_output --partial 'over the cap'
    run_prog pipe_ipc --requests=2000001
    assert_failure 2
}

# ---- the README's "try this" lines ----------------------------------------------------------

@test "README: every try-this line of the chapter runs and ends with OK" {
    readme_lines_test
    local args
    for args in "bounded_queue -p 1 -c 1 -n 5000000" "bounded_queue -p 1 -c 1 -n 5000000 --always-signal" \
        "bounded_queue --capacity=1 --items=20000" \
        "bounded_queue --capacity=1 --items=20000 --producers=8 --consumers=1" \
        "bounded_queue --capacity=1 --items=20000 --producers=1 --consumers=8" \
        "pipe_ipc --requests=100000" "process_queue --senders=32 --messages=20000" \
        "shared_memory --processes=16 --increments=2000000" "shared_memory --die-holding=1000"; do
        # shellcheck disable=SC2086
        run_prog --timeout 60 $args
        assert_success
        assert_line --regexp '^OK: '
    done
    run_on_one_cpu bounded_queue --producers=1 --consumers=1 --items=$(scaled 10000000 1000000)
    assert_success
    run_on_one_cpu shared_memory --processes=16 --increments=$(scaled 2000000 200000)
    assert_success
}

# ---- nothing left behind: Ctrl-C, SIGTERM to the parent alone, a child killed ----------------
# Each program runs long enough to be caught mid-way, with all its children started.

@test "every forking program: Ctrl-C mid-run leaves nothing behind" {
    local spec
    for spec in "2|pipe_ipc --requests=2000000" "5|process_queue --senders=4 --messages=1000000" \
        "5|shared_memory --processes=4 --increments=100000000"; do
        # shellcheck disable=SC2086
        start_session ${spec#*|}
        interrupt_session "${spec%%|*}" 0.1
        finish_session
        assert_died_of_sigint
    done
}

@test "every forking program: SIGTERM to the parent alone stops and reaps its children" {
    local spec
    for spec in "2|pipe_ipc --requests=2000000" "5|process_queue --senders=4 --messages=1000000" \
        "5|shared_memory --processes=4 --increments=100000000"; do
        # shellcheck disable=SC2086
        start_session ${spec#*|}
        terminate_parent "${spec%%|*}" 0.1
        finish_session
        assert_died_of_sigterm
    done
}

@test "pipe_ipc: the child killed mid-run: the parent says so, reaps it, exits 1" {
    start_session pipe_ipc --requests=2000000
    kill_one_child 2 0.1
    finish_session
    [ "$exit_code" -eq 1 ] || fail "exit status $exit_code: $output"
    assert_line --regexp "^FAILED: (reply|write request): child $killed_child went away: it was killed by signal 9 "
}

@test "process_queue: a sender killed mid-run: named, the others stopped and reaped, exit 1" {
    start_session process_queue --senders=4 --messages=1000000
    kill_one_child 5 0.1
    finish_session
    [ "$exit_code" -eq 1 ] || fail "exit status $exit_code: $output"
    assert_line --regexp "^sender [0-3] \(pid $killed_child\) was killed by signal 9 .*stopping the other senders$"
    assert_line --regexp '^FAILED: sender [0-3] died; [0-3] other senders stopped and reaped$'
}

@test "shared_memory: a child killed mid-run: named, the others stopped and reaped, exit 1" {
    start_session shared_memory --processes=4 --increments=100000000
    kill_one_child 5 0.1
    finish_session
    [ "$exit_code" -eq 1 ] || fail "exit status $exit_code: $output"
    assert_line --regexp "^child $killed_child was killed by signal 9 .*stopping the other children$"
    assert_line --regexp '^FAILED: a child did not finish; 3 others stopped and reaped$'
}

@test "process_queue and shared_memory: a fork refused part-way stops the children started" {
    local args
    for args in "process_queue --senders=8 --messages=400000" \
        "shared_memory --processes=8 --increments=10000000"; do
        # shellcheck disable=SC2086
        start_session_limited 4 $args
        finish_session
        [ "$exit_code" -eq 1 ] || fail "$args: expected exit status 1, got $exit_code: $output"
        assert_line --regexp 'fork .*: Resource temporarily unavailable \(EAGAIN\)'
    done
}
