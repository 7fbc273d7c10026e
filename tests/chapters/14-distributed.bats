#!/usr/bin/env bats
# Chapter 14, distributed with MPI. Each program, run plainly, starts itself under mpirun (and
# prints the command); the tests run them so, with --ranks=N, and under mpirun by hand where
# that is the point. After every test, no process of the lesson may be left: not mpirun, not a
# rank, not the ping-pong's echo child, also after a run killed by a timeout.

load ../helpers

# When a rank ends badly (exit 2 for a bad option, killed), mpirun takes odls_base_sigkill_timeout
# (1 s) twice before it reports and exits; 0 makes those tests 2 s quicker each and changes
# nothing they check (the ranks that remain are killed at once rather than after a second).
export OMPI_MCA_odls_base_sigkill_timeout=0

# The processes (not zombies, which PID 1 reaps) whose command line names a program of this
# lesson: mpirun's names it as an argument, the ranks' and the echo child's as their own.
lesson_processes() {
    ps -eo pid=,stat=,args= | awk -v dir="$(dirname "$(prog_path mpi_sum)")/" \
        'index($0, dir) && $2 !~ /^Z/ && !/awk -v dir/'
}

# Nothing of the lesson runs any more: waits up to 5 s for the processes of a killed run to go.
assert_nothing_left() {
    local deadline=$((SECONDS + 5))
    while [ -n "$(lesson_processes)" ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "left running: $(lesson_processes)"
        sleep 0.1
    done
}

teardown() {
    assert_nothing_left
}

# run_mpirun ARGS...: run mpirun by hand, as a learner would with a hostfile, with the flags
# this machine needs (root in CI, more ranks than CPUs).
run_mpirun() {
    local flags=(-q --bind-to none --oversubscribe --mca mpi_yield_when_idle 1)
    [ "$(id -u)" -ne 0 ] || flags+=(--allow-run-as-root)
    run timeout -k 2 "$(kit_timeout 30)" mpirun "${flags[@]}" "$@"
}

@test "mpi_sum: the total is exact on 1, 2, 3 and 4 ranks, beyond 64 bits" {
    local ranks
    for ranks in 1 2 3 4; do
        run_prog mpi_sum --ranks="$ranks"
        assert_success
        # Python: sum(i * i for i in range(10**7)) == 333333283333335000000 (more than 2^64)
        assert_line "OK: sum of squares of range(10000000) = 333333283333335000000 on $ranks rank(s), exactly the sequential sum and the formula"
        assert_line --partial "MPI_Reduce with 128-bit addition: 333333283333335000000"
        assert_line --regexp '^MPI_SUM on 64-bit integers: +[0-9]+ \(wrong: .*wrapped around\)$'
    done
}

@test "mpi_sum: every rank sums its own slice, and the slices cover range(N) once" {
    run_prog mpi_sum --ranks=3 --count=1000
    assert_success
    # Python: [sum(i * i for i in range(a, b)) for a, b in ((0, 333), (333, 666), (666, 1000))]
    assert_line "  rank 0: range(0, 333) -> 12253290"
    assert_line "  rank 1: range(333, 666) -> 85994475"
    assert_line "  rank 2: range(666, 1000) -> 234585735"
    assert_line --partial "= 332833500 on 3 rank(s)"
    assert_line --regexp '^MPI_SUM on 64-bit integers: +332833500 \(the total fits in 64 bits\)$'
}

@test "mpi_sum run plainly prints the mpirun command it runs" {
    run_prog mpi_sum --count=10
    assert_success
    assert_line --index 0 --regexp "^\\$ mpirun .*--bind-to none .*-np 2 $(prog_path mpi_sum) --count=10\$"
}

@test "under mpirun by hand, a bad option ends every rank with exit 2 and one message" {
    # No -q, as a learner types it: mpirun adds its notice, the program's reason comes once.
    run timeout -k 2 "$(kit_timeout 30)" mpirun --allow-run-as-root --oversubscribe -np 3 \
        "$(prog_path mpi_sum)" --count=abc
    assert_failure 2
    [ "$(grep -cE "^mpi_sum: --count: 'abc' is not a (whole )?number" <<<"$output")" -eq 1 ] ||
        fail "expected the reason once, got: $output"
    [ "$(grep -c '^Usage: mpi_sum' <<<"$output")" -eq 1 ] || fail "expected one usage: $output"
}

@test "a bad option on one rank only (different command lines) ends the job with exit 2" {
    local prog
    prog=$(prog_path mpi_sum)
    run_mpirun -np 1 "$prog" : -np 1 "$prog" --count=abc
    assert_failure 2
    assert_line "mpi_sum: rank 1 rejected its options (run it alone with them to see why): ending the job"
    [ "$(grep -c '^mpi_sum:' <<<"$output")" -eq 1 ] || fail "expected one message: $output"
}

@test "under mpirun by hand, --help is printed once and every rank exits 0" {
    run_mpirun -np 3 "$(prog_path mpi_workers)" --help
    assert_success
    [ "$(grep -c '^Usage: mpi_workers' <<<"$output")" -eq 1 ] || fail "expected one usage: $output"
}

@test "mpi_workers: the static split's blocks, the failing task reported, all stop" {
    run_prog mpi_workers
    assert_success
    assert_line --regexp '^\$ mpirun .*-np 4 '
    assert_line --regexp '^task 5 failed: reported by worker [1-3] \(static\), by worker [1-3] \(dynamic\)$'
    assert_line "tasks accounted for: all in each round, 23 with the right answer, 1 failed"
    assert_line --regexp '^shutdown: STOP sent to 3 worker\(s\), 3 confirmed; tasks each ran: [0-9]+ [0-9]+ [0-9]+$'
    # Each worker counted what it ran: 24 tasks in each of the 2 rounds, none run twice.
    local ran
    ran=$(grep '^shutdown:' <<<"$output" | awk -F': ' '{ split($3, n, " "); print n[1] + n[2] + n[3] }')
    assert_equal "$ran" 48
    assert_line --regexp '^OK: 24 tasks in each round, none lost, task 5 failed and was reported; dynamic x[0-9.]+ (faster|slower) than static; 3 of 3 workers stopped$'
    # The static split gives each worker its block of 8; worker 1's holds the six 60 ms tasks
    # and two of 10 ms: it sleeps 380 ms at least, however busy the machine.
    local worker
    for worker in 1 2 3; do
        assert_line --regexp "^worker $worker +8 tasks, busy +[0-9.]+ s +[0-9]+ tasks, busy +[0-9.]+ s\$"
    done
    at_least "$(awk '$1 == "worker" && $2 == 1 { print $6 }' <<<"$output")" 0.380
}

@test "mpi_workers: the task queue beats the static split (on idle CPUs)" {
    # The static split keeps two workers idle for 300 of its 380 ms; dynamic needs about 180.
    # Each hand-out is a message, and ranks that wait for one poll: on CPUs others keep busy,
    # the messages wait for the scheduler and the ratio says more about the load than the queue.
    run_on_idle_cpus mpi_workers
    assert_success
    assert_line --regexp '^OK: .*; dynamic x[0-9.]+ faster than static; '
    at_least "$(ratio_on '^OK:')" 1.3
}

@test "mpi_workers: any failing task is reported by its id, with any number of workers" {
    run_prog mpi_workers --ranks=3 --tasks=7 --fail=6
    assert_success
    assert_line --regexp '^task 6 failed: reported by worker [12] \(static\), by worker [12] \(dynamic\)$'
    assert_line --regexp '^OK: 7 tasks in each round, none lost, task 6 failed and was reported; .* 2 of 2 workers stopped$'
    run_prog mpi_workers --ranks=2 --fail=0 --tasks=8
    assert_success
    assert_line --partial "note: with one worker both rounds are the same schedule"
    assert_line "OK: 8 tasks in each round, none lost, task 0 failed and was reported; 1 of 1 workers stopped"
}

@test "mpi_workers --fail=none: every task succeeds" {
    run_prog mpi_workers --fail=none --tasks=12
    assert_success
    assert_line "tasks accounted for: all in each round, 12 with the right answer, 0 failed"
    assert_line --regexp '^OK: 12 tasks in each round, none lost; dynamic x[0-9.]+ (faster|slower) than static; 3 of 3 workers stopped$'
}

@test "refused with exit 2: a failing task that does not exist, and one rank alone" {
    run_prog mpi_workers --tasks=10 --fail=10
    assert_failure 2
    assert_line --partial "--fail: there is no task 10 (tasks are 0 to 9)"
    run_mpirun -np 1 "$(prog_path mpi_workers)"
    assert_failure 2
    assert_line "mpi_workers: needs 2 to 16 ranks (a master and workers), got 1"
    run_mpirun -np 1 "$(prog_path mpi_pingpong)"
    assert_failure 2
    assert_line "mpi_pingpong: needs at least 2 ranks (ranks 0 and 1 play ping-pong), got 1"
}

@test "mpi_pingpong: every message comes back intact, by MPI and by pipe, at 6 sizes" {
    run_prog mpi_pingpong --round-trips=100
    assert_success
    assert_line --regexp '^rank 0 on .*, rank 1 on .*; MPI transport: '
    local size
    for size in "1 B" "16 B" "256 B" "4 KiB" "64 KiB" "1 MiB"; do
        assert_line --regexp "^$size +[0-9.]+ us +[0-9.]+ +[0-9.]+ us +[0-9.]+ +x[0-9.]+ (faster|slower)\$"
    done
    assert_line --regexp '^OK: every message came back intact \(6 sizes, MPI and pipe\); a 1-byte message takes [0-9.]+ us one way with MPI, [0-9.]+ us through a pipe$'
}

@test "mpi_pingpong --tcp: MPI over TCP on loopback, and on 4 ranks by hand the others wait" {
    run_prog mpi_pingpong --tcp --round-trips=10 --max-size=4096
    assert_success
    assert_line --regexp '^\$ mpirun .*--mca btl self,tcp .*-np 2 '
    assert_line --partial "MPI transport: self,tcp"
    assert_line --partial "OK: every message came back intact (4 sizes, MPI and pipe)"
    run_mpirun -np 4 "$(prog_path mpi_pingpong)" --round-trips=10 --max-size=16
    assert_success
    assert_line "note: ranks 2 to 3 took no part: ping-pong needs two"
    assert_line --partial "OK: every message came back intact (2 sizes, MPI and pipe)"
}

@test "a rank killed from outside ends the job, mpirun says which, nothing is left" {
    local prog
    prog=$(prog_path mpi_workers)
    timeout -k 2 "$(kit_timeout 30)" "$prog" --tasks=100 --task-ms=50 \
        >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
    local job=$! deadline=$((SECONDS + $(kit_timeout 10))) victim=""
    # Wait until the job is at work (the master printed its first line), then kill rank 3.
    until grep -q '^100 tasks' "$BATS_TEST_TMPDIR/out"; do
        [ "$SECONDS" -lt "$deadline" ] || fail "the job did not start: $(cat "$BATS_TEST_TMPDIR/out")"
        sleep 0.05
    done
    victim=$(ps -eo pid=,args= | awk -v prog="$prog" '$2 == prog { pid = $1 } END { print pid }')
    [ -n "$victim" ] || fail "no rank found"
    kill -KILL "$victim"
    local status=0
    wait "$job" || status=$?
    [ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "expected the job to fail at once, got $status"
    grep -q 'exited on signal 9 (Killed)' "$BATS_TEST_TMPDIR/out" ||
        fail "no word about the killed rank: $(cat "$BATS_TEST_TMPDIR/out")"
}

@test "a run killed by a timeout leaves nothing running (SIGTERM, and SIGKILL to mpirun)" {
    run_prog --timeout 1 mpi_workers --tasks=100 --task-ms=50
    [ "$status" -eq 124 ] || [ "$status" -eq 137 ] || fail "expected a timeout, got $status"
    assert_nothing_left
    # SIGKILL gives mpirun no chance to stop the ranks: each rank dies with it (PDEATHSIG).
    run timeout -s KILL 1 "$(prog_path mpi_workers)" --tasks=100 --task-ms=50
    assert_equal "$status" 137
    assert_nothing_left
    # The ping-pong's echo child goes too: its pipes close when rank 0 dies.
    run timeout -s KILL 1 "$(prog_path mpi_pingpong)" --round-trips=100000 --max-size=16777216
    assert_equal "$status" 137
}
