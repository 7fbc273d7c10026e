#!/usr/bin/env bats
# Chapter 04, processes: each test runs one program and checks its verdict line and exit code.
# The second half checks that no program leaves a process behind (a zombie, or an orphan still
# running), after a normal run and after Ctrl-C, using the session helpers below.

load ../helpers

# ---- leftover processes ---------------------------------------------------------------------
# A program started with start_session leads a new session (setsid): the program, its children
# and their children all carry its PID as their session id, even after they are reparented.
# So "nothing left behind" is: once the program has been waited for, no process has that session
# id. This is checked at once, with no grace period: every program of the chapter reaps all its
# children before it exits (see chapters/04-processes/lib/reap.h). An orphan would be reaped by
# PID 1 at best, late or (in some containers) never: a late one would stay for good.

# The processes of session $1, one per line: PID PPID STAT COMMAND (zombies included).
session_processes() {
    ps -eo sid=,pid=,ppid=,stat=,comm= |
        awk -v sid="$1" '$1 == sid { $1 = ""; print substr($0, 2) }'
}

# wait_until SECONDS COMMAND...: poll every 20 ms until COMMAND succeeds; fail after SECONDS.
wait_until() {
    local deadline=$((SECONDS + $(kit_timeout "$1")))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.02
    done
}

# True when process $1 leads its own session (setsid has run), or has already finished (bash
# reaps its background jobs as they end, keeping their status for wait).
leads_session() {
    local sid
    sid=$(ps -o sid= -p "$1") || return 0
    [ "${sid// /}" = "$1" ]
}

# True when session $1 has at least $2 processes.
session_has_at_least() {
    [ "$(session_processes "$1" | wc -l)" -ge "$2" ]
}

# True when process $1 has exited (gone, reaped by bash, or a zombie not yet reaped).
has_exited() {
    local state
    state=$(ps -o stat= -p "$1") || return 0
    [[ $state == Z* ]]
}

# start_session PROG [ARGS...]: run PROG in the background as the leader of a new session,
# stdout and stderr to $BATS_TEST_TMPDIR/out. Sets $session to its PID (= session id = process
# group id). bash starts background jobs with SIGINT and SIGQUIT ignored; env puts them back to
# their defaults, as in a terminal. fd 3 is closed so bats never waits on the program.
start_session() {
    local prog
    prog=$(prog_path "$1")
    shift
    setsid env --default-signal=INT,QUIT "$prog" "$@" \
        >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null 3>&- &
    session=$!
    wait_until 5 leads_session "$session" || fail "process $session did not start its own session"
}

# finish_session: wait (bounded) for the session leader to exit, then check that nothing of
# its session is left. Sets $exit_code and $output (what the program printed).
finish_session() {
    if ! wait_until 30 has_exited "$session"; then
        kill -KILL -- "-$session" 2>/dev/null
        fail "the program did not end: killed its process group"
    fi
    exit_code=0
    wait "$session" || exit_code=$?
    output=$(cat "$BATS_TEST_TMPDIR/out")
    local left
    left=$(session_processes "$session")
    if [ -n "$left" ]; then
        local orphan_zombies
        orphan_zombies=$(awk '$2 == 1 && $3 ~ /^Z/' <<<"$left")
        fail "left behind in session $session (PID PPID STAT COMMAND):
$left${orphan_zombies:+
of which zombies whose parent is gone (now PID 1, which may never reap them):
$orphan_zombies}"
    fi
}

# interrupt_session PROCESSES DELAY: once the session has PROCESSES processes (the program and
# its children are all running), wait DELAY seconds, then press Ctrl-C: SIGINT to the whole
# process group, as a terminal does.
interrupt_session() {
    wait_until 10 session_has_at_least "$session" "$1" ||
        fail "the session never had $1 processes: $(session_processes "$session")"
    sleep "$2"
    kill -INT -- "-$session"
}

# The program died of SIGINT, like a program without any handler (status 128 + 2), and no
# sanitizer had anything to say on the way.
assert_died_of_sigint() {
    [ "$exit_code" -eq 130 ] || fail "expected death by SIGINT (status 130), got $exit_code
$output"
    refute_output --regexp 'Sanitizer|runtime error'
}

# ---- fork_basics ----------------------------------------------------------------------------

@test "fork_basics: waitpid decodes an exit status and a killing signal" {
    run_prog fork_basics
    assert_success
    assert_line --regexp '^parent: child [0-9]+ exited normally with status 3 '
    assert_line --regexp '^parent: child [0-9]+ was killed by signal 15 '
    assert_line 'OK: both children reaped: one exited with status 3, one killed by signal 15'
}

@test "fork_basics: the status the child chose is the status the parent decodes" {
    local status_wanted expected
    for status_wanted in 0 1 42 255; do
        run_prog fork_basics --exit-status="$status_wanted" --signal-after=0
        assert_success
        expected="OK: both children reaped: one exited with status $status_wanted"
        assert_line "$expected, one killed by signal 15"
    done
}

