/**
 * @file stress_queue.c
 * @brief A stress test of chapter 05's queue: invariants after every round; a broken twin caught.
 *
 * What to look for: each round starts fresh threads on a fresh queue (1x1 up to 8x8 producers
 * and consumers in turn, a random capacity of 1 to 64), sends numbered items through it and
 * checks: every item delivered exactly once; each producer's items in order at every consumer;
 * never more items in the queue than its capacity; every thread finished by itself. Random
 * pauses (a yield, sometimes a sleep of up to 127 us) make threads fall behind and catch up, so
 * the queue runs full and empty at varied moments; the summary counts the rounds in which it
 * was seen full (a test that never fills the queue never runs put's wait).
 *
 * The broken twin is an option: `--broken` tests chapter 05's queue with QUEUE_SIGNAL_ON_EDGE,
 * a wake-up rule that loses wake-ups once two threads sleep on one side. A round stops moving;
 * the watchdog sees nothing move for a second, wakes every sleeper so that the round can end,
 * and the verdict is BROKEN. `--one-each` (1x1 rounds only) never catches it. `--seed=N`
 * replays a run's plan (counts, capacities, pauses), not its interleaving: the kernel's
 * scheduler takes no seed.
 *
 * See also: chapter 05's lib/bounded_queue.c (the queue under test), sanitizers.c (what tools
 * see that a stress test does not).
 *
 * Usage: stress_queue [--rounds=N] [--items=N] [--seed=N] [--one-each] [--broken]
 */
#include "../05-queues/lib/bounded_queue.h"
#include "kit.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* splitmix64: a tiny, good generator. Every thread has its own state, so the plan needs no lock. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

struct round {
    struct bounded_queue queue;
    long producers, consumers, capacity, per_producer, items;
    uint64_t seed;            /* this round's: each thread derives its own from it */
    atomic_uchar *seen;       /* seen[item] counts its deliveries: must end as exactly 1 */
    atomic_long puts_done;    /* puts that have returned */
    atomic_long gets_started; /* gets that have begun (the sentinels' too) */
    atomic_long producers_left;
    sem_t finished; /* each thread posts it once, as it ends */
};

struct worker {
    pthread_t thread;
    struct round *round;
    long id;
    long fullest;      /* producer: the most items it saw certainly in the queue at once */
    long out_of_order; /* consumer: items that came after a later item of their producer */
};

static const char *plural(long count)
{
    return count == 1 ? "" : "s";
}

/* Before some puts and gets: a yield (1 in 8), or a sleep of 0-127 us (1 in 64). */
static void maybe_pause(uint64_t *rng)
{
    uint64_t r = next_random(rng);
    if (r % 64 == 0)
        kit_sleep((double)((r >> 32) % 128) * 1e-6);
    else if (r % 8 == 0)
        sched_yield();
}

static void *produce(void *arg)
{
    struct worker *self = arg;
    struct round *round = self->round;
    uint64_t rng = round->seed ^ (uint64_t)(self->id + 1) << 40;
    for (long seq = 0; seq < round->per_producer; seq++) {
        maybe_pause(&rng);
        queue_put(&round->queue, self->id * round->per_producer + seq);
        /* Capacity, checked from outside: puts done minus gets begun counts items certainly in
         * the queue now (a get that has begun may not have taken its item yet: the count errs
         * low, never high). Read puts_done first, then gets_started. */
        long puts_done = atomic_fetch_add(&round->puts_done, 1) + 1;
        long certain = puts_done - atomic_load(&round->gets_started);
        if (certain > self->fullest)
            self->fullest = certain;
    }
    if (atomic_fetch_sub(&round->producers_left, 1) == 1) /* the last producer: a stop each */
        for (long i = 0; i < round->consumers; i++)
            queue_put(&round->queue, SENTINEL);
    if (sem_post(&round->finished) == -1)
        kit_die_errno("sem_post");
    return NULL;
}

