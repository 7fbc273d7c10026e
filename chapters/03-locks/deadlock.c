/**
 * @file deadlock.c
 * @brief Two transfers take two locks in opposite order and deadlock; a timed lock detects it.
 *
 * What to look for: a transfer from account A to account B locks A, then B. A transfer from
 * B to A, at the same time, locks B, then A. Each now holds the lock the other one needs, and
 * with pthread_mutex_lock() both would wait forever: a deadlock, the program frozen with no
 * error and no CPU use. Here each transfer takes its second lock with
 * pthread_mutex_timedlock(), gives up when the time is out, releases the lock it holds (backs
 * out) and reports, so the program always ends:
 * `BROKEN: deadlock detected: thread 1 holds lock A and waits for lock B, thread 2 ...`.
 *
 * The deadlock is made certain, not lucky: a barrier holds both threads after their first
 * lock until the other has taken its own, the worst interleaving, forced. In real code the
 * two threads only have to pass that point at about the same time, which happens rarely: a
 * program that freezes once a week.
 *
 * A timeout detects a deadlock; it does not prevent one. The fix is a rule about order:
 * see deadlock_fixed.c (one global lock order) and trylock_backoff.c (back off and retry).
 *
 * Usage: deadlock [-p N]
 */
#include "kit.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

static const char usage[] =
    "Usage: deadlock [options]\n"
    "Two transfers lock two accounts in opposite order: detect the deadlock, back out.\n"
    "  -p, --patience-ms=N   how long to wait for the second lock (default 200)\n"
    "  -h, --help            show this help and exit\n";

struct account {
    const char *name;
    pthread_mutex_t lock;
    long balance;
};

/* One transfer, run by one thread: what it needs, and what happened to it. */
struct transfer {
    pthread_t thread;
    int id;
    struct account *from, *to;
    long amount;
    double patience;                 /* seconds to wait for the second lock */
    pthread_barrier_t *both_holding; /* shared by the two transfers */
    bool gave_up;                    /* timed out on the second lock and backed out */
    double waited;                   /* seconds spent waiting for the second lock */
};

static void *move_money(void *arg)
{
    struct transfer *self = arg;
    KIT_CHECK_EN(pthread_mutex_lock(&self->from->lock));
    kit_barrier_wait(self->both_holding); /* from here on, each holds what the other needs */

    /* pthread_mutex_timedlock() takes an absolute deadline on CLOCK_REALTIME (glibc's
     * pthread_mutex_clocklock() also accepts CLOCK_MONOTONIC, but is not POSIX). */
    struct timespec deadline = kit_deadline(CLOCK_REALTIME, self->patience);
    double start = kit_now();
    int en = pthread_mutex_timedlock(&self->to->lock, &deadline);
    self->waited = kit_seconds_since(start);
    if (en == ETIMEDOUT) {
        self->gave_up = true; /* back out: unlocking below lets the other transfer finish */
    } else {
        if (en != 0)
            kit_die_en(en, "pthread_mutex_timedlock lock %s", self->to->name);
        self->from->balance -= self->amount;
        self->to->balance += self->amount;
        KIT_CHECK_EN(pthread_mutex_unlock(&self->to->lock));
    }
    KIT_CHECK_EN(pthread_mutex_unlock(&self->from->lock));
    return NULL;
}

static void report(const struct transfer *transfer)
{
    printf("thread %d (%s -> %s): held lock %s, waited %.3f s for lock %s: %s\n", transfer->id,
           transfer->from->name, transfer->to->name, transfer->from->name, transfer->waited,
           transfer->to->name,
           transfer->gave_up ? "gave up, released its lock"
                             : "got it (the other backed out), done");
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"patience-ms", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long patience_ms = 200;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "p:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'p': patience_ms = kit_parse_long("--patience-ms", optarg, 1, 10000); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    struct account a = {.name = "A", .balance = 100}, b = {.name = "B", .balance = 100};
    KIT_CHECK_EN(pthread_mutex_init(&a.lock, NULL));
    KIT_CHECK_EN(pthread_mutex_init(&b.lock, NULL));
    pthread_barrier_t both_holding;
    KIT_CHECK_EN(pthread_barrier_init(&both_holding, NULL, 2));
    struct transfer transfers[2] = {
        {.id = 1, .from = &a, .to = &b, .amount = 10},
        {.id = 2, .from = &b, .to = &a, .amount = 20},
    };
    for (int t = 0; t < 2; t++) {
        transfers[t].patience = (double)patience_ms / 1000;
        transfers[t].both_holding = &both_holding;
    }

    printf("thread 1 moves 10 from A to B (locks A, then B); thread 2 moves 20 from B to A "
           "(locks B, then A)\n");
    for (int t = 0; t < 2; t++)
        KIT_CHECK_EN(pthread_create(&transfers[t].thread, NULL, move_money, &transfers[t]));
    for (int t = 0; t < 2; t++)
        KIT_CHECK_EN(pthread_join(transfers[t].thread, NULL));
    for (int t = 0; t < 2; t++)
        report(&transfers[t]);
    printf("balances: A %ld, B %ld (total %ld)\n", a.balance, b.balance, a.balance + b.balance);

    KIT_CHECK_EN(pthread_barrier_destroy(&both_holding));
    KIT_CHECK_EN(pthread_mutex_destroy(&a.lock));
    KIT_CHECK_EN(pthread_mutex_destroy(&b.lock));

    if (transfers[0].gave_up || transfers[1].gave_up) {
        printf("BROKEN: deadlock detected: thread 1 holds lock A and waits for lock B, thread 2 "
               "holds lock B and waits for lock A (timed out after %ld ms, backed out)\n",
               patience_ms);
        return 0;
    }
    printf("FAILED: no deadlock: both transfers got both locks\n");
    return 1;
}
