#!/usr/bin/env bats
# Chapter 13, testing: a stress test that passes on the queue and catches its broken twin,
# whole log lines, a traced job drawn as a picture, and each tool's findings in one table.
# Every assertion is on a verdict line or a count that the program controls; nothing here
# depends on how fast the machine is (the stuck watchdog waits a second of no progress at all).
# Kept quick: each tool's findings are proven once, on the fewest runs that show them (valgrind
# takes half a second to start); the README's full-size lines run on the plain build only.

load ../helpers
load ../processes

# Under sanitizers everything runs several times slower: smaller sizes keep the file quick.
scaled() {
    if [ -n "${KIT_SANITIZE:-}" ]; then echo "$2"; else echo "$1"; fi
}

# chapter_build SANITIZE: build this chapter with those sanitizers ('' for none) beside the
# suite's own build, as make names it (the sanitizers program finds its builds there), and
# print the folder of its programs.
chapter_build() {
    local settings=(SANITIZE="$1" CC="$KIT_CC" BUILD_PREFIX="$KIT_BUILD_PREFIX") build
    make -s -j2 -C "$KIT_ROOT" chapter-13 "${settings[@]}" >&2 || return 1
    build=$(make -s --no-print-directory -C "$KIT_ROOT" build-folder "${settings[@]}") || return 1
    echo "$KIT_ROOT/$build/chapters/13-testing"
}

# run_alongside [--one-cpu] FILE PROG [ARGS...]: start PROG as run_prog would, in the
# background, its output going to FILE: the next run_prog runs at the same time. Then collect
# FILE waits for it and reads what it printed as bats' run does ($status, $output, $lines).
run_alongside() {
    local pin=()
    [ "$1" != --one-cpu ] || { pin=(taskset -c 0) && shift; }
    local file=$1 prog=$2
    shift 2
    timeout -k 2 "$(kit_timeout 120)" "${pin[@]}" "$(prog_path "$prog")" "$@" \
        >"$file" 2>&1 </dev/null 3>&- &
    alongside=$!
}
collect() {
    local status=0
    wait "$alongside" || status=$?
    alongside=''
    run bash -c 'cat "$1" && exit "$2"' collect "$1" "$status"
}

# A test that failed before collect leaves no run behind: timeout passes SIGTERM on to it.
teardown() {
    [ -z "${alongside:-}" ] || kill "$alongside" 2>/dev/null || true
}

OK_STRESS='each delivered once, in order per producer, never over capacity, every round shut down cleanly$'

@test "stress_queue: every invariant holds in every round, at every thread count, on one CPU too" {
    # Two rounds at each thread count: the README test runs the README's 120 rounds (twenty at
    # each) on the plain build.
    run_prog stress_queue --rounds=12 --items=500
    assert_success
    assert_line --regexp "^OK: 12 rounds, [0-9]+ items: $OK_STRESS"
    assert_line --regexp '^1 producer\(s\) x 1 consumer\(s\): +[0-9]+ rounds, +[0-9]+ items'
    assert_line --regexp '^8 producer\(s\) x 8 consumer\(s\): +[0-9]+ rounds, +[0-9]+ items'
    run_on_one_cpu stress_queue --rounds=12 --items=500
    assert_success
    assert_line --regexp "^OK: 12 rounds, [0-9]+ items: $OK_STRESS"
}

@test "stress_queue: the same seed replays the same plan, another seed another" {
    # The plan of seed 2024 is the one the README shows, from a run made long ago: replayed.
    local plan='plan: capacities 3 8 1 8 8 8 3 64 2 3 3 3'
    run_prog stress_queue --seed=2024 --rounds=12 --items=16
    assert_success
    assert_line 'stress: 12 rounds of 16 items through the queue, seed 2024 (--seed=2024 replays the plan)'
    assert_line "$plan"
    grep -qF -- "$plan ..." "$KIT_ROOT/$KIT_LESSON/README.md" || fail "the README shows another plan"
    run_prog stress_queue --seed=2025 --rounds=12 --items=16
    assert_success
    assert_line --regexp '^plan: capacities( [0-9]+){12}$'
    refute_line "$plan"
}