static void *consume(void *arg)
{
    struct worker *self = arg;
    struct round *round = self->round;
    uint64_t rng = round->seed ^ (uint64_t)(self->id + 1) << 48;
    long last_seq[MAX_SIDE] = {-1, -1, -1, -1, -1, -1, -1, -1}; /* last seen of each producer */
    for (;;) {
        maybe_pause(&rng);
        atomic_fetch_add(&round->gets_started, 1);
        long item = queue_get(&round->queue);
        if (item == SENTINEL)
            break;
        if (item < 0 || item >= round->items) /* only a queue that corrupts its slots */
            kit_die("FAILED: a consumer got %ld, which no producer sent", item);
        atomic_fetch_add_explicit(&round->seen[item], 1, memory_order_relaxed);
        long producer = item / round->per_producer, seq = item % round->per_producer;
        self->out_of_order += seq <= last_seq[producer];
        last_seq[producer] = seq;
    }
    if (sem_post(&round->finished) == -1)
        kit_die_errno("sem_post");
    return NULL;
}

/* Wait for @p threads posts. The sign of life is puts done plus gets begun (and threads
 * ending): if nothing changes for STALL_S, the round is stuck, and from then on both condition
 * variables are broadcast every 50 ms until it ends (a test may reach into the queue like this,
 * to report instead of hang; its users never should). Returns how long nothing moved, or 0. */
static double await_round(struct round *round, long threads)
{
    long last_moved = atomic_load(&round->puts_done) + atomic_load(&round->gets_started);
    double last_change = kit_now(), stuck = 0;
    while (threads > 0) {
        struct timespec deadline = kit_deadline(CLOCK_REALTIME, 0.05);
        if (sem_timedwait(&round->finished, &deadline) == 0) {
            threads--;
            last_change = kit_now(); /* a thread ending is a sign of life too */
            continue;
        }
        if (errno != ETIMEDOUT && errno != EINTR)
            kit_die_errno("sem_timedwait");
        long moved = atomic_load(&round->puts_done) + atomic_load(&round->gets_started);
        if (moved != last_moved) {
            last_moved = moved;
            last_change = kit_now();
        }
        if (stuck == 0 && kit_seconds_since(last_change) < STALL_S)
            continue;
        if (stuck == 0)
            stuck = kit_seconds_since(last_change);
        KIT_CHECK_EN(pthread_cond_broadcast(&round->queue.not_empty)); /* the rescue */
        KIT_CHECK_EN(pthread_cond_broadcast(&round->queue.not_full));
    }
    return stuck;
}

/* Run round @p number, then check it: true if every invariant held, else it says what failed.
 * *fullest: the most items the queue certainly held at once. */
