#!/usr/bin/env bats
# The grader's own tests (make grade-selftest; CI runs them). What they prove, on every run:
#   - every untouched stub in exercises/ scores zero, and a hung stub's report shows where
#     each thread was stuck;
#   - every deliberately broken solution (tests/grade/broken/*.patch, each applied to a copy of
#     its reference solution) fails the test named on its "Caught by:" line;
#   - a submission that does not compile, or crashes, loses only its own tests; the run goes on;
#   - timed-run kills a hung program's whole process group; the JUnit report is valid XML;
#   - no points vanish: a skipped test's points stay possible, and the score line says why;
#   - a run of one exercise writes a report of its own, never over the full run's.
# That every solution passes every test is proven by tests/exercises/*.bats themselves, which
# grade solutions/ when make test runs them; here, the grader's full-marks line is checked once.

load ../assertions

setup_file() {
    : "${KIT_BUILD:?run the tests through make test}"
    local prefix=${KIT_BUILD_PREFIX:-build}
    export GRADE_WORK="$KIT_ROOT/$prefix/grade/selftest"
    case $prefix in /*) GRADE_WORK="$prefix/grade/selftest" ;; esac
    mkdir -p "$GRADE_WORK"
}

# The grader, on plain builds: what these tests prove does not depend on the sanitizers, and
# a sanitizer build multiplies every timeout by four (the hung stubs would wait that long).
# So under make test SANITIZE=... they would only repeat the plain run, and skip, saying so;
# tests/exercises/*.bats still grade the solutions with the sanitizer.
setup() {
    [ -z "${KIT_SANITIZE:-}" ] || skip "the grader grades plain builds: make test without SANITIZE runs this"
}

grade() {
    run "$KIT_ROOT/tests/grade/grade" "$@"
}

# copy_solution EXERCISE [NAME]: a copy of solutions/EXERCISE, in $GRADE_WORK/NAME (default:
# broken, one folder for every broken copy, so that they share one scratch tree and its
# built libraries); prints the folder holding it.
copy_solution() {
    local folder="$GRADE_WORK/${2:-broken}"
    rm -rf "${folder:?}/$1"
    mkdir -p "$folder"
    cp -pR "$KIT_ROOT/solutions/$1" "$folder/" || return 1
    echo "$folder"
}

@test "grader: every untouched stub scores zero, and a hung stub shows where its threads were" {
    grade --dir "$KIT_ROOT/exercises"
    assert_success
    assert_line --regexp '^Score: 0/[1-9][0-9]*$'
    local exercise
    for exercise in "$KIT_ROOT"/tests/exercises/[0-9][0-9]-*.bats; do
        assert_line --regexp "^  subtotal $(basename "$exercise" .bats): 0/[1-9][0-9]*"
    done
    refute_line --regexp '^  \[ *[1-9][0-9]*/[0-9]+\] PASS'
    # Exercise 02's stub deadlocks: the report names the lock call and the line in transfer().
    assert_line --regexp '^ +TIMEOUT: still running after [0-9]+ s, so it was killed'
    assert_line --regexp '^ +thread [0-9]+ \(LWP [0-9]+\): in pthread_mutex_lock$'
    assert_line --regexp '^ +transfer  bank\.c:[0-9]+$'
    # The JUnit report is valid XML and counts one failure per test.
    local junit
    junit=$(sed -n 's/^JUnit report: //p' <<<"$output")
    [[ $junit == /* ]] || junit=$KIT_ROOT/$junit
    xmllint --noout "$junit"
    [ "$(grep -c '<testcase ' "$junit")" -eq "$(grep -c '<failure ' "$junit")" ]
}

@test "grader: a solution scores full marks, and says which exercises pass" {
    grade --dir "$KIT_ROOT/solutions" --ex 01 --filter 'exact at 2, 4'
    assert_success
    assert_line --regexp '^  \[ 3/3\] PASS  the total is exact at 2, 4 and 8 threads'
    assert_line --regexp '^  subtotal 01-fix-the-race: 3/3$'
    assert_line --regexp '^Score: 3/3$'
    grade --dir "$KIT_ROOT/solutions" --ex 01 --filter 'exact at 2, 4' --progress
    assert_output --partial '1 of 1 exercises passing'
}

# check_broken NN: every broken solution of exercise NN (tests/grade/broken/NN-*.patch) fails
# the test named on its "Caught by:" line, and passes no test. One bats test per exercise keeps
# each within its timeout as the patches grow.
check_broken() {
    local patch name exercise caught folder failures=() count=0
    for patch in "$KIT_ROOT"/tests/grade/broken/"$1"-*.patch; do
        [ -f "$patch" ] || continue
        count=$((count + 1))
        name=$(basename "$patch" .patch)
        exercise=$(sed -n 's|^--- a/\([^/]*\)/.*|\1|p' "$patch" | head -1)
        caught=$(sed -n 's/^Caught by: //p' "$patch")
        folder=$(copy_solution "$exercise")
        patch -s -d "$folder" -p1 <"$patch" || { failures+=("$name: patch does not apply"); continue; }
        grade --dir "$folder" --ex "${exercise%%-*}" --filter "$caught"
        if ! grep -qE "^  \[ 0/[0-9]+\] FAIL  .*$caught" <<<"$output" ||
            grep -qE '^  \[ *[0-9]+/[0-9]+\] PASS' <<<"$output"; then
            failures+=("$name was not caught by '$caught':" "$output")
        fi
    done
    [ "$count" -gt 0 ] || fail "no broken solution of exercise $1 in tests/grade/broken/"
    [ ${#failures[@]} -eq 0 ] || fail "$(printf '%s\n' "${failures[@]}")"
}

@test "grader: exercise 01's deliberately broken solutions are each caught by the test meant to" { check_broken 01; }
@test "grader: exercise 02's deliberately broken solutions are each caught by the test meant to" { check_broken 02; }
@test "grader: exercise 03's deliberately broken solutions are each caught by the test meant to" { check_broken 03; }
@test "grader: exercise 04's deliberately broken solutions are each caught by the test meant to" { check_broken 04; }
@test "grader: exercise 05's deliberately broken solutions are each caught by the test meant to" { check_broken 05; }
@test "grader: exercise 06's deliberately broken solutions are each caught by the test meant to" { check_broken 06; }

@test "grader: a copy that does not compile, or crashes, loses only its own tests" {
    local folder
    folder=$(copy_solution 01-fix-the-race does-not-compile)
    echo 'this is not C' >>"$folder/01-fix-the-race/counter.c"
    grade --dir "$folder" --ex 01
    assert_success
    assert_line '  it does not build: every test that needs what failed to build fails.'
    assert_line --regexp '^ +got: +counter was not built'
    assert_line --regexp '^Score: 0/[1-9]'

    folder=$(copy_solution 01-fix-the-race crashes)
    sed -i 's|^    long seen = shared->counter; /\* read \*/|    long seen = shared->counter; if (seen == 100) abort();|' \
        "$folder/01-fix-the-race/counter.c"
    grade --dir "$folder" --ex 01 --filter 'exact at 2, 4'
    assert_success
    assert_line --regexp '^ +got: +it crashed: killed by SIGABRT$'
}

@test "timed-run: a hung program's whole process group is killed, also when timed-run is stopped" {
    local marker="grade-selftest-$$-$RANDOM"
    # A program that hangs, and a child of its own that would outlive it.
    run "$KIT_ROOT/tests/grade/timed-run" 1 \
        bash -c "(exec -a $marker-child sleep 60) & exec -a $marker sleep 61"
    [ "$status" -eq 124 ] || fail "status $status, expected 124: $output"
    assert_line --partial 'TIMEOUT: still running after 1 s, so it was killed'
    sleep 0.2
    ! pgrep -f "$marker" >/dev/null || fail "still running: $(pgrep -af "$marker")"
    # Stopped from outside (Ctrl-C, a timeout of its own caller): the program goes too.
    "$KIT_ROOT/tests/grade/timed-run" 60 bash -c "exec -a $marker-stopped sleep 62" &
    local runner=$!
    sleep 0.3
    kill -TERM "$runner"
    wait "$runner" || true
    sleep 0.2
    ! pgrep -f "$marker-stopped" >/dev/null || fail "still running after its runner was stopped"
    run "$KIT_ROOT/tests/grade/timed-run" 5 bash -c 'echo fine; exit 3'
    [ "$status" -eq 3 ]
    assert_output 'fine'
}

@test "grader: no points vanish: a test that cannot judge keeps its points possible, and says why" {
    # A kit of one made-up exercise whose suite skips two tests, graded by the real grader:
    # nothing to build (its prepare names no folder), so this checks the scoring alone.
    local kit="$BATS_TEST_TMPDIR/kit"
    mkdir -p "$kit/tests/grade" "$kit/tests/exercises" "$kit/exercises"
    ln -s "$KIT_ROOT/tests/grade/grade" "$KIT_ROOT/tests/grade/folder-tag" "$kit/tests/grade/"
    printf '#!/bin/sh\necho "%s"\n' "$kit/nothing-built" >"$kit/tests/grade/prepare"
    chmod +x "$kit/tests/grade/prepare"
    # (printf, not a here-document: bats would take its @test lines for tests of this file)
    printf '%s\n' '@test "[3] judged and right" { true; }' \
        '@test "[1] judged and wrong" { echo "expected: 1"; false; }' \
        '@test "[2] needs idle CPUs" { skip "other processes kept 0.90 CPUs busy"; }' \
        '@test "[4] needs two CPUs" { skip "one CPU"; }' >"$kit/tests/exercises/07-made-up.bats"
    # A suite that stops before its tests run: their points are not judged either.
    printf '%s\n' 'load no-such-helper' '@test "[5] never runs" { true; }' \
        >"$kit/tests/exercises/08-stops-early.bats"
    KIT_BUILD_PREFIX="$BATS_TEST_TMPDIR/out" run "$kit/tests/grade/grade" --dir "$kit/exercises" \
        --csv "$BATS_TEST_TMPDIR/grades.csv"
    assert_success
    assert_line '  [ 0/2] SKIP  needs idle CPUs'
    assert_line '          not judged: other processes kept 0.90 CPUs busy'
    assert_line '  subtotal 07-made-up: 3/10, 6 points not judged'
    assert_line '  subtotal 08-stops-early: 0/5, 5 points not judged'
    assert_line 'Score: 3/15, 11 points not judged: other processes kept 0.90 CPUs busy; one CPU; and 1 more (above)'
    assert_equal "$(cut -d, -f1-5 "$BATS_TEST_TMPDIR/grades.csv")" \
        "$(printf '%s\n' '"exercises",07-made-up,3,10,6' '"exercises",08-stops-early,0,5,5')"
    # The JUnit report: each test's points, the skipped ones as skipped, the suite's score.
    local junit="$BATS_TEST_TMPDIR/out/grade/exercises/junit.xml" suite='//testsuite[@name="07-made-up"]'
    xmllint --noout "$junit"
    [ "$(xmllint --xpath "count($suite/testcase[skipped][properties/property[@name='possible' and @value='2']])" "$junit")" -eq 1 ]
    [ "$(xmllint --xpath "string($suite/properties/property[@name='points']/@value)" "$junit")" = 3 ]
    [ "$(xmllint --xpath "string($suite/properties/property[@name='possible']/@value)" "$junit")" = 10 ]
    [ "$(xmllint --xpath "string($suite/properties/property[@name='not_judged']/@value)" "$junit")" = 6 ]
}

@test "grader: a run of one exercise writes its own report, never the full run's" {
    local reports="$KIT_ROOT/${KIT_BUILD_PREFIX:-build}/grade/solutions"
    case ${KIT_BUILD_PREFIX:-build} in /*) reports="$KIT_BUILD_PREFIX/grade/solutions" ;; esac
    grade --dir "$KIT_ROOT/solutions" --ex 01 --filter 'exact at 2, 4'
    assert_success
    assert_line --regexp "^JUnit report: .*/grade/solutions/junit-01-fix-the-race-filtered\.xml$"
    grade --dir "$KIT_ROOT/solutions" --ex 01 --filter 'exact at 2, 4' --junit "$BATS_TEST_TMPDIR/mine.xml"
    assert_line --regexp "^JUnit report: .*/mine\.xml$"
    [ -s "$BATS_TEST_TMPDIR/mine.xml" ]
}

@test "hint and reset: each folder its own hint count; a reset's backup outside build/; no is not an error" {
    local one="$BATS_TEST_TMPDIR/one" two="$BATS_TEST_TMPDIR/two"
    mkdir -p "$one" "$two"
    cp -pR "$KIT_ROOT/exercises/01-fix-the-race" "$one/"
    run "$KIT_ROOT/tests/grade/hint" 01 "$one"
    assert_success
    assert_line --regexp '^Hint 1 of [0-9]+ for 01-fix-the-race:$'
    run "$KIT_ROOT/tests/grade/hint" 01 "$one"
    assert_line --regexp '^Hint 2 of '
    run "$KIT_ROOT/tests/grade/hint" 01 "$two"
    assert_line --regexp '^Hint 1 of '

    echo '/* mine */' >>"$one/01-fix-the-race/counter.c"
    run "$KIT_ROOT/tests/grade/reset" 01 "$one" <<<n
    assert_success
    assert_line --partial 'reset: nothing changed'
    grep -q 'mine' "$one/01-fix-the-race/counter.c"
    run "$KIT_ROOT/tests/grade/reset" 01 "$one" <<<y
    assert_success
    local backup
    backup=$(sed -n 's/.*your version is in //p' <<<"$output")
    [[ $backup == reset-backups/student-one-*/01-fix-the-race-* ]] || fail "backup in: $backup"
    grep -q 'mine' "$KIT_ROOT/$backup/counter.c"
    rm -rf "${KIT_ROOT:?}/$(dirname "$backup")"
    rmdir "$KIT_ROOT/reset-backups" 2>/dev/null || true
    ! grep -q 'mine' "$one/01-fix-the-race/counter.c"
}
