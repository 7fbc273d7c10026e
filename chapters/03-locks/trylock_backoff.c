/**
 * @file trylock_backoff.c
 * @brief The opposite-order transfers of deadlock.c, made safe: try the second lock, back off.
 *
 * What to look for: as in deadlock.c, thread 1 moves money from A to B (locks A, then B) and
 * thread 2 from B to A (locks B, then A), here many times over. The second lock is taken with
 * pthread_mutex_trylock(), which never waits: if the lock is busy, the thread releases the
 * lock it holds, sleeps for a short random time and starts the transfer again. A thread that
 * waits holds nothing, so no cycle of waiting can form. Every transfer completes and the
 * program counts the retries:
 * `OK: 200 transfers done, balances back to 100 and 100; 57 retries, no deadlock`.
 *
 * Why random: if both threads backed off for the same time, they could collide again and
 * again, each politely giving way forever (a livelock). Different random delays break the tie.
 * Use this when no global lock order can be fixed in advance; when one can, deadlock_fixed.c
 * is simpler and wastes no work.
 *
 * Each thread keeps its first lock for a moment before trying the second (see move_once()),
 * so that the two collide often enough to show the back-off at work, on one core as on many.
 *
 * See also: deadlock.c (the same lock order, detected with a timeout), deadlock_fixed.c.
 *
 * Usage: trylock_backoff [-n N]
 */
#include "kit.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
    "Usage: trylock_backoff [options]\n"
    "Two threads lock two accounts in opposite order, with trylock and random back-off.\n"
    "  -n, --transfers=N   transfers per thread (default 100)\n"
    "  -h, --help          show this help and exit\n";

enum { MAX_ATTEMPTS = 10000 }; /* far more than back-off ever needs: a guard against livelock */
static const double HOLD_S = 100e-6;        /* keep the first lock this long before the second */
static const double MAX_BACKOFF_S = 500e-6; /* back off for a random time up to this */

struct account {
    const char *name;
    pthread_mutex_t lock;
    long balance;
};

struct transfer {
    pthread_t thread;
    int id;
    struct account *from, *to;
    long count;               /* transfers of 1 to make */
    unsigned seed;            /* for rand_r(): the back-off delays */
    pthread_barrier_t *start; /* both threads start together */
    long retries;
    bool gave_up; /* MAX_ATTEMPTS reached: should never happen */
};

/* Try once: lock `from`, try `to`. On success move the money and return true; if `to` is
 * busy, release `from` and return false, holding nothing. */
static bool move_once(struct transfer *self)
{
    KIT_CHECK_EN(pthread_mutex_lock(&self->from->lock));
    kit_sleep(HOLD_S); /* the window in which the other thread takes its first lock */
    int en = pthread_mutex_trylock(&self->to->lock);
    if (en == EBUSY) {
        KIT_CHECK_EN(pthread_mutex_unlock(&self->from->lock)); /* back out */
        return false;
    }
    if (en != 0)
        kit_die_en(en, "pthread_mutex_trylock lock %s", self->to->name);
    self->from->balance -= 1;
    self->to->balance += 1;
    KIT_CHECK_EN(pthread_mutex_unlock(&self->to->lock));
    KIT_CHECK_EN(pthread_mutex_unlock(&self->from->lock));
    return true;
}

static void *move_money(void *arg)
{
    struct transfer *self = arg;
    kit_barrier_wait(self->start);
    for (long i = 0; i < self->count; i++) {
        int attempts = 1;
        while (!move_once(self)) {
            self->retries++;
            if (++attempts > MAX_ATTEMPTS) {
                self->gave_up = true;
                return NULL;
            }
            kit_sleep(MAX_BACKOFF_S * rand_r(&self->seed) / RAND_MAX); /* random back-off */
        }
    }
    return NULL;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"transfers", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long count = 100;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "n:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'n': count = kit_parse_long("--transfers", optarg, 1, 1000000); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (count > 100000)
        kit_usage_error("--transfers=%ld is over the cap of 100000 (each waits about 0.5 ms): it "
                        "would run for minutes",
                        count);

    struct account a = {.name = "A", .balance = 100}, b = {.name = "B", .balance = 100};
    KIT_CHECK_EN(pthread_mutex_init(&a.lock, NULL));
    KIT_CHECK_EN(pthread_mutex_init(&b.lock, NULL));
    pthread_barrier_t start;
    KIT_CHECK_EN(pthread_barrier_init(&start, NULL, 2));
    struct transfer transfers[2] = {
        {.id = 1, .from = &a, .to = &b, .count = count, .seed = 1, .start = &start},
        {.id = 2, .from = &b, .to = &a, .count = count, .seed = 2, .start = &start},
    };

    printf("thread 1 moves 1 from A to B, thread 2 from B to A, %ld times each\n", count);
    double started = kit_now();
    for (int t = 0; t < 2; t++)
        KIT_CHECK_EN(pthread_create(&transfers[t].thread, NULL, move_money, &transfers[t]));
    for (int t = 0; t < 2; t++)
        KIT_CHECK_EN(pthread_join(transfers[t].thread, NULL));
    double seconds = kit_seconds_since(started);
    for (int t = 0; t < 2; t++)
        printf("thread %d (%s -> %s): %ld retries after finding lock %s busy\n", transfers[t].id,
               transfers[t].from->name, transfers[t].to->name, transfers[t].retries,
               transfers[t].to->name);
    printf("balances: A %ld, B %ld, in %.3f s\n", a.balance, b.balance, seconds);

    KIT_CHECK_EN(pthread_barrier_destroy(&start));
    KIT_CHECK_EN(pthread_mutex_destroy(&a.lock));
    KIT_CHECK_EN(pthread_mutex_destroy(&b.lock));

    long retries = transfers[0].retries + transfers[1].retries;
    if (transfers[0].gave_up || transfers[1].gave_up) {
        printf("FAILED: a thread gave up after %d attempts at one transfer\n", MAX_ATTEMPTS);
        return 1;
    }
    if (a.balance != 100 || b.balance != 100) { /* as many moves each way: back to the start */
        printf("FAILED: balances A %ld, B %ld, expected 100 and 100\n", a.balance, b.balance);
        return 1;
    }
    printf("OK: %ld transfers done, balances back to 100 and 100; %ld retries, no deadlock\n",
           2 * count, retries);
    return 0;
}
