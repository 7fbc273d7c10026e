/**
 * @file bounded_queue.c
 * @brief Producers and consumers share a bounded queue: one mutex, two condition variables.
 *
 * What to look for: this is what Python's `queue.Queue(maxsize)` does for you, written out in
 * full. The queue itself is in lib/bounded_queue.c (read it first: `queue_put()` blocks while
 * the queue is full and `queue_get()` blocks while it is empty; one mutex guards the ring of
 * slots, and two condition variables say what a sleeper waits for). This program is its user:
 * producers send numbered items; consumers tick each item off in a table, so at the end the
 * program can check every single item: none lost, none delivered twice. It then prints how
 * many items per second went through.
 *
 * Shutdown: when every producer is done, main puts one sentinel per consumer in the queue (the C
 * version of `q.put(None)`). Each consumer stops at the first sentinel it gets. The queue is
 * FIFO and the sentinels go in after the last real item, so no real item is left behind. Why
 * not a `closed` flag that makes get() return "no more" once the queue is empty? It works too,
 * without a spare value and without counting consumers, but it adds state and a broadcast to
 * the queue; sentinels leave the queue as small as it can be, and are what Python code does.
 *
 * What goes wrong without the care taken in the queue: an `if` instead of a `while` around a
 * wait, a signal sent for every item, a missing signal (lib/bounded_queue.c says how each
 * shows). The checks at the end would catch the first; a hang would show the last.
 *
 * See also: pipe_ipc.c (the same hand-over between processes), exercise 03 (write this queue),
 * chapter 13's stress_queue.c (this queue under stress, and a broken variant caught).
 *
 * Usage: bounded_queue [-p N] [-c N] [-n N] [-k N] [--always-signal]
 */
#include "lib/bounded_queue.h"
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
    queue_init(&shared.queue, (size_t)capacity,
               always_signal ? QUEUE_SIGNAL_ALWAYS : QUEUE_SIGNAL_IF_SLEEPING);
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
