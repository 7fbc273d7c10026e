/**
 * @file bounded_queue.c
 * @brief The bounded queue of chapter 05: put sleeps while full, get sleeps while empty.
 *
 * One mutex guards the ring of slots; two condition variables say what a sleeper waits for:
 * `not_full` (producers) and `not_empty` (consumers). Read queue_put() and queue_get() line by
 * line: the `while` around each wait, who is signalled and when, and why after the unlock.
 *
 * What goes wrong without the care taken here: an `if` instead of a `while` around a wait lets a
 * woken thread act on a queue another thread has already emptied or filled; a signal sent for
 * every item (whether anyone sleeps or not) costs time for nothing; a missing signal leaves a
 * thread asleep forever (QUEUE_SIGNAL_ON_EDGE, broken on purpose, shows that last one: see
 * chapter 13's stress_queue).
 */
#include "bounded_queue.h"

#include "kit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

void queue_init(struct bounded_queue *queue, size_t capacity, enum queue_signalling signalling)
{
    queue->signalling = signalling;
    queue->slots = malloc(capacity * sizeof queue->slots[0]);
    if (queue->slots == NULL)
        kit_die_errno("malloc %zu queue slots", capacity);
    queue->capacity = capacity;
    queue->head = 0;
    queue->count = 0;
    queue->producers_waiting = 0;
    queue->consumers_waiting = 0;
    KIT_CHECK_EN(pthread_mutex_init(&queue->lock, NULL));
    KIT_CHECK_EN(pthread_cond_init(&queue->not_full, NULL));
    KIT_CHECK_EN(pthread_cond_init(&queue->not_empty, NULL));
}

void queue_destroy(struct bounded_queue *queue)
{
    KIT_CHECK_EN(pthread_cond_destroy(&queue->not_empty));
    KIT_CHECK_EN(pthread_cond_destroy(&queue->not_full));
    KIT_CHECK_EN(pthread_mutex_destroy(&queue->lock));
    free(queue->slots);
}

/* Two habits make this queue fast, and both keep it correct:
 * - Signal only when someone sleeps. Each sleeper counts itself in *_waiting (under the lock)
 *   before it waits, so the other side knows whether a signal is needed at all. Most of the
 *   time nobody sleeps, and put and get are one lock, a few stores and one unlock.
 *   QUEUE_SIGNAL_ALWAYS (`bounded_queue --always-signal`) is the plain version, a signal after
 *   every put and get: compare the throughput lines (`make bench` prints both, side by side).
 * - Signal after unlocking. A thread woken while we still hold the mutex would wake up only to
 *   block on it again. POSIX allows signalling without the mutex; the woken thread re-checks
 *   the count under the lock anyway (the while loops), so nothing can be missed.
 *
 * need_signal() decides, under the lock. @p sleepers: how many sleep on the other side; @p edge:
 * this call just took the queue off empty (a put) or off full (a get). Signalling on the edge
 * only is the tempting saving that loses wake-ups: a sleeper is counted only once, but two puts
 * can land before the first woken consumer runs, and the second wakes nobody. */
static bool need_signal(const struct bounded_queue *queue, int sleepers, bool edge)
{
    switch (queue->signalling) {
    case QUEUE_SIGNAL_ALWAYS: return true;
    case QUEUE_SIGNAL_ON_EDGE: return edge; /* broken on purpose: see bounded_queue.h */
    case QUEUE_SIGNAL_IF_SLEEPING: break;
    }
    return sleepers > 0;
}

void queue_put(struct bounded_queue *queue, long item)
{
    KIT_CHECK_EN(pthread_mutex_lock(&queue->lock));
    while (queue->count == queue->capacity) { /* while, not if: re-check after every wake-up */
        queue->producers_waiting++;           /* a consumer will see it and signal not_full */
        /* cond_wait unlocks the mutex, sleeps, and locks it again before it returns. */
        KIT_CHECK_EN(pthread_cond_wait(&queue->not_full, &queue->lock));
        queue->producers_waiting--;
    }
    size_t tail = queue->head + queue->count; /* the first free slot, before wrapping */
    if (tail >= queue->capacity)
        tail -= queue->capacity; /* wrap around the ring (cheaper than %) */
    queue->slots[tail] = item;
    queue->count++;
    bool wake_consumer = need_signal(queue, queue->consumers_waiting, queue->count == 1);
    KIT_CHECK_EN(pthread_mutex_unlock(&queue->lock)); /* the critical section was this short */
    if (wake_consumer)
        KIT_CHECK_EN(pthread_cond_signal(&queue->not_empty)); /* one item: wake one consumer */
}

long queue_get(struct bounded_queue *queue)
{
    KIT_CHECK_EN(pthread_mutex_lock(&queue->lock));
    while (queue->count == 0) {     /* while, not if: another consumer may win */
        queue->consumers_waiting++; /* a producer will see it and signal not_empty */
        KIT_CHECK_EN(pthread_cond_wait(&queue->not_empty, &queue->lock));
        queue->consumers_waiting--;
    }
    long item = queue->slots[queue->head];
    queue->head++;
    if (queue->head == queue->capacity)
        queue->head = 0; /* wrap around the ring */
    queue->count--;
    bool wake_producer =
        need_signal(queue, queue->producers_waiting, queue->count == queue->capacity - 1);
    KIT_CHECK_EN(pthread_mutex_unlock(&queue->lock));
    if (wake_producer)
        KIT_CHECK_EN(pthread_cond_signal(&queue->not_full)); /* one free slot: wake one producer */
    return item;
}
