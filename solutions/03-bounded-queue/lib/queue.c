/**
 * @file queue.c
 * @brief Exercise 03, solved: a bounded queue on one mutex and two condition variables.
 *
 * What to look for: every function locks the one mutex before it looks at the ring and unlocks
 * it after; a thread that cannot go on waits on a condition variable, in a `while` loop that
 * checks its condition again after every wake-up. Why `while` and not `if`: between the signal
 * and the moment the woken thread holds the mutex again, another thread may take the item it
 * was woken for (or fill the slot), and POSIX allows wake-ups with no signal at all. A put
 * signals not_empty (one item: one getter can use it); a get signals not_full; close broadcasts
 * both, because every waiter must see that the queue is closed.
 *
 * What goes wrong otherwise (the grader's tests keep each mistake, see tests/grade/broken/):
 * `if` instead of `while` hands out an item from an empty queue; a put that does not wait
 * overwrites an item nobody got yet; a close that signals instead of broadcasting leaves
 * waiters asleep forever.
 *
 * See also: chapter 05's lib/bounded_queue.c (the same queue with sentinels and fewer signals).
 */
#include "queue.h"

#include "kit.h"

#include <pthread.h>
#include <stdlib.h>

struct queue {
    pthread_mutex_t lock;     /* guards every field below */
    pthread_cond_t not_full;  /* put waits here while count == capacity and open */
    pthread_cond_t not_empty; /* get waits here while count == 0 and open */
    long *slots;              /* a ring of capacity slots */
    size_t capacity;          /* how many slots the ring has */
    size_t head;              /* the slot the next get takes */
    size_t count;             /* how many slots hold an item */
    bool closed;              /* set by queue_close(): no more puts */
};

struct queue *queue_create(size_t capacity)
{
    struct queue *queue = calloc(1, sizeof *queue);
    if (queue == NULL)
        return NULL;
    queue->slots = calloc(capacity, sizeof queue->slots[0]);
    if (queue->slots == NULL) {
        free(queue);
        return NULL;
    }
    queue->capacity = capacity;
    KIT_CHECK_EN(pthread_mutex_init(&queue->lock, NULL));
    KIT_CHECK_EN(pthread_cond_init(&queue->not_full, NULL));
    KIT_CHECK_EN(pthread_cond_init(&queue->not_empty, NULL));
    return queue;
}

bool queue_put(struct queue *queue, long item)
{
    KIT_CHECK_EN(pthread_mutex_lock(&queue->lock));
    while (queue->count == queue->capacity && !queue->closed) /* while: re-check on waking */
        KIT_CHECK_EN(pthread_cond_wait(&queue->not_full, &queue->lock));
    bool added = !queue->closed;
    if (added) {
        size_t tail = (queue->head + queue->count) % queue->capacity;
        queue->slots[tail] = item;
        queue->count++;
        KIT_CHECK_EN(pthread_cond_signal(&queue->not_empty)); /* one item: one getter */
    }
    KIT_CHECK_EN(pthread_mutex_unlock(&queue->lock));
    return added;
}

bool queue_get(struct queue *queue, long *item)
{
    KIT_CHECK_EN(pthread_mutex_lock(&queue->lock));
    while (queue->count == 0 && !queue->closed) /* while: another getter may have won */
        KIT_CHECK_EN(pthread_cond_wait(&queue->not_empty, &queue->lock));
    bool taken = queue->count > 0; /* closed and empty: nothing more will come */
    if (taken) {
        *item = queue->slots[queue->head];
        queue->head = (queue->head + 1) % queue->capacity;
        queue->count--;
        KIT_CHECK_EN(pthread_cond_signal(&queue->not_full)); /* one slot: one putter */
    }
    KIT_CHECK_EN(pthread_mutex_unlock(&queue->lock));
    return taken;
}

void queue_close(struct queue *queue)
{
    KIT_CHECK_EN(pthread_mutex_lock(&queue->lock));
    queue->closed = true;
    /* Every waiter must wake and see it, not just one: broadcast both. */
    KIT_CHECK_EN(pthread_cond_broadcast(&queue->not_full));
    KIT_CHECK_EN(pthread_cond_broadcast(&queue->not_empty));
    KIT_CHECK_EN(pthread_mutex_unlock(&queue->lock));
}

void queue_destroy(struct queue *queue)
{
    KIT_CHECK_EN(pthread_cond_destroy(&queue->not_empty));
    KIT_CHECK_EN(pthread_cond_destroy(&queue->not_full));
    KIT_CHECK_EN(pthread_mutex_destroy(&queue->lock));
    free(queue->slots);
    free(queue);
}
