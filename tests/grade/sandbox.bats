#!/usr/bin/env bats
# The grader's sandbox (tests/grade/sandbox, run by timed-run and prepare), against hostile
# submissions. Each is a copy of exercise 01 (its stub or its solution) with hostile code
# added, graded like a student's folder (tests/grade/grade --dir). For each: grading ends in
# bounded time, nothing the submission started is left running, nothing outside the
# submission shows in the report, and no file of the kit holds what it tried to write there.
# Each run of the hostile code is tagged with $HOSTILE_TAG (made afresh per test), which it
# writes wherever it writes and puts in its processes' names, so that what it did is found
# whatever else runs on the machine.
# Some cases need root (CI is root): as another user they skip, saying so.

load ../assertions

setup_file() {
    : "${KIT_BUILD:?run the tests through make test}"
    local prefix=${KIT_BUILD_PREFIX:-build}
    export GRADE_WORK="$KIT_ROOT/$prefix/grade/sandbox-selftest"
    case $prefix in /*) GRADE_WORK="$prefix/grade/sandbox-selftest" ;; esac
    mkdir -p "$GRADE_WORK"
}

setup() {
    [ -z "${KIT_SANITIZE:-}" ] || skip "the grader grades plain builds: make test without SANITIZE runs this"
    # A process name holds 15 characters: the tag fits, with room for a suffix.
    export HOSTILE_TAG="hx$$r$RANDOM"
    STARTED=$SECONDS
}

# Whatever the test did, nothing tagged is left running, and no file of the kit (its tracked
# files, and the grading tree of the hostile copies) holds the tag or is named after it.
teardown() {
    [ -n "${HOSTILE_TAG:-}" ] || return 0
    local left written
    left=$({ pgrep -a "$HOSTILE_TAG"; pgrep -af "$HOSTILE_TAG"; } | grep -v -e pgrep -e bats)
    [ -z "$left" ] || { pkill -KILL -f "$HOSTILE_TAG"; pkill -KILL "$HOSTILE_TAG"
                        fail "left running: $left"; }
    written=$(cd "$KIT_ROOT" && { git ls-files -z | xargs -0 grep -l -- "$HOSTILE_TAG" 2>/dev/null
                                  find . .. -maxdepth 1 -name "*$HOSTILE_TAG*"
                                  find . -path './build*' -prune -o -path ./.git -prune -o \
                                      -name "*$HOSTILE_TAG*" -print
                                  find "${GRADE_WORK%/*}"/student-hostile-*/tree \
                                      -name "*$HOSTILE_TAG*" 2>/dev/null; })
    [ -z "$written" ] || fail "the submission wrote into the kit: $written"
}

# hostile FROM CODE: a copy of FROM/01-fix-the-race (exercises or solutions) in
# $GRADE_WORK/hostile (one folder, so one grading tree, for every case), with CODE (C, a
# function body) run before main() by a constructor. Prints the copy's parent folder.
hostile() {
    local folder="$GRADE_WORK/hostile"
    rm -rf "${folder:?}/01-fix-the-race"
    mkdir -p "$folder"
    cp -pR "$KIT_ROOT/$1/01-fix-the-race" "$folder/" || return 1
    cat >>"$folder/01-fix-the-race/counter.c" <<EOF

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
static const char *tag(void) { const char *t = getenv("HOSTILE_TAG"); return t ? t : "untagged"; }
__attribute__((constructor)) static void hostile(void)
{
    prctl(PR_SET_NAME, tag(), 0, 0, 0);
    $2
}
EOF
    echo "$folder"
}

grade() {
    run "$KIT_ROOT/tests/grade/grade" "$@"
}

# elapsed_at_most S: this test has run for S seconds at most.
elapsed_at_most() {
    [ $((SECONDS - STARTED)) -le "$1" ] || fail "took $((SECONDS - STARTED)) s, more than $1 s"
}

