#!/usr/bin/env bats
# make grade-class and make handout (tests/grade/grade-class, tests/grade/handout): a class of
# three graded into the right CSV and JUnit reports, the same points twice; odd folder names
# refused before anything is graded; the students' copy of the kit holds no solution. Grading
# is cut to one test of exercise 01 (--filter) to stay quick: what grade-class adds is the class
# around the grader, whose every test grader.bats and tests/exercises/*.bats prove.

load ../assertions

setup_file() {
    : "${KIT_BUILD:?run the tests through make test}"
}

setup() {
    [ -z "${KIT_SANITIZE:-}" ] || skip "the grader grades plain builds: make test without SANITIZE runs this"
}

FILTER='exact at 2, 4'

# A class of three: a solved copy (its name needs quoting in CSV and escaping in XML), the
# untouched stubs, and a copy that does not build.
make_class() {
    local class=$1 solved="$1/Ann O'Brien, <solved> & done"
    mkdir -p "$solved" "$class/stubs" "$class/does-not-build"
    cp -pR "$KIT_ROOT/solutions/01-fix-the-race" "$solved/"
    cp -pR "$KIT_ROOT/exercises/01-fix-the-race" "$class/stubs/"
    cp -pR "$KIT_ROOT/solutions/01-fix-the-race" "$class/does-not-build/"
    echo 'this is not C' >>"$class/does-not-build/01-fix-the-race/counter.c"
    echo 'not a student' >"$class/notes.txt"
}

@test "grade-class: a class of three gets the right CSV and JUnit reports, and the same points twice" {
    local class="$BATS_TEST_TMPDIR/class" out="$BATS_TEST_TMPDIR/out" first second possible
    make_class "$class"
    run "$KIT_ROOT/tests/grade/grade-class" "$class" --ex 01 --filter "$FILTER" --out "$out"
    assert_success
    assert_line 'grade-class: notes.txt is not a folder: left alone'
    assert_line --regexp "^Ann O'Brien, <solved> & done: ([1-9][0-9]*)/\1 \([0-9]+ s\)$"
    assert_line --regexp '^stubs: 0/[1-9][0-9]* \([0-9]+ s\)$'
    assert_line --regexp '^does-not-build: 0/[1-9][0-9]* \([0-9]+ s\)$'
    assert_line --regexp '^Graded 3 students in [0-9]+ s: '
    # Student, exercise, points, possible, not judged (the line less its last field: a name
    # may hold a comma); the seconds are a number.
    first=$(sed 's/,[^,]*$//' "$out/grades.csv")
    possible=$(sed -n 2p "$out/grades.csv" | awk -F, '{ print $(NF - 2) }')
    [[ $possible =~ ^[1-9][0-9]*$ ]] || fail "no points possible: $first"
    assert_equal "$first" "$(printf '%s\n' \
        'student,exercise,points,possible,not_judged' \
        "\"Ann O'Brien, <solved> & done\",01-fix-the-race,$possible,$possible,0" \
        "\"does-not-build\",01-fix-the-race,0,$possible,0" \
        "\"stubs\",01-fix-the-race,0,$possible,0")"
    [ "$(grep -cE ',[0-9]+\.[0-9]$' "$out/grades.csv")" -eq 3 ]
    # Each student's JUnit report: valid, naming the student, the score on the suite.
    local junit="$out/junit/Ann O'Brien, <solved> & done.xml"
    xmllint --noout "$junit" "$out/junit/stubs.xml" "$out/junit/does-not-build.xml"
    [ "$(xmllint --xpath 'string(//testsuite/properties/property[@name="student"]/@value)' "$junit")" = \
        "Ann O'Brien, <solved> & done" ]
    [ "$(xmllint --xpath 'string(//testsuite/properties/property[@name="points"]/@value)' "$junit")" = "$possible" ]
    [ "$(xmllint --xpath 'count(//testcase/properties/property[@name="points"])' "$out/junit/stubs.xml")" -ge 1 ]
    grep -q 'it does not build' "$out/reports/does-not-build.txt"

    run "$KIT_ROOT/tests/grade/grade-class" "$class" --ex 01 --filter "$FILTER" --out "$out"
    assert_success
    second=$(sed 's/,[^,]*$//' "$out/grades.csv")
    assert_equal "$second" "$first"
}

@test "grade-class: odd folder names and links are refused, each named, before anything is graded" {
    local class="$BATS_TEST_TMPDIR/odd" out="$BATS_TEST_TMPDIR/odd-out"
    mkdir -p "$class/fine" "$class/-rf" "$class/=HYPERLINK(1)" "$class/two
lines"
    ln -s /etc "$class/a-link"
    run "$KIT_ROOT/tests/grade/grade-class" "$class" --ex 01 --filter "$FILTER" --out "$out"
    [ "$status" -eq 2 ] || fail "status $status: $output"
    assert_line --partial 'grade-class: nothing graded: rename these folders'
    assert_line "  -rf: starts with '-' (an option, a hidden file or a spreadsheet formula)"
    assert_line "  =HYPERLINK\\(1\\): starts with '=' (an option, a hidden file or a spreadsheet formula)"
    assert_line "  \$'two\\nlines': a control character (a newline, a tab, ...) in it"
    assert_line '  a-link: a symbolic link (copy the folder in instead)'
    refute_line '  fine'
    [ ! -e "$out/grades.csv" ]
}

@test "handout: the students' copy holds no solution, neither as a file nor in what its docs read" {
    local handout="$BATS_TEST_TMPDIR/handout"
    run "$KIT_ROOT/tests/grade/handout" "$handout"
    assert_success
    assert_output --regexp "^handout: the students' copy is in .* \([0-9]+ files, no solutions\)$"
    [ ! -e "$handout/solutions" ]
    [ ! -e "$handout/tests/grade/broken" ]
    ! grep -qE '^INPUT +=.*solutions' "$handout/docs/Doxyfile"
    [ -f "$handout/exercises/01-fix-the-race/counter.c" ]
    git -C "$handout" cat-file -e HEAD:exercises/01-fix-the-race/counter.c
    # Every line of a solution's code that the student is not given anyway (not in a stub,
    # a lesson or an exercise's hints), if long enough to be telling, is nowhere else in the
    # copy: not in a test, a driver, the docs' sources, the make files.
    local lines="$BATS_TEST_TMPDIR/solution-lines" given="$BATS_TEST_TMPDIR/given-lines" solution stub
    while IFS= read -r solution; do
        stub=$KIT_ROOT/exercises/${solution#"$KIT_ROOT"/solutions/}
        grep -vxF -f <(cat "$stub" 2>/dev/null || true) "$solution" |
            sed 's/^[[:space:]]*//' | grep -E '^.{30,}$' | grep -vE '^(/?\*|//|#include)' || true
    done < <(find "$KIT_ROOT/solutions" -name '*.[ch]') | sort -u >"$lines"
    [ -s "$lines" ] || fail "no solution lines found to look for"
    find "$KIT_ROOT/chapters" "$KIT_ROOT/common" "$KIT_ROOT/exercises" -type f -exec cat {} + |
        grep -oFf "$lines" | sort -u >"$given"
    run grep -rnFf <(grep -vxFf "$given" "$lines") --exclude-dir=.git --exclude-dir=chapters \
        --exclude-dir=common --exclude-dir=exercises "$handout"
    [ "$status" -eq 1 ] || fail "solution code in the handout (status $status): $output"
}
