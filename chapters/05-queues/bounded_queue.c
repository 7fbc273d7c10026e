/**
 * @file bounded_queue.c
 * @brief Producers and consumers share a bounded queue: one mutex, two condition variables.
 *
 * What to look for: this is what Python's `queue.Queue(maxsize)` does for you, written out in
 * full. `queue_put()` blocks while the queue is full and `queue_get()` blocks while it is empty;
 * one mutex guards the ring of slots, and two condition variables say what a sleeper waits for:
 * `not_full` (producers) and `not_empty` (consumers). Producers send numbered items; consumers
 * tick each item off in a table, so at the end the program can check every single item: none
 * lost, none delivered twice. It then prints how many items per second went through.
 *
 * Shutdown: when every producer is done, main puts one sentinel per consumer in the queue (the C
 * version of `q.put(None)`). Each consumer stops at the first sentinel it gets. The queue is
 * FIFO and the sentinels go in after the last real item, so no real item is left behind. Why
 * not a `closed` flag that makes get() return "no more" once the queue is empty? It works too,
 * without a spare value and without counting consumers, but it adds state and a broadcast to
 * the queue; sentinels leave the queue as small as it can be, and are what Python code does.
 *
 * What goes wrong without the care taken here: an `if` instead of a `while` around a wait lets a
 * woken thread act on a queue another thread has already emptied or filled; a signal sent for
 * every item (whether anyone sleeps or not) costs time for nothing; a missing signal leaves a
 * thread asleep forever. The checks at the end would catch the first; a hang would show the last.
 *
 * See also: pipe_ipc.c (the same hand-over between processes), exercise 03 (write this queue).
 *
 * Usage: bounded_queue [-p N] [-c N] [-n N] [-k N] [--always-signal]
 */
#include "kit.h"

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
    "Usage: bounded_queue [options]\n"
    "Producers and consumers share a bounded queue; every item is checked at the end.\n"
    "  -p, --producers=N   producer threads (default 2)\n"
    "  -c, --consumers=N   consumer threads (default 2)\n"
    "  -n, --items=N       items sent in all (default 200000)\n"
    "  -k, --capacity=N    slots in the queue (default 1024)\n"
    "  -a, --always-signal signal after every put and get, whether anyone sleeps or not\n"
    "                      (the plain version: compare the throughput)\n"
    "  -h, --help          show this help and exit\n";

#define SENTINEL (-1L) /* not an item number: tells one consumer to stop */

/* The queue. Every field below the mutex is read and written only with the mutex held. */
struct bounded_queue {
    pthread_mutex_t lock;     /* guards everything below */
    pthread_cond_t not_full;  /* producers wait here while count == capacity */
    pthread_cond_t not_empty; /* consumers wait here while count == 0 */
    long *slots;              /* a ring of capacity slots */
    size_t capacity;          /* how many slots the ring has */
    size_t head;              /* the slot the next get takes */
    size_t count;             /* how many slots hold an item */
    int producers_waiting;    /* producers asleep on not_full */
    int consumers_waiting;    /* consumers asleep on not_empty */
    bool always_signal;       /* set once before the threads start: the plain version */
};

static void queue_init(struct bounded_queue *queue, size_t capacity, bool always_signal)
{
    queue->always_signal = always_signal;
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

static void queue_destroy(struct bounded_queue *queue)
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
 *   `--always-signal` runs the plain version, a signal after every put and get: compare the
 *   throughput lines (`make bench` prints both, side by side).
 * - Signal after unlocking. A thread woken while we still hold the mutex would wake up only to
 *   block on it again. POSIX allows signalling without the mutex; the woken thread re-checks
 *   the count under the lock anyway (the while loops), so nothing can be missed. */

/* Add an item at the tail, sleeping while the queue is full. */
static void queue_put(struct bounded_queue *queue, long item)
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
    bool wake_consumer = queue->always_signal || queue->consumers_waiting > 0; /* under the lock */
    KIT_CHECK_EN(pthread_mutex_unlock(&queue->lock)); /* the critical section was this short */
    if (wake_consumer)
        KIT_CHECK_EN(pthread_cond_signal(&queue->not_empty)); /* one item: wake one consumer */
}

/* Take the item at the head, sleeping while the queue is empty. */
static long queue_get(struct bounded_queue *queue)
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
    bool wake_producer = queue->always_signal || queue->producers_waiting > 0;
    KIT_CHECK_EN(pthread_mutex_unlock(&queue->lock));
    if (wake_producer)
        KIT_CHECK_EN(pthread_cond_signal(&queue->not_full)); /* one free slot: wake one producer */
    return item;
}

/* What every thread needs to know: the queue, the sizes, and the table of items seen. */
struct shared {
    struct bounded_queue queue;
    long producers;
    long items;
    atomic_uchar *seen; /* seen[i] counts deliveries of item i: must end as exactly 1 */
};

struct producer {
    pthread_t thread;
    struct shared *shared;
    long id; /* 0 .. producers-1 */
};