@test "fork_basics: output piped, every line is printed once (stdout flushed before fork)" {
    run_prog fork_basics
    assert_success
    [ "$(grep -c '^parent: pid ' <<<"$output")" -eq 1 ] || fail "parent line repeated: $output"
    [ "$(grep -c '^child: ' <<<"$output")" -eq 1 ] || fail "child line repeated: $output"
}

# ---- process_ids ----------------------------------------------------------------------------

@test "process_ids: N children, distinct PIDs, all with the parent's PID as parent" {
    local children parent
    for children in 1 4 16; do
        run_prog process_ids --children="$children" --sleep=0
        assert_success
        parent=$(grep -oE '^parent: pid [0-9]+' <<<"$output" | grep -oE '[0-9]+$')
        assert_line "OK: $children children, $children distinct PIDs, each saw parent $parent"
        # From the children's own lines: N lines, N distinct PIDs, one parent PID.
        [ "$(grep -cE '^child [0-9]+: pid [0-9]+, parent pid ' <<<"$output")" -eq "$children" ]
        [ "$(grep -oE '^child [0-9]+: pid [0-9]+' <<<"$output" | sort -u | wc -l)" -eq "$children" ]
        [ "$(grep -oE 'parent pid [0-9]+$' <<<"$output" | sort -u)" = "parent pid $parent" ]
    done
}

# ---- separate_memory ------------------------------------------------------------------------

@test "separate_memory: the child's write is not seen by the parent, the thread's is" {
    run_prog separate_memory
    assert_success
    assert_line --regexp '^main reads afterwards +0 +42$'
    assert_line --regexp '^OK: the child.s write stayed in the child'
}

@test "separate_memory: the same address in the child, the parent and the thread" {
    run_prog separate_memory --value=7
    assert_success
    assert_line --regexp '^main reads afterwards +0 +7$'
    [ "$(grep -oE ' at 0x[0-9a-f]+' <<<"$output" | sort -u | wc -l)" -eq 1 ] ||
        fail "expected one address, got: $(grep -oE ' at 0x[0-9a-f]+' <<<"$output" | sort -u)"
}

# ---- exec_child -----------------------------------------------------------------------------

@test "exec_child: exec keeps the PID: the shell reports the child's PID as its own" {
    run_prog exec_child
    assert_success
    local child
    child=$(grep -oE '^child: +pid [0-9]+' <<<"$output" | grep -oE '[0-9]+$')
    [ -n "$child" ]
    assert_line --regexp "^sh: +pid $child: "
    assert_line "parent: child $child exited with status 0"
    assert_line "OK: child $child ran /bin/sh and exited with status 0"
}

@test "exec_child: a failed exec is reported by the child, and by the parent as status 1" {
    run_prog exec_child --program=no-such-program-kit04
    assert_failure 1
    assert_line --partial 'execvp no-such-program-kit04: No such file or directory (ENOENT)'
    assert_line --regexp '^parent: child [0-9]+ exited with status 1$'
    assert_line --regexp '^FAILED: child [0-9]+ \(no-such-program-kit04\) exited with status 1$'
}

@test "exec_child: a command the shell cannot find is status 127; a signal is reported as one" {
    run_prog exec_child --command=no-such-command-kit04
    assert_failure 1
    assert_line --regexp '^parent: child [0-9]+ exited with status 127 '
    run_prog exec_child --command='exit 7'
    assert_failure 1
    assert_line --regexp '^parent: child [0-9]+ exited with status 7$'
    run_prog exec_child --command='kill -TERM $$'
    assert_failure 1
    assert_line --regexp '^parent: child [0-9]+ was killed by signal 15 '
}

@test "exec_child: a program found in PATH runs directly" {
    run_prog exec_child --program=true
    assert_success
    assert_line --regexp '^OK: child [0-9]+ ran true and exited with status 0$'
}

# ---- zombie and zombie_fixed ----------------------------------------------------------------

@test "zombie: children never waited for are zombies (state Z)" {
    local children expected
    for children in 1 3 10; do
        run_prog zombie --children="$children"
        assert_success
        [ "$(grep -cE '^child [0-9]+: /proc says state Z \(zombie\)' <<<"$output")" \
            -eq "$children" ]
        expected="BROKEN: $children children exited and were never waited for"
        assert_line "$expected: $children zombies (state Z)"
    done
}

@test "zombie: ps, from outside, sees the zombies while the parent holds them" {
    start_session zombie --children=3 --hold=30
    wait_until 10 grep -q '^holding' "$BATS_TEST_TMPDIR/out" # printed once all 3 are zombies
    local zombies
    zombies=$(session_processes "$session" | awk -v parent="$session" '$2 == parent && $3 ~ /^Z/')
    [ "$(wc -l <<<"$zombies")" -eq 3 ] || fail "expected 3 zombies of $session, got: $zombies"
    kill -INT -- "-$session"
    finish_session
    assert_died_of_sigint
}

