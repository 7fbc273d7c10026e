/**
 * @file queue.h
 * @brief Exercise 03's bounded queue: put waits while it is full, get waits while it is empty.
 *
 * The API you implement in lib/queue.c; keep it as it is, because the grader's own programs
 * call exactly these functions. It is chapter 05's bounded queue (lib/bounded_queue.c) with one
 * addition, close, which replaces the sentinels: it is what Python 3.13's Queue.shutdown() does.
 *
 * - queue_put() adds an item at the tail, waiting while the queue is full.
 * - queue_get() takes the item at the head, waiting while the queue is empty.
 * - queue_close() says no more items will come: every thread waiting in put or get wakes up.
 *   After it, put refuses items, and get hands out what is left, then says the queue is done.
 *
 * Many threads may call put and get at the same time; items come out in the order they went
 * in, each exactly once.
 */
#ifndef QUEUE_H
#define QUEUE_H

#include <stdbool.h>
#include <stddef.h>

struct queue;

/** A queue of at most @p capacity items (1 or more), open and empty; NULL if out of memory. */
struct queue *queue_create(size_t capacity);

/** Add @p item at the tail, waiting while the queue is full. Returns true once the item is in,
 *  false (the item not added) if the queue is closed, also while this call was waiting. */
bool queue_put(struct queue *queue, long item);

/** Take the item at the head into @p item, waiting while the queue is empty and open. Returns
 *  true with an item, false once the queue is closed and empty: nothing more will come. */
bool queue_get(struct queue *queue, long *item);

/** Close the queue: no more puts; wake every thread waiting in queue_put() or queue_get(). */
void queue_close(struct queue *queue);

/** Free the queue. No thread may be using it any more. */
void queue_destroy(struct queue *queue);

#endif /* QUEUE_H */