@test "stress_queue --broken: the stress test catches the lost wake-up, on one CPU too" {
    # The two runs go at once: each sits out a stuck second of its own, and the seconds overlap.
    local caught='^BROKEN: the stress test caught the broken queue in round [0-9]+ of 36$'
    run_alongside --one-cpu "$BATS_TEST_TMPDIR/one-cpu" stress_queue --broken --items=500
    run_prog stress_queue --broken --items="$(scaled 2000 500)"
    assert_success
    assert_line --regexp "$caught"
    assert_line --regexp '^  stuck: nothing moved for [0-9.]+ s; woken by a broadcast, the sleepers finished'
    assert_line --regexp '^replay its plan: stress_queue --seed=[0-9]+ --broken$'
    refute_line --regexp '^round 1 FAILED' # round 1 is 1x1: the bug cannot show there
    collect "$BATS_TEST_TMPDIR/one-cpu"
    assert_success
    assert_line --regexp "$caught"
}

@test "stress_queue --broken --one-each: one producer and one consumer never catch it" {
    # 1x1 cannot lose a wake-up by construction: small rounds show it as well as big ones.
    run_prog stress_queue --broken --one-each --rounds=12 --items=500
    assert_success
    assert_line --regexp '^note: the broken queue survived 12 rounds: .*\(drop --one-each\)$'
    refute_line --regexp '^(BROKEN|FAILED)'
}

@test "thread_log: printf in pieces tears lines; one write per line keeps them whole, on one CPU too" {
    run_prog thread_log
    assert_success
    assert_line --regexp '^  naive: 800 lines in the file, [1-9][0-9]* torn'
    assert_line '  whole: 800 lines in the file, 0 torn, 0 out of order within their thread'
    assert_line --regexp '^OK: whole lines: all 800 intact and in order per thread; naive printf tore [1-9][0-9]*$'
    assert_line --regexp '^ +[0-9]+\.[0-9]{6} \[tid [0-9]+ logger-[0-3]\] line [0-9]+ of 200$'
    run_on_one_cpu thread_log --threads=8 --lines=100 --show=0
    assert_success
    assert_line --regexp '^OK: whole lines: all 800 intact and in order per thread; naive printf tore [1-9]'
    run_prog thread_log --no-pause --show=0
    assert_success
    assert_line --regexp '^(OK|note): whole lines: all 800 intact'
}

@test "timelines: both runs traced; the JSON a trace viewer reads; an SVG picture of every span" {
    local prefix="$BATS_TEST_TMPDIR/trace" snapshots="$BATS_TEST_TMPDIR/cpu-snapshots" ratio
    cpu_snapshot "$snapshots"
    run_prog timelines --output="$prefix"
    cpu_snapshot "$snapshots"
    assert_success
    assert_line --regexp '^OK: with the lock held over the fetch, the workers waited [0-9]+% of the time'
    assert_line "wrote $prefix.json (open it in https://ui.perfetto.dev or chrome://tracing)"
    assert_line "wrote $prefix.svg (open it in a web browser)"
    assert_line --regexp '^the short lock finished x[0-9.]+ faster$'
    ratio=$(ratio_on '^the short lock finished x')
    # 2 runs x 24 tasks x 3 spans (wait, fetch, update); a name for each run and each thread;
    # a bar in the picture for each span.
    run python3 -c '
import json, sys, xml.etree.ElementTree as tree
events = json.load(open(sys.argv[1] + ".json"))["traceEvents"]
spans = [e for e in events if e["ph"] == "X"]
assert all(e["dur"] >= 0 and e["ts"] >= 0 and e["tid"] > 0 for e in spans)
svg = "{http://www.w3.org/2000/svg}"
bars = tree.parse(sys.argv[1] + ".svg").getroot().findall(".//" + svg + "rect[" + svg + "title]")
print(len(spans), "spans,", sum(e["ph"] == "M" for e in events), "names,", len(bars), "bars")' \
        "$prefix"
    assert_success
    assert_output '144 spans, 10 names, 144 bars'
    # The speed-up is a timing: each 2 ms fetch ends in a wake-up that waits for a CPU when
    # other processes keep them busy, in both runs alike, and the ratio shrinks towards 1. Below
    # x2 it fails only when they did not (helpers.bash, run_on_idle_cpus, says how that is
    # measured); else the test skips, saying so.
    awk -v ratio="$ratio" 'BEGIN { exit !(ratio >= 2) }' && return 0
    local others
    others=$(others_busy "$snapshots")
    awk -v others="$others" 'BEGIN { exit !(others < 0.25) }' ||
        skip "every check passed but the speed-up (x$ratio): other processes kept $others CPUs busy"
    at_least "$ratio" 2
}