struct consumer {
    pthread_t thread;
    struct shared *shared;
    long taken; /* items this consumer took (written by it, read by main after join) */
};

/* Producer i sends items i, i + P, i + 2P, ...: together the producers send 0 .. items-1, once. */
static void *produce(void *arg)
{
    struct producer *self = arg;
    struct shared *shared = self->shared;
    for (long item = self->id; item < shared->items; item += shared->producers)
        queue_put(&shared->queue, item);
    return NULL;
}

/* Take items until a sentinel arrives; tick each one off in the table. */
static void *consume(void *arg)
{
    struct consumer *self = arg;
    struct shared *shared = self->shared;
    for (long item; (item = queue_get(&shared->queue)) != SENTINEL;) {
        if (item < 0 || item >= shared->items) /* only a broken queue could hand out this */
            kit_die("a consumer got %ld, which no producer sent", item);
        /* Atomic: if the queue were broken, two consumers could get the same item at once. */
        atomic_fetch_add_explicit(&shared->seen[item], 1, memory_order_relaxed);
        self->taken++;
    }
    return NULL;
}

/* Count items never delivered (0) and items delivered more than once (2 or more). A byte per
 * item is enough: a count only wraps back to a passing 1 after 257 deliveries of one item. */
static void check_items(const struct shared *shared, long *lost, long *duplicated)
{
    *lost = 0;
    *duplicated = 0;
    for (long i = 0; i < shared->items; i++) {
        unsigned deliveries = atomic_load_explicit(&shared->seen[i], memory_order_relaxed);
        if (deliveries == 0)
            ++*lost;
        else if (deliveries > 1)
            ++*duplicated;
    }
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"producers", required_argument, NULL, 'p'},
        {"consumers", required_argument, NULL, 'c'},
        {"items", required_argument, NULL, 'n'},
        {"capacity", required_argument, NULL, 'k'},
        {"always-signal", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long producers = 2, consumers = 2, items = 200000, capacity = 1024;
    bool always_signal = false;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "p:c:n:k:ah", options, NULL)) != -1;) {
        switch (opt) {
        case 'p': producers = kit_parse_long("--producers", optarg, 1, 256); break;
        case 'c': consumers = kit_parse_long("--consumers", optarg, 1, 256); break;
        case 'n': items = kit_parse_long("--items", optarg, 1, 200000000); break;
        case 'a': always_signal = true; break;
        case 'k': capacity = kit_parse_long("--capacity", optarg, 1, 1L << 20); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (capacity < 64 && items > 5000000)
        kit_usage_error("--items=%ld with --capacity=%ld is over the cap of 5e6 items for a queue "
                        "under 64 slots (every item waits, about 10 us): it would run for minutes",
                        items, capacity);

    struct shared shared = {.producers = producers, .items = items};
    shared.seen = calloc((size_t)items, sizeof shared.seen[0]); /* all zero: nothing seen yet */
    struct producer *producer = calloc((size_t)producers, sizeof *producer);
    struct consumer *consumer = calloc((size_t)consumers, sizeof *consumer);
    if (shared.seen == NULL || producer == NULL || consumer == NULL)
        kit_die_errno("calloc for %ld items", items);
    queue_init(&shared.queue, (size_t)capacity, always_signal);
    printf("%ld producer(s), %ld consumer(s), %ld items through a queue of %ld slots\n", producers,
           consumers, items, capacity);

    double start = kit_now();
    for (long i = 0; i < consumers; i++) {
        consumer[i] = (struct consumer){.shared = &shared};
        KIT_CHECK_EN(pthread_create(&consumer[i].thread, NULL, consume, &consumer[i]));
    }
    for (long i = 0; i < producers; i++) {
        producer[i] = (struct producer){.shared = &shared, .id = i};
        KIT_CHECK_EN(pthread_create(&producer[i].thread, NULL, produce, &producer[i]));
    }
    for (long i = 0; i < producers; i++)
        KIT_CHECK_EN(pthread_join(producer[i].thread, NULL));
    for (long i = 0; i < consumers; i++) /* every real item is in; now one stop per consumer */
        queue_put(&shared.queue, SENTINEL);
    for (long i = 0; i < consumers; i++)
        KIT_CHECK_EN(pthread_join(consumer[i].thread, NULL));
    double seconds = kit_seconds_since(start);

    for (long i = 0; i < consumers; i++)
        printf("consumer %ld took %ld items\n", i, consumer[i].taken);
    printf("throughput: %.2f million items/s (%.3f s)\n", (double)items / seconds / 1e6, seconds);

    long lost, duplicated;
    check_items(&shared, &lost, &duplicated);
    queue_destroy(&shared.queue);
    free(consumer);
    free(producer);
    free(shared.seen);
    if (lost != 0 || duplicated != 0) {
        printf("FAILED: %ld items, %ld lost, %ld duplicated\n", items, lost, duplicated);
        return 1;
    }
    printf("OK: %ld items, none lost, none duplicated\n", items);
    return 0;
}