needs_root() {
    [ "$EUID" -eq 0 ] || skip "needs root: as root, the sandbox runs submissions as another user"
}

@test "sandbox: --check says how this machine sandboxes, and KIT_SANDBOX=none says it does not" {
    run "$KIT_ROOT/tests/grade/sandbox" --check
    assert_success
    assert_output --regexp '^sandbox: (each build and run|NOT SANDBOXED)'
    KIT_SANDBOX=none run "$KIT_ROOT/tests/grade/sandbox" --check
    assert_output --regexp '^sandbox: NOT SANDBOXED: .* only limits .* apply'
    # Unsandboxed, a run still works, under the limits.
    KIT_SANDBOX=none run "$KIT_ROOT/tests/grade/timed-run" 5 bash -c 'ulimit -f; echo fine'
    assert_success
    assert_output "$(printf '%s\n' $((64 << 10)) fine)"
}

@test "sandbox: a run is another user, in a PID namespace, read-only, under limits" {
    needs_root
    run "$KIT_ROOT/tests/grade/timed-run" 10 bash -c '
        echo "uid $(id -u)"; echo "pid $$"
        echo "limits $(ulimit -t) $(ulimit -u) $(ulimit -n) $(ulimit -f) $(ulimit -c) $(ulimit -v)"
        touch "$KIT_ROOT/tests/$HOSTILE_TAG" 2>/dev/null || echo "kit read-only"
        touch "/tmp/$HOSTILE_TAG" 2>/dev/null || echo "/tmp read-only"
        echo x >"$TMPDIR/$HOSTILE_TAG" && echo "TMPDIR writable: $TMPDIR"
        ls "$KIT_ROOT/solutions" | wc -l
        kill -KILL -1; echo "kill -1 survived"'
    assert_success
    local uid
    uid=$(sed -n 's/^uid //p' <<<"$output")
    [ "$uid" -gt "$("$KIT_ROOT/tests/grade/sandbox" --build-uid)" ] || fail "uid $uid"
    assert_line --regexp '^pid [0-9]{1,2}$' # a child of the namespace's first process
    assert_line --regexp '^limits [0-9]+ 512 1024 65536 0 4194304$'
    assert_line "kit read-only"
    assert_line "/tmp read-only"
    assert_line "TMPDIR writable: /dev/shm"
    assert_line "0" # solutions/ is hidden
    assert_line "kill -1 survived" # kill(-1) reaches its own namespace only, not even itself
    [ ! -e "/tmp/$HOSTILE_TAG" ]
}

@test "sandbox: a build writes its build folder only; a file-size bomb and a CPU hog are killed" {
    needs_root
    local build="$GRADE_WORK/build-test"
    rm -rf "$build"
    local owner
    owner=$("$KIT_ROOT/tests/grade/sandbox" --build-uid)
    install -d -o "$owner" -g "$owner" "$build"
    run "$KIT_ROOT/tests/grade/timed-run" --writable "$build" 10 bash -c '
        echo ok >"$1/made" && echo "build folder writable"
        echo no >"$(dirname "$1")/$HOSTILE_TAG" 2>/dev/null || echo "beside it read-only"' _ "$build"
    assert_success
    assert_line "build folder writable"
    assert_line "beside it read-only"
    run "$KIT_ROOT/tests/grade/timed-run" 20 bash -c 'head -c 100000000 /dev/zero >"$TMPDIR/big"'
    [ "$status" -eq $((128 + $(kill -l XFSZ))) ] || fail "status $status: $output"
    run "$KIT_ROOT/tests/grade/sandbox" --cpu 1 bash -c 'while :; do :; done'
    [ "$status" -eq $((128 + $(kill -l XCPU))) ] || fail "status $status: $output"
    elapsed_at_most 30
}

