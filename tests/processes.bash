# Process ownership, shared by the suites of the chapters whose programs fork (04, 05, 06):
# load it after the helpers, with `load ../processes`.
#
#   start_session PROG [ARGS...]     run PROG in the background, leading a new session
#   start_session_limited N PROG ... the same, as user nobody under `ulimit -u N` (fork fails)
#   finish_session                   wait (bounded) for it, then fail if ANY process of its
#                                    session is left: a zombie or an orphan still running
#   interrupt_session N DELAY        Ctrl-C: SIGINT to the whole group once it has N processes
#   terminate_parent N DELAY         SIGTERM to the parent alone once the session has N processes
#   kill_one_child N DELAY           SIGKILL to one child of the parent; sets $killed_child
#   assert_died_of_sigint / assert_died_of_sigterm
#
# A program started with start_session leads a new session (setsid): the program, its children
# and their children all carry its PID as their session id, even after they are reparented.
# So "nothing left behind" is: once the program has been waited for, no process has that session
# id. This is checked at once, with no grace period: every program reaps all its children
# before it exits (see common/children.c). An orphan would be reaped by PID 1 at best, late or
# (in some containers) never.

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

# start_session_limited N PROG [ARGS...]: like start_session, but as user nobody under
# `ulimit -u N`: the program and its processes may number N at most, so fork N fails. root is
# exempt from that limit, hence nobody; the test is skipped where setpriv or root is missing.
# The program runs from a copy nobody can reach (prog_copy_for_nobody); finish_session removes it.
start_session_limited() {
    local limit=$1 prog
    [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null ||
        skip "needs root and setpriv to run a program as nobody under ulimit -u"
    [ "$(pgrep -c -u 65534)" -eq 0 ] || skip "user nobody already runs processes"
    prog_copy_for_nobody "$2"
    prog=$nobody_copy
    shift 2
    setsid env --default-signal=INT,QUIT setpriv --reuid=65534 --regid=65534 --clear-groups \
        bash -c 'ulimit -u "$1" && shift && exec "$@"' limited "$limit" "$prog" "$@" \
        >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null 3>&- &
    session=$!
    wait_until 5 leads_session "$session" || fail "process $session did not start its own session"
}

# finish_session: wait (bounded) for the session leader to exit, then check that nothing of
# its session is left. Sets $exit_code and $output (what the program printed).
finish_session() {
    if ! wait_until 30 has_exited "$session"; then
        kill -KILL -- "-$session" 2>/dev/null
        fail "the program did not end: killed its process group
$(cat "$BATS_TEST_TMPDIR/out")"
    fi
    exit_code=0
    wait "$session" || exit_code=$?
    [ -z "${nobody_copy:-}" ] || { rm -rf "${nobody_copy%/*}"; nobody_copy=''; }
    output=$(cat "$BATS_TEST_TMPDIR/out")
    mapfile -t lines <<<"$output"
    local left
    left=$(session_processes "$session")
    if [ -n "$left" ]; then
        local orphan_zombies
        orphan_zombies=$(awk '$2 == 1 && $3 ~ /^Z/' <<<"$left")
        kill -KILL -- "-$session" 2>/dev/null
        fail "left behind in session $session (PID PPID STAT COMMAND):
$left${orphan_zombies:+
of which zombies whose parent is gone (now PID 1, which may never reap them):
$orphan_zombies}
$output"
    fi
}

# wait_for_processes N: wait until the session has N processes (the program and its children
# all running), or fail saying what it has.
wait_for_processes() {
    wait_until 10 session_has_at_least "$session" "$1" ||
        fail "the session never had $1 processes: $(session_processes "$session")
$(cat "$BATS_TEST_TMPDIR/out")"
}

# interrupt_session PROCESSES DELAY: once the session has PROCESSES processes, wait DELAY
# seconds, then press Ctrl-C: SIGINT to the whole process group, as a terminal does.
interrupt_session() {
    wait_for_processes "$1"
    sleep "$2"
    kill -INT -- "-$session"
}

# terminate_parent PROCESSES DELAY: the same, but SIGTERM to the parent alone (`kill PID`):
# its children get nothing, so the parent must stop them itself.
terminate_parent() {
    wait_for_processes "$1"
    sleep "$2"
    kill -TERM "$session"
}

# kill_one_child PROCESSES DELAY: once the session has PROCESSES processes, wait DELAY seconds,
# then SIGKILL the newest child of the parent. Sets $killed_child to its PID.
kill_one_child() {
    wait_for_processes "$1"
    sleep "$2"
    killed_child=$(pgrep -n -P "$session") || fail "the parent $session has no child to kill"
    kill -KILL "$killed_child"
}

# The program died of SIGINT, like a program without any handler (status 128 + 2), and no
# sanitizer had anything to say on the way.
assert_died_of_sigint() {
    [ "$exit_code" -eq 130 ] || fail "expected death by SIGINT (status 130), got $exit_code
$output"
    refute_output --regexp 'Sanitizer|runtime error'
}

# The same for SIGTERM (status 128 + 15).
assert_died_of_sigterm() {
    [ "$exit_code" -eq 143 ] || fail "expected death by SIGTERM (status 143), got $exit_code
$output"
    refute_output --regexp 'Sanitizer|runtime error'
}
