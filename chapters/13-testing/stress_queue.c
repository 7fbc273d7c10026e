/**
 * @file stress_queue.c
 * @brief A stress test of chapter 05's queue: invariants after every round; a broken twin caught.
 *
 * What to look for: rounds of fresh threads on a fresh queue (1x1 up to 8x8 producers and
 * consumers, a random capacity of 1 to 64), with random pauses; after each round, every item
 * delivered exactly once, each producer's items in order, never more in the queue than its
 * capacity, every thread finished by itself. The summary counts the rounds that filled the
 * queue (else put's wait never ran). The harness, pauses and watchdog, is lib/stress.c.
 *
 * `--broken` runs the same test on the queue with QUEUE_SIGNAL_ON_EDGE, which loses wake-ups
 * once two threads sleep on one side: a round stops moving, the watchdog wakes the sleepers
 * after a second of no progress, and the verdict is BROKEN. `--one-each` (1x1 rounds) never
 * catches it. `--seed=N` replays a run's plan, not its interleaving (the scheduler has no seed).
 *
 * See also: chapter 05's lib/bounded_queue.c (the queue under test); sanitizers.c (the tools).
 *
 * Usage: stress_queue [--rounds=N] [--items=N] [--seed=N] [--one-each] [--broken]
 */
#include "../05-queues/lib/bounded_queue.h"
#include "kit.h"
#include "lib/stress.h"

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: stress_queue [options]\n"
    "Stress chapter 05's bounded queue: many rounds, invariants checked after each.\n"
    "  -r, --rounds=N   rounds, each with fresh threads and a fresh queue (default 36)\n"
    "  -n, --items=N    items per round, 8 or more (default 2000)\n"
    "  -s, --seed=N     replay the plan of an earlier run (default: a new seed, printed)\n"
    "  -1, --one-each   one producer and one consumer in every round (the usual test)\n"
    "  -b, --broken     test the queue with a broken wake-up rule: the test must catch it\n"
    "  -h, --help       show this help and exit\n";

#define SENTINEL (-1L) /* not an item: tells one consumer to stop */
enum { MAX_SIDE = 8 }; /* at most 8 producers and 8 consumers */
static const long COUNTS[][2] = {{1, 1}, {2, 2}, {1, 4}, {4, 1}, {3, 5}, {8, 8}};
enum { PLANS = sizeof COUNTS / sizeof COUNTS[0] };
static const long CAPACITIES[] = {1, 2, 3, 8, 64};
static const double STALL_S = 1.0; /* nothing moved this long: the round is stuck */

struct round {
    struct bounded_queue queue;
    long producers, consumers, capacity, per_producer, items;
    uint64_t seed;            /* this round's: each thread derives its own from it */
    atomic_uchar *seen;       /* seen[item] counts its deliveries: must end as exactly 1 */
    atomic_long puts_done;    /* puts that have returned */
    atomic_long gets_started; /* gets that have begun (the sentinels' too) */
    atomic_long producers_left;
    /* Each written by its own thread only, read after the joins: */
    long fullest[MAX_SIDE];      /* producer's: the most items it saw certainly in the queue */
    long out_of_order[MAX_SIDE]; /* consumer's: items after a later one of their producer */
};

static void produce(struct round *round, long id)
{
    uint64_t rng = round->seed ^ (uint64_t)(id + 1) << 40;
    for (long seq = 0; seq < round->per_producer; seq++) {
        stress_pause(&rng);
        queue_put(&round->queue, id * round->per_producer + seq);
        /* Capacity, checked from outside: puts done minus gets begun counts items certainly in
         * the queue now (a get that has begun may not have taken its item yet: the count errs
         * low, never high). Read puts_done first, then gets_started. */
        long puts_done = atomic_fetch_add(&round->puts_done, 1) + 1;
        long certain = puts_done - atomic_load(&round->gets_started);
        if (certain > round->fullest[id])
            round->fullest[id] = certain;
    }
    if (atomic_fetch_sub(&round->producers_left, 1) == 1) /* the last producer: a stop each */
        for (long i = 0; i < round->consumers; i++)
            queue_put(&round->queue, SENTINEL);
}