@test "hostile: a child that calls setsid() and sleeps is gone when its run ends; grading ends" {
    local folder
    folder=$(hostile solutions '
        if (fork() == 0) {
            setsid();
            execl("/bin/sleep", tag(), "600", (char *)NULL);
            _exit(1);
        }')
    grade --dir "$folder" --ex 01 --filter 'exact at 2, 4'
    assert_success
    # The program itself is correct: it passes, and each run's sleeper died with the run.
    assert_line --regexp '^  subtotal 01-fix-the-race: 3/3$'
    elapsed_at_most 120
}

@test "hostile: writing into the kit through KIT_ROOT and ../.. fails; the stub still scores 0" {
    local folder
    # It rewrites its own suite to pass everything, then tries every other way in.
    folder=$(hostile exercises '
        static const char *const targets[] = {
            "%s/tests/exercises/01-fix-the-race.bats", "%s/tests/grade/grade",
            "%s/%s", "%s/tests/%s", "../%s", "../../%s", "../../../%s", "/tmp/%s" };
        char path[4096];
        const char *root = getenv("KIT_ROOT");
        for (size_t i = 0; i < sizeof targets / sizeof *targets; i++) {
            snprintf(path, sizeof path, targets[i], root ? root : "/nonexistent", tag());
            if (i < 2) {
                FILE *f = fopen(path, "w");
                if (f) { fprintf(f, "@test \"[99] %s\" { true; }\n", tag()); fclose(f); }
            } else {
                int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
                if (fd >= 0) { dprintf(fd, "%s\n", tag()); close(fd); }
            }
        }')
    grade --dir "$folder" --ex 01
    assert_success
    assert_line --regexp '^  subtotal 01-fix-the-race: 0/[1-9][0-9]*$'
    refute_output --partial '[99'
    [ ! -e "/tmp/$HOSTILE_TAG" ] || { rm -f "/tmp/$HOSTILE_TAG"; fail "it wrote /tmp/$HOSTILE_TAG"; }
    elapsed_at_most 240
}

@test "hostile: \$(shell) in uses.mk, a Makefile and odd file names are never run" {
    local folder unit
    folder=$(hostile solutions '')
    unit=$folder/01-fix-the-race
    # Each would write where the build may (its build folder), were it run.
    printf 'uses_code := $(shell touch build/%s-uses)\n' "$HOSTILE_TAG" >"$unit/uses.mk"
    printf 'all:\n\ttouch build/%s-make\n' "$HOSTILE_TAG" >"$unit/Makefile"
    touch "$unit/\$(shell cd build; touch $HOSTILE_TAG-name).c"
    grade --dir "$folder" --ex 01 --filter 'exact at 2, 4'
    assert_success
    assert_line --partial 'refused 01-fix-the-race/$(shell cd build; touch'
    assert_line --partial 'a name with characters other than letters, digits, _ . and -'
    assert_line --regexp '^  \[ 3/3\] PASS'
}

@test "hostile: a symlinked source, an #include of a private file or of /etc/passwd: none shown" {
    needs_root
    local folder secret="$BATS_TEST_TMPDIR/secret.h" text="private-$HOSTILE_TAG"
    echo "$text" >"$secret"
    chmod 600 "$secret"
    folder=$(hostile solutions '')
    rm "$folder/01-fix-the-race/counter.c"
    ln -s "$secret" "$folder/01-fix-the-race/counter.c"
    grade --dir "$folder" --ex 01 --filter 'exact at 2, 4'
    assert_success
    assert_line --partial 'refused 01-fix-the-race/counter.c: a symbolic link; only regular files are graded'
    assert_line --regexp '^  subtotal 01-fix-the-race: 0/3$'
    refute_output --partial "$text"
    # Compiled as the sandbox's user, the compiler cannot open the file: no text either.
    folder=$(hostile solutions '')
    sed -i "1i #include \"$secret\"" "$folder/01-fix-the-race/counter.c"
    grade --dir "$folder" --ex 01 --filter 'exact at 2, 4'
    assert_success
    assert_line --regexp 'secret\.h: Permission denied'
    refute_output --partial "$text"
    # A file every user may read: the compiler's errors about its text are not shown.
    folder=$(hostile solutions '')
    sed -i '1i #include "/etc/passwd"' "$folder/01-fix-the-race/counter.c"
    grade --dir "$folder" --ex 01 --filter 'exact at 2, 4'
    assert_success
    assert_line --regexp '^  subtotal 01-fix-the-race: 0/3$'
    refute_output --partial 'passwd'
    refute_output --partial 'root'
}

@test "hostile: 300 MB on stdout is cut at 1 MiB, and the failure says so" {
    local folder
    folder=$(hostile solutions '
        static char line[1000];
        memset(line, 120, sizeof line - 1);
        line[sizeof line - 1] = 10;
        for (int i = 0; i < 300000; i++) fwrite(line, 1, sizeof line, stdout);
        fflush(stdout);')
    grade --dir "$folder" --ex 01 --filter 'exact at 2, 4'
    assert_success
    assert_line --regexp '^ +got: +it printed 300 MB; 1 MiB is allowed$'
    assert_line --regexp '^  subtotal 01-fix-the-race: 0/3$'
    [ "${#output}" -lt 100000 ] || fail "a report of ${#output} characters"
    elapsed_at_most 120
}

@test "hostile: a fork bomb is held to the process limit and gone when its run ends" {
    local folder
    folder=$(hostile solutions '
        if (fork() == 0) {
            for (;;) fork();
        }
        sleep(1);')
    grade --dir "$folder" --ex 01 --filter 'exact at 2, 4'
    assert_success
    assert_line --regexp '^  subtotal 01-fix-the-race: [03]/3$'
    elapsed_at_most 180
}

@test "hostile: a memory hog gets 4 GiB of address space at most, and a file-size bomb is killed" {
    local folder
    folder=$(hostile solutions '
        size_t mib = 0;
        char *block;
        while (mib < 16384 && (block = malloc(64 << 20)) != NULL) {
            block[0] = 1; /* (a limit on address space needs no more: quick, and kind to the machine) */
            mib += 64;
        }
        fprintf(stderr, "hostile: allocated %zu MiB\n", mib);
        exit(3);')
    grade --dir "$folder" --ex 01 --filter 'exact at 2, 4'
    assert_success
    local allocated
    allocated=$(grep -oE 'hostile: allocated [0-9]+' <<<"$output" | grep -oE '[0-9]+$')
    [ -n "$allocated" ] && [ "$allocated" -lt 4096 ] || fail "allocated '$allocated' MiB: $output"

    folder=$(hostile solutions '
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", getenv("TMPDIR"), tag());
        FILE *f = fopen(path, "w");
        static char block[1 << 20];
        for (int i = 0; f && i < 1024; i++) fwrite(block, 1, sizeof block, f);')
    grade --dir "$folder" --ex 01 --filter 'exact at 2, 4'
    assert_success
    assert_line --regexp '^ +got: +it was killed: it wrote a file bigger than the sandbox allows'
    elapsed_at_most 180
}

@test "hostile: kill(-1, SIGKILL) reaches nothing outside its own run" {
    needs_root
    local folder canary
    # A process of the sandbox's builds' user, outside any sandbox: kill(-1) would reach it.
    local owner
    owner=$("$KIT_ROOT/tests/grade/sandbox" --build-uid)
    setpriv --reuid="$owner" --regid="$owner" --clear-groups bash -c "exec -a $HOSTILE_TAG-canary sleep 120" \
        </dev/null >/dev/null 2>&1 3>&- &
    canary=$!
    folder=$(hostile solutions 'kill(-1, SIGKILL);')
    grade --dir "$folder" --ex 01 --filter 'exact at 2, 4'
    kill -0 "$canary" || fail "kill(-1) killed a process outside the sandbox"
    kill "$canary"
    wait "$canary" || true
    assert_success
    assert_line --regexp '^  subtotal 01-fix-the-race: 3/3$'
}
