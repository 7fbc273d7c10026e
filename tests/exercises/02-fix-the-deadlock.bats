#!/usr/bin/env bats
# Exercise 02, fix the deadlock: grades exercises/02-fix-the-deadlock/bank.c (or a copy, see
# grade.bash). Heavy random transfers in both directions must finish in bounded time, on all
# CPUs and on one, with every transfer done and the money in the bank unchanged; ThreadSanitizer
# must see neither a data race nor two locks taken in opposite orders. A run that hangs is
# killed after a few seconds and the report shows where each thread was waiting.
# The grader's driver, tests/exercises/drivers/02-fix-the-deadlock/grade_bank.c (bank.c compiled
# into it), calls the student's transfer() in scenes it sets up by rendezvous: two transfers in
# opposite directions at the same moment, a transfer that must finish while another is held
# between its two locks, and known transfers whose every balance is checked against a replay.

load grade

setup_file() { grade_setup_file; }

HINT_ORDER="take the two locks of a transfer in one order that every thread agrees on, e.g. \
the account that comes first in the array first, whichever way the money goes (chapter 03, \
deadlock_fixed.c; README.md hints 1-3)"
HINT_CONSERVE="a transfer must take from one account exactly what it pays into the other, \
with both accounts locked, and must not give up half way (chapter 03, deadlock_fixed.c)"

# expect_all_done THREADS TRANSFERS ACCOUNTS: the last run did every transfer and kept the money.
expect_all_done() {
    local expected_done=$(($1 * $2)) expected_money=$((1000 * $3)) done money
    done=$(grep -oE 'transfers done -?[0-9]+' <<<"$output" | grep -oE -- '-?[0-9]+$')
    money=$(grep -oE 'money in the bank -?[0-9]+' <<<"$output" | grep -oE -- '-?[0-9]+$')
    [ "$status" -eq 0 ] && [ "$done" = "$expected_done" ] && [ "$money" = "$expected_money" ] &&
        return 0
    if [ "$status" -eq 124 ] || [ "$status" -gt 128 ] || [ -z "$done" ]; then
        graded "all $expected_done transfers done within the time limit" "$HINT_ORDER"
    else
        graded "$expected_done transfers done and $expected_money in the bank" "$HINT_CONSERVE" \
            "$done transfers done and $money in the bank (exit status $status)"
    fi
}

@test "[4] heavy transfers both ways between 4 accounts end in bounded time, 3 runs" {
    local run
    for run in 1 2 3; do
        grade_run --timeout 3 bank --threads=4 --accounts=4 --transfers=3000
        expect_all_done 4 3000 4 || return 1
    done
}

@test "[3] every transfer done, money conserved, at 2, 4 and 8 threads" {
    local threads run
    for threads in 2 4 8; do
        for run in 1 2; do
            grade_run --timeout 3 bank --threads=$threads --accounts=8 --transfers=2000
            expect_all_done $threads 2000 8 || return 1
        done
    done
}

@test "[2] the same on one CPU (taskset -c 0), at 2 and 8 threads, 2 accounts and 8" {
    grade_run --timeout 3 --one-cpu bank --threads=2 --accounts=2 --transfers=2000
    expect_all_done 2 2000 2 || return 1
    grade_run --timeout 3 --one-cpu bank --threads=8 --accounts=8 --transfers=2000
    expect_all_done 8 2000 8
}

@test "[3] ThreadSanitizer sees no data race and no lock-order inversion" {
    # Three shapes: TSan keeps only the last few accesses to each word, so a race between two
    # rare neighbours can be missed in one run; all three missing it is another matter.
    local shape
    for shape in "--threads=4 --accounts=4" "--threads=8 --accounts=6" "--threads=3 --accounts=3"; do
        # shellcheck disable=SC2086 # the shape is two options on purpose
        grade_run --timeout 3 --tsan bank $shape --transfers=500
        [ "$status" -eq 0 ] && ! grep -q 'WARNING: ThreadSanitizer' <<<"$output" || break
    done
    [ "$status" -eq 0 ] && ! grep -q 'WARNING: ThreadSanitizer' <<<"$output" && return 0
    if grep -q 'lock-order-inversion' <<<"$output"; then
        graded "no ThreadSanitizer report" "$HINT_ORDER"
    else
        graded "no ThreadSanitizer report, and every transfer done" \
            "every read and write of a balance must happen with that account's lock held"
    fi
}

HINT_OPPOSITE="the two transfers each took their first lock and then waited for the other's: \
lock the account that comes first in the array first, whichever way the money goes (README.md \
hints 2-4)"

# opposite_first: the driver's deadlock scene passes (else the test fails): a test of what a
# working bank must also do gives no points to a bank that deadlocks.
opposite_first() {
    grade_run --timeout 15 grade_bank --test=opposite
    expect_ok "A -> B and B -> A, started at the same moment, both finish" "$HINT_OPPOSITE"
}

@test "[3] transfers A -> B and B -> A started at the same moment both finish (no deadlock)" {
    opposite_first
}

@test "[3] each account's final balance equals a replay of the transfers it was given" {
    opposite_first || return 1
    grade_run --timeout 15 grade_bank --test=replay
    expect_ok "every account's balance equal to the sum of the transfers into and out of it" \
        "take amount from the account the money comes from and pay it into the one it goes to, \
whichever lock was taken first: order the locks, never the accounts the money moves between"
}

@test "[3] a transfer between A and B finishes while another transfer holds C and D" {
    opposite_first || return 1
    grade_run --timeout 15 grade_bank --test=overlap
    expect_ok "a transfer A -> B done while a transfer C -> D is between its two locks" \
        "lock only the two accounts of a transfer, each account with its own mutex: one lock \
for the whole bank makes every transfer wait for every other (README.md, 'Your task')"
}

# Every interleaving of 2 tellers x 1 transfer between 2 accounts with up to 2 preemptions,
# under chapter 13's controlled scheduler: a lock order that deadlocks only when two transfers
# meet at the wrong moment fails here, with each thread's wait and the schedule that shows it
# (tests/exercises/explore.bash).
@test "[3] every interleaving of 2 tellers x 1 transfer ends with the money kept (controlled scheduler)" {
    load explore
    grade_explore bank --threads=2 --accounts=2 --transfers=1
    explore_passed
}