static void consume(struct round *round, long id)
{
    uint64_t rng = round->seed ^ (uint64_t)(id + 1) << 48;
    long last_seq[MAX_SIDE] = {-1, -1, -1, -1, -1, -1, -1, -1}; /* last seen of each producer */
    for (;;) {
        stress_pause(&rng);
        atomic_fetch_add(&round->gets_started, 1);
        long item = queue_get(&round->queue);
        if (item == SENTINEL)
            break;
        if (item < 0 || item >= round->items) /* only a queue that corrupts its slots */
            kit_die("FAILED: a consumer got %ld, which no producer sent", item);
        atomic_fetch_add_explicit(&round->seen[item], 1, memory_order_relaxed);
        long producer = item / round->per_producer, seq = item % round->per_producer;
        round->out_of_order[id] += seq <= last_seq[producer];
        last_seq[producer] = seq;
    }
}

/* Thread number @p thread of a round: the producers first, then the consumers. */
static void producer_or_consumer(long thread, void *arg)
{
    struct round *round = arg;
    if (thread < round->producers)
        produce(round, thread);
    else
        consume(round, thread - round->producers);
}

/* The watchdog's sign of life: puts done plus gets begun (lib/stress.c adds threads ending). */
static long round_progress(void *arg)
{
    struct round *round = arg;
    return atomic_load(&round->puts_done) + atomic_load(&round->gets_started);
}

/* The watchdog's rescue of a stuck round: wake every sleeper, so that the round ends and is
 * reported, not hung. A test may reach into the queue like this; its users never should. */
static void wake_everyone(void *arg)
{
    struct round *round = arg;
    KIT_CHECK_EN(pthread_cond_broadcast(&round->queue.not_empty));
    KIT_CHECK_EN(pthread_cond_broadcast(&round->queue.not_full));
}

/* Run round @p number, then check it: true if every invariant held, else it says what failed.
 * *fullest: the most items the queue certainly held at once. */