@test "thread_bugs: each bug runs to the end and looks fine; the correct work says OK" {
    run_prog thread_bugs --bug=none
    assert_success
    assert_line --regexp '^cpu: [0-9.]+ ms for 8000 rounds, [0-9.]+ ns a round$'
    assert_line 'OK: no bug here: no tool should report anything'
    # Under a sanitizer build the bugs are reported (the next test is about that).
    [ -z "${KIT_SANITIZE:-}" ] || return 0
    # Each bug's plain run is in the sanitizers tests' "plain run" column too; its verdict, here.
    local bug
    for bug in race lock-order use-after-free leak; do
        run_prog thread_bugs --bug="$bug"
        assert_success
        assert_line "BROKEN: the $bug bug ran and this run looked fine: only a tool can tell (sanitizers runs each)"
    done
    assert_line 'leak: 4 workers returned their results, and main never looked at them'
}

@test "sanitizers: each tool reports what it should, and nothing on the correct work" {
    local variant
    for variant in '' thread address,undefined; do # the suite's own is built already
        [ "$variant" = "${KIT_SANITIZE:-}" ] || chapter_build "$variant" >/dev/null ||
            fail "make chapter-13 SANITIZE=$variant failed"
    done
    # Each finding once: the thread tools on the thread bugs, the memory tools (and TSan) on the
    # memory bugs, every tool on the correct work; both at once. (sanitizers --all, the README's
    # table, runs valgrind ten times; these, six.) Under a sanitizer it is the driver that is
    # under test: the memory half, on two rows, which runs every kind of tool but helgrind.
    local memory="$BATS_TEST_TMPDIR/memory"
    if [ -z "${KIT_SANITIZE:-}" ]; then
        run_alongside "$memory" sanitizers --bug=use-after-free --bug=leak --bug=none \
            --tool=plain --tool=tsan --tool=asan --tool=memcheck
        run_prog --timeout 120 sanitizers --bug=race --bug=lock-order --bug=none \
            --tool=tsan --tool=helgrind
        assert_success
        assert_line --regexp '^bug +TSan +helgrind$'
        assert_line --regexp '^race +data race +data race$'
        assert_line --regexp '^lock-order +lock order +lock order$'
        assert_line --regexp '^none +- +-$'
        assert_line --regexp '^  race, TSan: WARNING: ThreadSanitizer: data race'
        assert_line --regexp '^  lock-order, helgrind: Thread #[0-9]+: lock order ".*" violated$'
        assert_line 'OK: each bug was reported by the tools that look for it; the correct work by none'
        collect "$memory"
        assert_line --regexp '^leak +- +- +leak +leak$'
    else
        run_prog --timeout 120 sanitizers --bug=use-after-free --bug=none \
            --tool=plain --tool=tsan --tool=asan --tool=memcheck
    fi
    assert_success
    assert_line --regexp '^bug +plain run +TSan +ASan\+UBSan +memcheck$'
    assert_line --regexp '^use-after-free +- +use after free +use after free +use after free$'
    assert_line --regexp '^none +- +- +- +-$'
    assert_line --regexp '^cost \(CPU\) +[0-9]+ ns a round +x[0-9.]+ slower +x[0-9.]+ (slower|faster) +x[0-9.]+ slower$'
    assert_line --regexp '^  use-after-free, ASan\+UBSan: ERROR: AddressSanitizer: heap-use-after-free on address 0x[0-9a-f]+$'
    assert_line --regexp "^  use-after-free, memcheck: Address 0x[0-9a-f]+ is [0-9]+ bytes inside a block of size [0-9]+ free'd$"
    assert_line 'OK: each bug was reported by the tools that look for it; the correct work by none'
}

@test "sanitizers: a sanitizer build or valgrind that is not there is a note, not a failure" {
    # A build folder of its own, with a plain build only, and no valgrind on the PATH.
    local tree="$BATS_TEST_TMPDIR/build/gcc/chapters/13-testing" plain
    plain=$(chapter_build '') || fail "make chapter-13 failed"
    mkdir -p "$tree"
    cp "$plain/sanitizers" "$plain/thread_bugs" "$tree/"
    run timeout -k 2 "$(kit_timeout 60)" env PATH=/nonexistent "$tree/sanitizers" --bug=leak
    assert_success
    assert_line --regexp '^leak +- +not built +not built +not installed +not installed$'
    assert_line 'note: 2 run(s) not made: their builds are missing; make them with'
    assert_line --regexp "^  make chapter-13 SANITIZE=thread CC=[a-z]+ BUILD_PREFIX=$BATS_TEST_TMPDIR/build$"
    assert_line 'note: 2 run(s) not made: valgrind is not installed (apt-get install valgrind)'
    assert_line 'OK: each bug was reported by the tools that look for it, of those that ran; the correct work by none'
}