static bool run_round(struct round *round, long number, bool broken, long *fullest)
{
    struct worker workers[2 * MAX_SIDE];
    long threads = round->producers + round->consumers;
    for (long i = 0; i < round->items; i++)
        atomic_init(&round->seen[i], 0);
    atomic_init(&round->producers_left, round->producers);
    queue_init(&round->queue, (size_t)round->capacity,
               broken ? QUEUE_SIGNAL_ON_EDGE : QUEUE_SIGNAL_IF_SLEEPING);
    if (sem_init(&round->finished, 0, 0) == -1)
        kit_die_errno("sem_init");
    for (long i = 0; i < threads; i++) {
        bool producer = i < round->producers;
        workers[i] = (struct worker){.round = round, .id = producer ? i : i - round->producers};
        KIT_CHECK_EN(
            pthread_create(&workers[i].thread, NULL, producer ? produce : consume, &workers[i]));
    }
    double stuck = await_round(round, threads);
    long out_of_order = 0, lost = 0, duplicated = 0;
    *fullest = 0;
    for (long i = 0; i < threads; i++) {
        KIT_CHECK_EN(pthread_join(workers[i].thread, NULL));
        out_of_order += workers[i].out_of_order;
        *fullest = workers[i].fullest > *fullest ? workers[i].fullest : *fullest;
    }
    if (sem_destroy(&round->finished) == -1)
        kit_die_errno("sem_destroy");
    queue_destroy(&round->queue);
    for (long item = 0; item < round->items; item++) {
        unsigned deliveries = atomic_load_explicit(&round->seen[item], memory_order_relaxed);
        lost += deliveries == 0;
        duplicated += deliveries > 1;
    }
    bool over = *fullest > round->capacity;
    if (lost + duplicated + out_of_order == 0 && !over && stuck == 0)
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
    long rounds = 36, items = 2000,
         seed = (long)(((unsigned long)time(NULL) ^ (unsigned long)getpid() << 10) % 1000000);
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
        kit_usage_error("--rounds=%ld x --items=%ld is over the cap of 2e7 items in all (about "
                        "a minute)",
                        rounds, items);

    atomic_uchar *seen = malloc((size_t)items * sizeof *seen);
    if (seen == NULL)
        kit_die_errno("malloc for %ld items", items);
    printf("stress: %ld round%s of %ld items through %s, seed %ld (--seed=%ld replays the plan)\n",
           rounds, plural(rounds), items,
           broken ? "the BROKEN queue (signal on the edge only)" : "the queue", seed, seed);
    long rounds_at[PLANS] = {0}, items_at[PLANS] = {0}, full_at[PLANS] = {0}, failed = 0;
    char capacities[64] = "";
    for (long r = 0; r < rounds && failed == 0; r++) {
        uint64_t rng = (uint64_t)seed ^ (uint64_t)r << 20;
        long plan = one_each ? 0 : r % PLANS, fullest;
        struct round round = {.producers = COUNTS[plan][0],
                              .consumers = COUNTS[plan][1],
                              .seed = next_random(&rng),
                              .seen = seen};
        round.capacity = CAPACITIES[next_random(&rng) % (sizeof CAPACITIES / sizeof(long))];
        round.per_producer = items / round.producers;
        round.items = round.per_producer * round.producers;
        if (r < 12) /* the plan, for the record: the same seed, the same capacities */
            snprintf(capacities + strlen(capacities), sizeof capacities - strlen(capacities),
                     " %ld", round.capacity);
        if (!run_round(&round, r + 1, broken, &fullest))
            failed = r + 1;
        rounds_at[plan]++;
        items_at[plan] += round.items;
        full_at[plan] += fullest >= round.capacity;
    }
    free(seen);

    printf("plan: capacities%s%s\n", capacities, rounds > 12 ? " ..." : "");
    long rounds_run = 0, items_run = 0;
    for (int p = 0; p < PLANS; p++) {
        if (rounds_at[p] > 0)
            printf("%ld producer(s) x %ld consumer(s): %3ld round%s, %6ld items, queue seen "
                   "full in %ld\n",
                   COUNTS[p][0], COUNTS[p][1], rounds_at[p], plural(rounds_at[p]), items_at[p],
                   full_at[p]);
        rounds_run += rounds_at[p];
        items_run += items_at[p];
    }
    if (failed != 0) {
        printf("replay its plan: stress_queue --seed=%ld%s\n", seed, broken ? " --broken" : "");
        printf(broken ? "BROKEN: the stress test caught the broken queue in round %ld of %ld\n"
                      : "FAILED: round %ld of %ld broke an invariant (above)\n",
               failed, rounds);
        return broken ? 0 : 1;
    }
    if (broken) {
        printf(
            "note: the broken queue survived %ld round%s: it needs two sleepers on one side, %s\n",
            rounds_run, plural(rounds_run),
            one_each ? "which one producer and one consumer never make (drop --one-each)"
                     : "which this run never had at the wrong moment (try more --rounds)");
        return 0;
    }
    printf("OK: %ld round%s, %ld items: each delivered once, in order per producer, never over "
           "capacity, every round shut down cleanly\n",
           rounds_run, plural(rounds_run), items_run);
    return 0;
}