static bool run_round(struct round *round, long number, bool broken, long *fullest)
{
    for (long i = 0; i < round->items; i++)
        atomic_init(&round->seen[i], 0);
    atomic_init(&round->producers_left, round->producers);
    queue_init(&round->queue, (size_t)round->capacity,
               broken ? QUEUE_SIGNAL_ON_EDGE : QUEUE_SIGNAL_IF_SLEEPING);
    double stuck = stress_run(round->producers + round->consumers, producer_or_consumer, round,
                              STALL_S, round_progress, wake_everyone);
    queue_destroy(&round->queue);
    long out_of_order = 0, lost = 0, duplicated = 0;
    *fullest = 0;
    for (long i = 0; i < MAX_SIDE; i++) {
        out_of_order += round->out_of_order[i];
        *fullest = round->fullest[i] > *fullest ? round->fullest[i] : *fullest;
    }
    for (long item = 0; item < round->items; item++) {
        unsigned deliveries = atomic_load_explicit(&round->seen[item], memory_order_relaxed);
        lost += deliveries == 0;
        duplicated += deliveries > 1;
    }
    if (lost + duplicated + out_of_order == 0 && *fullest <= round->capacity && stuck == 0)
        return true;
    printf("round %ld FAILED (%ld producer(s) x %ld consumer(s), capacity %ld, %ld items): "
           "%ld lost, %ld duplicated, %ld out of order, at least %ld at once\n",
           number, round->producers, round->consumers, round->capacity, round->items, lost,
           duplicated, out_of_order, *fullest);
    if (stuck > 0)
        printf("  stuck: nothing moved for %.1f s; woken by a broadcast, the sleepers finished "
               "the round: they had work all along (a lost wake-up)\n",
               stuck);
    return false;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"rounds", required_argument, NULL, 'r'},
        {"items", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},
        {"one-each", no_argument, NULL, '1'},
        {"broken", no_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long rounds = 36, items = 2000, seed = stress_new_seed();
    bool one_each = false, broken = false;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "r:n:s:1bh", options, NULL)) != -1;) {
        switch (opt) {
        case 'r': rounds = kit_parse_long("--rounds", optarg, 1, 100000); break;
        case 'n': items = kit_parse_long("--items", optarg, MAX_SIDE, 1000000); break;
        case 's': seed = kit_parse_long("--seed", optarg, 0, 999999999); break;
        case '1': one_each = true; break;
        case 'b': broken = true; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if ((double)rounds * (double)items > 2e7)
        kit_usage_error("--rounds=%ld x --items=%ld is over the cap of 2e7 items", rounds, items);

    atomic_uchar *seen = malloc((size_t)items * sizeof *seen);
    if (seen == NULL)
        kit_die_errno("malloc for %ld items", items);
    printf("stress: %ld round%s of %ld items through %s, seed %ld (--seed=%ld replays the plan)\n",
           rounds, rounds == 1 ? "" : "s", items,
           broken ? "the BROKEN queue (signal on the edge only)" : "the queue", seed, seed);
    long rounds_at[PLANS] = {0}, items_at[PLANS] = {0}, full_at[PLANS] = {0}, items_run = 0;
    long failed = 0; /* the round that failed, if any: the test stops there */
    char capacities[64] = "";
    for (long r = 0; r < rounds && failed == 0; r++) {
        uint64_t rng = (uint64_t)seed ^ (uint64_t)r << 20;
        long plan = one_each ? 0 : r % PLANS, fullest;
        struct round round = {.producers = COUNTS[plan][0],
                              .consumers = COUNTS[plan][1],
                              .seed = stress_random(&rng),
                              .seen = seen};
        round.capacity = CAPACITIES[stress_random(&rng) % (sizeof CAPACITIES / sizeof(long))];
        round.per_producer = items / round.producers;
        round.items = round.per_producer * round.producers;
        if (r < 12) /* the plan, for the record: the same seed, the same capacities */
            snprintf(capacities + strlen(capacities), sizeof capacities - strlen(capacities),
                     " %ld", round.capacity);
        if (!run_round(&round, r + 1, broken, &fullest))
            failed = r + 1;
        rounds_at[plan]++;
        items_at[plan] += round.items;
        items_run += round.items;
        full_at[plan] += fullest >= round.capacity;
    }
    free(seen);

    printf("plan: capacities%s%s\n", capacities, rounds > 12 ? " ..." : "");
    for (int p = 0; p < PLANS; p++)
        if (rounds_at[p] > 0)
            printf("%ld producer(s) x %ld consumer(s): %3ld round%s, %6ld items, queue seen "
                   "full in %ld\n",
                   COUNTS[p][0], COUNTS[p][1], rounds_at[p], rounds_at[p] == 1 ? "" : "s",
                   items_at[p], full_at[p]);
    if (failed != 0) {
        printf("replay its plan: stress_queue --seed=%ld%s\n", seed, broken ? " --broken" : "");
        printf(broken ? "BROKEN: the stress test caught the broken queue in round %ld of %ld\n"
                      : "FAILED: round %ld of %ld broke an invariant (above)\n",
               failed, rounds);
        return broken ? 0 : 1;
    }
    if (broken) { /* every round ran, and none failed */
        printf(
            "note: the broken queue survived %ld round%s: it needs two sleepers on one side, %s\n",
            rounds, rounds == 1 ? "" : "s",
            one_each ? "which one producer and one consumer never make (drop --one-each)"
                     : "which this run never had at the wrong moment (try more --rounds)");
        return 0;
    }
    printf("OK: %ld round%s, %ld items: each delivered once, in order per producer, never over "
           "capacity, every round shut down cleanly\n",
           rounds, rounds == 1 ? "" : "s", items_run);
    return 0;
}
