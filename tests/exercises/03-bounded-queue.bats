#!/usr/bin/env bats
# Exercise 03, bounded queue: grades exercises/03-bounded-queue/lib/queue.c (or a copy, see
# grade.bash) with the grader's own driver, tests/exercises/drivers/03-bounded-queue/grade_queue.c,
# built beside it. Blocking both ways (a call waits when its thread is asleep in the queue and
# has not returned: the kernel's word, not a delay), a woken thread that re-checks, several
# waiters of each kind, close on an empty, a full and a part-full queue, and stress: every item
# exactly once under many producers and consumers, on all CPUs and on one, and under
# ThreadSanitizer. A queue that hangs is killed, with each thread's backtrace in the report.

load grade

setup_file() { grade_setup_file; }

HINT_WAIT="lock the mutex, then wait on a condition variable in a loop: while (count == \
capacity && !closed) pthread_cond_wait(...) (chapter 05, lib/bounded_queue.c, queue_put and \
queue_get; README.md hints 1-4)"

@test "[2] get waits while the queue is empty, and wakes up for a put" {
    grade_run --timeout 15 grade_queue --test=get-blocks
    expect_ok "queue_get waits on an empty queue, then returns the item put" "$HINT_WAIT"
}

@test "[2] put waits while the queue is full, and wakes up for a get; order kept" {
    grade_run --timeout 15 grade_queue --test=put-blocks
    expect_ok "the third put into 2 slots waits until a get; items come out 1, 2, 3" "$HINT_WAIT"
}

@test "[2] a getter woken for an item another thread took goes back to waiting (while, not if)" {
    grade_run --timeout 15 grade_queue --test=stolen-wakeup
    expect_ok "the woken getter checks the queue again and waits" \
        "wait in a while loop, never an if: when the woken thread gets the mutex back, another \
thread may already have taken the item (chapter 05's README, 'while, not if')"
}

HINT_CLOSE="queue_close sets closed under the lock and broadcasts both condition variables, \
so that every waiter wakes, not one; the wait loops also stop when closed (README.md hint 5)"

@test "[2] several getters waiting on an empty queue, and several putters on a full one, all served" {
    grade_run --timeout 30 grade_queue --test=many-waiters
    expect_ok "3 waiting gets get one item each; 3 waiting puts each get their item in" \
        "a put wakes one getter, a get wakes one putter, every time, whoever else is waiting \
(README.md hints 3-4)"
}

@test "[2] close wakes all 3 getters waiting on an empty queue; each returns false" {
    grade_run --timeout 30 grade_queue --test=close-getters
    expect_ok "every waiting get woken by close, returning false" "$HINT_CLOSE"
}

@test "[2] close wakes all 3 putters waiting on a full queue; the items in are drained, in order" {
    grade_run --timeout 30 grade_queue --test=close-putters
    expect_ok "every waiting put woken by close, returning false; then 1, 2, and closed" \
        "$HINT_CLOSE"
}

@test "[2] a closed queue with free slots refuses puts; get drains it, then says closed" {
    grade_run --timeout 15 grade_queue --test=close-room
    expect_ok "put on a closed queue returns false even with room; get drains, then false" \
        "queue_put checks closed under the lock before it stores anything, full or not; \
queue_get returns false only once the queue is closed and empty (queue.h)"
}

@test "[4] stress: every item exactly once, order per producer kept, at 1x1 up to 8x8 threads" {
    local shape
    for shape in "1 1 1" "4 4 1" "2 8 4" "8 2 16" "8 8 3"; do
        read -r producers consumers capacity <<<"$shape"
        grade_run --timeout 20 grade_queue --test=stress --producers=$producers \
            --consumers=$consumers --capacity=$capacity --items=20000
        expect_ok "20000 items, each exactly once" "$HINT_WAIT" || return 1
    done
}

@test "[2] stress on one CPU (taskset -c 0): every item exactly once" {
    local shape
    for shape in "4 4 1" "2 8 4"; do
        read -r producers consumers capacity <<<"$shape"
        grade_run --timeout 20 --one-cpu grade_queue --test=stress --producers=$producers \
            --consumers=$consumers --capacity=$capacity --items=20000
        expect_ok "20000 items, each exactly once" "$HINT_WAIT" || return 1
    done
}

@test "[2] ThreadSanitizer finds no data race in the queue under stress" {
    grade_run --timeout 20 --tsan grade_queue --test=stress --producers=4 --consumers=4 \
        --capacity=2 --items=5000
    [ "$status" -eq 0 ] && ! grep -q 'WARNING: ThreadSanitizer' <<<"$output" && return 0
    graded "no ThreadSanitizer report, and every item exactly once" \
        "every read and write of the queue's fields, in every function, with the mutex held"
}

# Under chapter 13's controlled scheduler (tests/exercises/explore.bash): every interleaving of
# 1 producer and 1 consumer of 2 items through 1 slot with up to 2 preemptions (each blocks and
# wakes the other; a look at the queue without the lock, or a wake-up it sleeps through, fails
# here), and every order in which 1 producer and 2 consumers can block and wake (no preemption:
# at each point where a thread blocks or ends, every choice of the next thread). A queue that
# loses or duplicates an item, or leaves a thread asleep, fails with the schedule that shows it.
# Not 3 threads with preemptions: thousands of interleavings there, a minute of forks.
@test "[3] every interleaving of 1 producer x 1 consumer, and every blocking order of 1 x 2, keeps every item (controlled scheduler)" {
    load explore
    grade_explore --bound 2 grade_queue --test=stress --producers=1 --consumers=1 --items=2 \
        --capacity=1
    explore_passed
    grade_explore --bound 0 grade_queue --test=stress --producers=1 --consumers=2 --items=2 \
        --capacity=1
    explore_passed
}