@test "zombie_fixed: every child is reaped with waitpid, none left in /proc" {
    local children
    for children in 1 3 20; do
        run_prog zombie_fixed --children="$children"
        assert_success
        [ "$(grep -cE '^child [0-9]+: reaped by waitpid, exit status 0$' <<<"$output")" \
            -eq "$children" ]
        [ "$(grep -cE '^child [0-9]+: gone from /proc$' <<<"$output")" -eq "$children" ]
        assert_line "OK: $children children reaped, no zombie left"
    done
}

@test "zombie_fixed: --sigchld reaps every child from the handler, over repeated runs" {
    local children run
    for run in 1 2 3; do
        for children in 1 3 20; do
            run_prog zombie_fixed --sigchld --children="$children"
            assert_success
            assert_line "the SIGCHLD handler reaped $children children"
            assert_line "OK: $children children reaped, no zombie left"
        done
    done
    run_prog zombie_fixed --sigchld --children=10 --child-time=0.05
    assert_success
    assert_line "OK: 10 children reaped, no zombie left"
}

# ---- spawn_cost -----------------------------------------------------------------------------

@test "spawn_cost: creating a process costs more than creating a thread" {
    run_prog spawn_cost
    assert_success
    assert_line --regexp '^fork \+ waitpid +500 in +[0-9.]+ s +median +[0-9.]+ us each$'
    assert_line --regexp '^pthread_create \+ join +500 in +[0-9.]+ s +median +[0-9.]+ us each$'
    assert_line --regexp '^OK: creating and reaping a process took x[0-9.]+ the time of a thread'
    # Typically x4 to x12 here; medians keep a busy machine's hiccups out. Generous slack.
    at_least "$(ratio_on '^OK:')" 1.5
}

@test "spawn_cost: --memory makes the parent bigger and still measures" {
    run_prog spawn_cost --spawns=50 --memory=64
    assert_success
    assert_line --regexp '^spawning 50 processes, then 50 threads.*extra memory: 64 MiB'
    assert_line --regexp '^OK: '
}

# ---- nothing left behind: normal runs -------------------------------------------------------

@test "every program: a normal run leaves no process of its session behind" {
    local args
    for args in "fork_basics" "process_ids --children=8" "separate_memory" "exec_child" \
        "zombie --children=5" "zombie_fixed --children=5" "zombie_fixed --sigchld --children=5" \
        "spawn_cost --spawns=50"; do
        # shellcheck disable=SC2086 # split the program from its options on purpose
        start_session $args
        finish_session
        [ "$exit_code" -eq 0 ] || fail "$args: exit status $exit_code
$output"
        refute_output --regexp 'Sanitizer|runtime error'
    done
}

@test "exec_child: a shell's orphaned grandchild is reaped too" {
    # sh exits at once, leaving its background sleep an orphan: exec_child adopts and reaps it.
    start_session exec_child --command='sleep 0.3 & exit 0'
    finish_session
    [ "$exit_code" -eq 0 ] || fail "exit status $exit_code: $output"
}

# ---- nothing left behind: Ctrl-C -------------------------------------------------------------
# Each program runs with options that keep its children alive; Ctrl-C comes once they all exist.

@test "fork_basics: Ctrl-C while the second child waits leaves nothing behind" {
    start_session fork_basics --signal-after=30
    interrupt_session 2 0.05
    finish_session
    assert_died_of_sigint
}

@test "process_ids: Ctrl-C while the children sleep leaves nothing behind" {
    start_session process_ids --children=8 --sleep=30
    interrupt_session 9 0.1
    finish_session
    assert_died_of_sigint
}

@test "separate_memory: Ctrl-C while the child waits leaves nothing behind" {
    start_session separate_memory --sleep=30
    interrupt_session 2 0.1
    finish_session
    assert_died_of_sigint
}

@test "exec_child: Ctrl-C while the shell's command runs leaves nothing behind" {
    # exec_child, sh and sleep: the shell forks sleep, so a grandchild is in play too.
    start_session exec_child --command='sleep 30'
    interrupt_session 3 0.1
    finish_session
    assert_died_of_sigint
}

@test "zombie: Ctrl-C while it holds its zombies leaves nothing behind" {
    start_session zombie --children=5 --hold=30
    interrupt_session 6 0.05
    finish_session
    assert_died_of_sigint
}

@test "zombie_fixed: Ctrl-C while the children run leaves nothing behind, both ways" {
    start_session zombie_fixed --children=5 --child-time=30
    interrupt_session 6 0.05
    finish_session
    assert_died_of_sigint
    start_session zombie_fixed --sigchld --children=5 --child-time=30
    interrupt_session 6 0.05
    finish_session
    assert_died_of_sigint
}

@test "spawn_cost: Ctrl-C in the middle of forking leaves nothing behind" {
    local delay
    for delay in 0 0.05 0.1 0.2; do
        start_session spawn_cost --spawns=1000000
        wait_until 5 grep -q '^spawning' "$BATS_TEST_TMPDIR/out"
        sleep "$delay"
        kill -INT -- "-$session"
        finish_session
        assert_died_of_sigint
    done
}
