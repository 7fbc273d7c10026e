/**
 * @file bounded_queue.h
 * @brief Chapter 05's bounded queue: one mutex, two condition variables, a ring of slots.
 *
 * This is what Python's `queue.Queue(maxsize)` does for you, written out in C (the code is in
 * lib/bounded_queue.c: read it line by line, it is the lesson of chapter 05's section 1):
 *
 * - queue_put() adds an item at the tail, sleeping while the queue is full;
 * - queue_get() takes the item at the head, sleeping while the queue is empty.
 *
 * Items come out in the order they went in, each exactly once, however many threads call put
 * and get at once. There is no close: a producer tells a consumer to stop with a value that is
 * not an item (a sentinel, like Python's `q.put(None)`), as bounded_queue.c does.
 *
 * The struct is here, not hidden in the .c file, so that a program can keep its queue where it
 * likes (on the stack, inside its own struct). Its fields are the queue's own business: touch
 * them only through the functions below.
 *
 * Users: chapter 05's bounded_queue.c, and chapter 13's stress_queue.c, which stresses it.
 */
#ifndef CHAPTER05_BOUNDED_QUEUE_H
#define CHAPTER05_BOUNDED_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/** When put and get wake a sleeper on the other side (see queue_put() in bounded_queue.c). */
enum queue_signalling {
    /** Only when someone sleeps there: the sleepers count themselves (the default, fast). */
    QUEUE_SIGNAL_IF_SLEEPING,
    /** After every put and get, whether anyone sleeps or not: the plain version, slower. */
    QUEUE_SIGNAL_ALWAYS,
    /** BROKEN on purpose: only when this put made the queue stop being empty (or this get made
     *  it stop being full). With two or more sleepers a wake-up gets lost: two puts in a row
     *  into an empty queue wake one consumer, the other sleeps on beside an item. It looks like
     *  a clever saving and passes every test with one producer and one consumer. Chapter 13's
     *  `stress_queue --broken` runs it, and its stress test catches it. */
    QUEUE_SIGNAL_ON_EDGE,
};

/** The queue. Every field below the mutex is read and written only with the mutex held. */
struct bounded_queue {
    pthread_mutex_t lock;             /**< guards everything below */
    pthread_cond_t not_full;          /**< producers wait here while count == capacity */
    pthread_cond_t not_empty;         /**< consumers wait here while count == 0 */
    long *slots;                      /**< a ring of capacity slots */
    size_t capacity;                  /**< how many slots the ring has */
    size_t head;                      /**< the slot the next get takes */
    size_t count;                     /**< how many slots hold an item */
    int producers_waiting;            /**< producers asleep on not_full */
    int consumers_waiting;            /**< consumers asleep on not_empty */
    enum queue_signalling signalling; /**< set once by queue_init(), before any thread uses it */
};

/** Make @p queue empty, with room for @p capacity items (1 or more). Exits if out of memory. */
void queue_init(struct bounded_queue *queue, size_t capacity, enum queue_signalling signalling);

/** Free what queue_init() took. No thread may be using the queue any more. */
void queue_destroy(struct bounded_queue *queue);

/** Add @p item at the tail, sleeping while the queue is full. */
void queue_put(struct bounded_queue *queue, long item);

/** Take the item at the head, sleeping while the queue is empty. */
long queue_get(struct bounded_queue *queue);

#endif /* CHAPTER05_BOUNDED_QUEUE_H */