@test "options: totals beyond the cap and unknown bugs are refused up front, with the reason" {
    run_prog stress_queue --rounds=100000 --items=1000
    assert_failure 2
    assert_output --partial 'over the cap'
    run_prog thread_log --threads=64 --lines=100000
    assert_failure 2
    assert_output --partial 'over the cap'
    run_prog thread_bugs --bug=deadlock
    assert_failure 2
    assert_output --partial 'no such bug'
    run_prog sanitizers --bug=deadlock
    assert_failure 2
    assert_output --partial 'no such bug'
    run_prog sanitizers --tool=gdb
    assert_failure 2
    assert_output --partial 'no such tool'
}

@test "README: the try-this lines run" {
    readme_lines_test
    run_prog stress_queue --rounds=120 --items=200
    assert_success
    assert_line --regexp "^OK: 120 rounds"
    run_prog thread_log --threads=16 --lines=50 --show=8
    assert_success
    assert_line --regexp '^OK: whole lines: all 800 intact'
    run_prog timelines --workers=8 --tasks=40 --output="$BATS_TEST_TMPDIR/eight"
    assert_success
    assert_line --regexp '^OK: '
    run_prog timelines --workers=1 --output="$BATS_TEST_TMPDIR/one"
    assert_success
    assert_line --regexp '^note: '
}

# ---- make explore: every interleaving, replayable -------------------------------------------
# Counts and schedules are the search's own, the same on any machine at any load: each run is a
# fresh process under the controlled scheduler, and its choices are all the scheduler's.

# explore ARGS...: make explore in this suite's build prefix, like bats' run. The explorer
# exits 1 on a failing interleaving, which make reports as an error of its own (status 2).
explore() {
    run timeout -k 2 "$(kit_timeout 240)" make -s --no-print-directory -C "$KIT_ROOT" explore \
        BUILD_PREFIX="$KIT_BUILD_PREFIX" CC="$KIT_CC" "$@"
}

@test "explore: race_counter 2x3 loses an update at one preemption; the replay is the same every time" {
    # The decision numbers depend on what the compiler instruments (gcc and clang differ), the
    # rest does not: the lost update needs exactly one preemption.
    explore PROG=race_counter ARGS=--iterations=3
    assert_failure
    assert_line '  0 preemptions: 3 interleavings'
    assert_line --regexp '^FAILED: run [0-9]+ \(1 preemption\): the program said: BROKEN: expected 6, got 3 \(3 updates lost\)$'
    assert_line --regexp '^schedule: T2@[0-9]+$'
    local schedule
    schedule=$(sed -n 's/^schedule: //p' <<<"$output")
    assert_line "replay it step by step: make explore PROG=race_counter ARGS='--iterations=3' REPLAY=$schedule"
    explore PROG=race_counter ARGS=--iterations=3 REPLAY="$schedule"
    assert_failure
    assert_line --regexp "^replay of schedule $schedule: 1 preemption, [0-9]+ decisions"
    # Thread 1 read 2 before the preemption, and wrote 2 + 1 after thread 2's three increments.
    assert_line --regexp '^ +[0-9]+  T1 +read +#[0-9]+ +2 +race_counter\.c:[0-9]+ add_one$'
    assert_line --regexp '^ +[0-9]+  T2 +write +#[0-9]+ +5 +race_counter\.c:[0-9]+ add_one$'
    assert_line --regexp '^ +[0-9]+  T1 +write +#[0-9]+ +3 +race_counter\.c:[0-9]+ add_one$'
    assert_line 'FAILED: the program said: BROKEN: expected 6, got 3 (3 updates lost)'
    local first=$output
    explore PROG=race_counter ARGS=--iterations=3 REPLAY="$schedule"
    [ "$output" = "$first" ] || fail "two replays of one schedule differ"
    # The pictures: an SVG and a Perfetto JSON trace, one row a thread.
    local picture
    picture=$(sed -n 's/^timeline (SVG): //p' <<<"$output")
    grep -q '<svg' "$KIT_ROOT/$picture" || fail "no SVG at $picture"
    python3 -c 'import json, sys; json.load(open(sys.argv[1]))' \
        "$KIT_ROOT/$(sed -n 's/^trace (Perfetto JSON): //p' <<<"$output")"
}

@test "explore: race_counter_fixed 2x3 passes every interleaving up to 2 preemptions: 3, 25, 82" {
    explore PROG=race_counter_fixed ARGS=--iterations=3
    assert_success
    assert_line '  0 preemptions: 3 interleavings'
    assert_line '  1 preemption : 25 interleavings'
    assert_line '  2 preemptions: 82 interleavings'
    assert_line 'explored 110 interleavings with up to 2 preemptions: all passed'
    assert_line --regexp '^note: no failure within this bound, .*no proof beyond the bound\)$'
}

