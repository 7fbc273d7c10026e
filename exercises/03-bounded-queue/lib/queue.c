/**
 * @file queue.c
 * @brief Exercise 03: the bounded queue of queue.h. This stub works for one thread only.
 *
 * What is here: a ring of slots that stores and hands out items in order, which is right as
 * long as one thread uses it and the queue is never full on a put or empty on a get. What is
 * missing is everything that makes it a queue for threads: a mutex around every use of the
 * ring, and two condition variables to wait on, one for "not full" (put) and one for "not
 * empty" (get). Each TODO below marks one place. README.md says what the grader checks.
 */
#include "queue.h"

#include "kit.h"

#include <stdlib.h>

struct queue {
    /* TODO: a mutex that guards every field below, and the condition variables to wait on. */
    long *slots;     /* a ring of capacity slots */
    size_t capacity; /* how many slots the ring has */
    size_t head;     /* the slot the next get takes */
    size_t count;    /* how many slots hold an item */
    bool closed;     /* set by queue_close(): no more puts */
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
    /* TODO: initialise the mutex and the condition variables. */
    return queue;
}

bool queue_put(struct queue *queue, long item)
{
    /* TODO: lock. While the queue is full (and open), wait until a get makes room. */
    if (queue->closed)
        return false;
    if (queue->count == queue->capacity)
        kit_die("queue_put: the queue is full, and this stub cannot wait yet (exercise 03)");
    size_t tail = (queue->head + queue->count) % queue->capacity;
    queue->slots[tail] = item;
    queue->count++;
    /* TODO: wake a thread waiting in queue_get(), and unlock. */
    return true;
}

bool queue_get(struct queue *queue, long *item)
{
    /* TODO: lock. While the queue is empty and open, wait until a put brings an item. */
    if (queue->count == 0 && queue->closed)
        return false;
    if (queue->count == 0)
        kit_die("queue_get: the queue is empty, and this stub cannot wait yet (exercise 03)");
    *item = queue->slots[queue->head];
    queue->head = (queue->head + 1) % queue->capacity;
    queue->count--;
    /* TODO: wake a thread waiting in queue_put(), and unlock. */
    return true;
}

void queue_close(struct queue *queue)
{
    /* TODO: lock; and wake every waiting thread, in put and in get, before unlocking. */
    queue->closed = true;
}

void queue_destroy(struct queue *queue)
{
    /* TODO: destroy the mutex and the condition variables. */
    free(queue->slots);
    free(queue);
}
