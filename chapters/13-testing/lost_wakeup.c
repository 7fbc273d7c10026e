/**
 * @file lost_wakeup.c
 * @brief The smallest run of chapter 05's queue that can lose a wake-up, made for make explore.
 *
 * What to look for: two consumers each take one item from an empty queue of capacity 2, so
 * both may fall asleep; then a producer puts two items. With the queue's own rule (signal when
 * someone sleeps) both consumers wake. With `--broken` (QUEUE_SIGNAL_ON_EDGE: signal only when
 * a put makes the queue stop being empty) the second put wakes nobody, and the second consumer
 * sleeps on beside an item: `BROKEN: a consumer slept beside an item (a lost wake-up)`.
 *
 * On the operating system's scheduler that needs both consumers asleep before the producer's
 * two puts, which it seldom arranges (stress_queue.c needs many rounds of many threads to
 * catch it). Under the controlled scheduler the order is a choice like any other:
 * `make explore PROG=lost_wakeup ARGS=--broken` finds it in the first interleaving it runs.
 * A watchdog (lib/stress.c) wakes the sleepers after a second without progress, so the program
 * always ends, and under the explorer that second is virtual.
 *
 * See also: stress_queue.c (the same rule under stress), chapter 05's lib/bounded_queue.c.
 *
 * Usage: lost_wakeup [--broken]
 */
#include "../05-queues/lib/bounded_queue.h"
#include "kit.h"
#include "lib/stress.h"

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

static const char usage[] =
    "Usage: lost_wakeup [options]\n"
    "Two consumers and a producer share a queue of capacity 2: is any wake-up lost?\n"
    "  -b, --broken   use the broken wake-up rule (signal only on the edge from empty)\n"
    "  -h, --help     show this help and exit\n";

enum { CONSUMERS = 2, CAPACITY = 2 };
static const double STALL_S = 1.0; /* nothing moved this long: a consumer sleeps for good */

struct run {
    struct bounded_queue queue;
    atomic_long taken; /* items the consumers have taken */
    long got[CONSUMERS];
};

/* Threads 0 and 1 consume one item each; thread 2 produces one item for each of them. */
static void consume_or_produce(long thread, void *arg)
{
    struct run *run = arg;
    if (thread < CONSUMERS) {
        run->got[thread] = queue_get(&run->queue);
        atomic_fetch_add(&run->taken, 1);
        return;
    }
    for (long item = 1; item <= CONSUMERS; item++)
        queue_put(&run->queue, item);
}

static long progress(void *arg)
{
    struct run *run = arg;
    return atomic_load(&run->taken);
}

/* The watchdog's rescue: wake every sleeper so that the run ends and is reported. */
static void wake_sleepers(void *arg)
{
    struct run *run = arg;
    KIT_CHECK_EN(pthread_mutex_lock(&run->queue.lock));
    KIT_CHECK_EN(pthread_cond_broadcast(&run->queue.not_empty));
    KIT_CHECK_EN(pthread_mutex_unlock(&run->queue.lock));
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"broken", no_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool broken = false;
    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "bh", options, NULL)) != -1;) {
        switch (opt) {
        case 'b': broken = true; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    struct run run = {.got = {0}};
    atomic_init(&run.taken, 0);
    queue_init(&run.queue, CAPACITY, broken ? QUEUE_SIGNAL_ON_EDGE : QUEUE_SIGNAL_IF_SLEEPING);
    printf("2 consumers and 1 producer of 2 items, a queue of capacity 2, %s\n",
           broken ? "the BROKEN rule (signal on the edge only)" : "the queue's own rule");
    double stuck =
        stress_run(CONSUMERS + 1, consume_or_produce, &run, STALL_S, progress, wake_sleepers);
    queue_destroy(&run.queue);
    if (stuck > 0) {
        printf("%s: a consumer slept beside an item (a lost wake-up): nothing moved for %.1f s "
               "until the watchdog woke it\n",
               broken ? "BROKEN" : "FAILED", stuck);
        return broken ? 0 : 1;
    }
    if (run.got[0] + run.got[1] != 1 + 2) {
        printf("FAILED: the consumers got %ld and %ld, expected 1 and 2\n", run.got[0], run.got[1]);
        return 1;
    }
    if (broken) { /* the rule is still wrong: this interleaving did not show it */
        printf("note: no wake-up lost this time: the consumers did not both sleep before the "
               "two puts (make explore PROG=lost_wakeup ARGS=--broken finds the order that "
               "does)\n");
        return 0;
    }
    printf("OK: each consumer got its item (%ld and %ld)\n", run.got[0], run.got[1]);
    return 0;
}