@test "explore: deadlock's forced order fails the first run; a real deadlock shows each thread's wait" {
    explore PROG=deadlock
    assert_failure
    assert_line --regexp '^FAILED: run 1 \(0 preemptions\): the program said: BROKEN: deadlock detected'
    assert_line 'schedule: -'
    # Exercise 02's stub takes two locks in the order of the transfer: a deadlock for real. (The
    # function is transfer(), or make_transfers() where clang inlines it.)
    explore PROG=exercises/02-fix-the-deadlock/bank ARGS='--threads=2 --accounts=2 --transfers=2'
    assert_failure
    assert_line --regexp '^FAILED: run [0-9]+ \(1 preemption\): deadlock: no thread can go on$'
    assert_line --regexp '^  T0 waits for T1 to end, at bank\.c:[0-9]+ main$'
    assert_line --regexp '^  T1 waits for a mutex #[0-9]+ held by T2, at bank\.c:[0-9]+ [a-z_]+$'
    assert_line --regexp '^  T2 waits for a mutex #[0-9]+ held by T1, at bank\.c:[0-9]+ [a-z_]+$'
}

@test "explore: deadlock_fixed 2 tellers x 1 transfer passes every interleaving" {
    explore PROG=deadlock_fixed ARGS='--threads=2 --accounts=2 --transfers=1'
    assert_success
    assert_line --regexp '^explored [0-9]+ interleavings with up to 2 preemptions: all passed$'
}

@test "explore: lost_wakeup's broken rule fails the first run; its own rule passes" {
    explore PROG=lost_wakeup ARGS=--broken
    assert_failure
    assert_line --regexp '^FAILED: run 1 \(0 preemptions\): the program said: BROKEN: a consumer slept beside an item'
    assert_line 'schedule: -'
    explore PROG=lost_wakeup BOUND=0
    assert_success
    assert_line --regexp '^explored [0-9]+ interleavings with up to 0 preemptions: all passed$'
}

@test "explore: random mode finds the lost update; one seed, one schedule" {
    explore PROG=race_counter ARGS=--iterations=2 MODE=random SEED=7 RUNS=200
    assert_failure
    assert_line --regexp '^FAILED: random interleaving [0-9]+ of seed 7 '
    local schedule
    schedule=$(sed -n 's/^schedule: //p' <<<"$output")
    explore PROG=race_counter ARGS=--iterations=2 MODE=random SEED=7 RUNS=200
    assert_line "schedule: $schedule"
    explore PROG=race_counter ARGS=--iterations=2 REPLAY="$schedule"
    assert_failure
    assert_line --regexp '^FAILED: the program said: BROKEN: expected 4'
}

@test "explore: a cap on runs ends the search, and the verdict says so" {
    explore PROG=race_counter_fixed ARGS=--iterations=3 MAX_RUNS=20
    assert_success
    assert_line --regexp '^explored [0-9]+ interleavings with up to [0-9] preemptions: all passed, but the cap \(20 runs or 120 s\) ended the search: not every one was run$'
    explore PROG=no_such_program
    assert_failure 2
    assert_output --partial "make explore: no program 'no_such_program'"
}

# ---- sanitizers starts processes: it owns them on every path ---------------------------------

@test "sanitizers: SIGTERM to the parent alone, or Ctrl-C, stops and reaps every tool run" {
    start_session sanitizers --all
    terminate_parent 2 0.1
    finish_session
    assert_died_of_sigterm
    start_session sanitizers --all
    interrupt_session 2 0.1
    finish_session
    assert_died_of_sigint
}

@test "sanitizers: a tool run killed mid-way is a failure, named in the table" {
    # helgrind's run of this row lives half a second or more (valgrind's start, the worker's
    # 0.2 s sleep): found while it runs, it is killed before it ends.
    start_session sanitizers --bug=use-after-free --tool=helgrind
    wait_until 30 pgrep -P "$session" helgrind >/dev/null ||
        fail "no helgrind run was started: $(cat "$BATS_TEST_TMPDIR/out")"
    kill -KILL "$(pgrep -n -P "$session" helgrind)"
    finish_session
    [ "$exit_code" -eq 1 ] || fail "exit status $exit_code: $output"
    # What helgrind had found before the kill may follow ("killed (signal 9), data race").
    assert_line --regexp '^use-after-free +killed \(signal 9\)(, .*)?$'
    assert_line --regexp '^  FAILED: use-after-free, helgrind: killed \(signal 9\)(, .*)?$'
    assert_line --regexp '^FAILED: 1 cell\(s\) of the table are not what the tool should report$'
}
