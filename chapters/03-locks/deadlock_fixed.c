/**
 * @file deadlock_fixed.c
 * @brief Many transfers between accounts, each taking both locks in one global order: no deadlock.
 *
 * What to look for: threads move money between random pairs of accounts, in both directions,
 * thousands of times. Each transfer needs two locks, like the two transfers of deadlock.c,
 * but every thread takes them in the same order: the account with the lower number first,
 * whichever way the money goes. A cycle of waiting (thread 1 holds A and waits for B while
 * thread 2 holds B and waits for A) would need someone to hold B while waiting for A, which
 * the rule forbids, so it cannot form. Plain pthread_mutex_lock() is safe here, and every
 * transfer completes:
 * `OK: 10000 transfers done with no deadlock; money conserved (4000)`.
 *
 * Each transfer sleeps a moment between its first and its second lock (see transfer()), the
 * window in which deadlock.c got stuck, so that threads often wait for a lock while holding
 * another. Take the locks in the order of the transfer instead, and this program hangs within
 * a fraction of a second; with the global order, it cannot.
 *
 * The order is a lock hierarchy: give every lock a rank and always take them in rising
 * rank. Each transfer also checks the balance and moves the money while holding both locks,
 * so the check and the act are one step: the fix for chapter 02's check_then_act.c.
 *
 * What goes wrong in the broken twin: deadlock.c takes the two locks in the order of the
 * transfer, from then to, and two opposite transfers wait for each other forever.
 *
 * See also: deadlock.c, trylock_backoff.c (another way out, when no order can be fixed).
 *
 * Usage: deadlock_fixed [-t N] [-a N] [-n N]
 */
#include "kit.h"

#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
    "Usage: deadlock_fixed [options]\n"
    "Random transfers between accounts, both locks taken in one global order.\n"
    "  -t, --threads=N     threads making transfers (default 4)\n"
    "  -a, --accounts=N    accounts, 2 or more (default 4)\n"
    "  -n, --transfers=N   transfers per thread (default 2500)\n"
    "  -h, --help          show this help and exit\n";

enum { OPENING_BALANCE = 1000, MAX_AMOUNT = 50 };

/* The pause between a transfer's two locks. A sleep, not sched_yield(): a yield hands the CPU
 * to any busy process for the rest of its time slice, milliseconds per transfer on a loaded
 * machine, while a sleeper wakes on time. A microsecond asked is about 60 us slept (the
 * kernel's timer slack). */
static const double WINDOW_S = 1e-6;

struct account {
    pthread_mutex_t lock; /* guards balance */
    long balance;
};

struct bank {
    struct account *accounts;
    long account_count;
    long transfers_per_thread;
};

struct teller {
    pthread_t thread;
    unsigned seed; /* for rand_r(): each thread its own random sequence */
    struct bank *bank;
    long moved, refused;
};

/* Move `amount` from one account to another, if it is there. Both locks are taken in the
 * order of the accounts' numbers, never in the order of the transfer. */
static bool transfer(struct bank *bank, long from, long to, long amount)
{
    long first = from < to ? from : to, second = from < to ? to : from;
    KIT_CHECK_EN(pthread_mutex_lock(&bank->accounts[first].lock));
    kit_sleep(WINDOW_S); /* the window of deadlock.c: others run while we hold one lock of two */
    KIT_CHECK_EN(pthread_mutex_lock(&bank->accounts[second].lock));
    bool enough = bank->accounts[from].balance >= amount; /* check and act under both locks */
    if (enough) {
        bank->accounts[from].balance -= amount;
        bank->accounts[to].balance += amount;
    }
    KIT_CHECK_EN(pthread_mutex_unlock(&bank->accounts[second].lock));
    KIT_CHECK_EN(pthread_mutex_unlock(&bank->accounts[first].lock));
    return enough;
}

static void *make_transfers(void *arg)
{
    struct teller *self = arg;
    struct bank *bank = self->bank;
    for (long i = 0; i < bank->transfers_per_thread; i++) {
        long from = rand_r(&self->seed) % bank->account_count;
        long to = rand_r(&self->seed) % (bank->account_count - 1);
        if (to >= from) /* any account but `from`, all equally likely */
            to++;
        long amount = 1 + rand_r(&self->seed) % MAX_AMOUNT;
        if (transfer(bank, from, to, amount))
            self->moved++;
        else
            self->refused++;
    }
    return NULL;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"threads", required_argument, NULL, 't'},
        {"accounts", required_argument, NULL, 'a'},
        {"transfers", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long thread_count = 4;
    struct bank bank = {.account_count = 4, .transfers_per_thread = 2500};

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "t:a:n:h", options, NULL)) != -1;) {
        switch (opt) {
        case 't': thread_count = kit_parse_long("--threads", optarg, 1, 64); break;
        case 'a': bank.account_count = kit_parse_long("--accounts", optarg, 2, 1000); break;
        case 'n':
            bank.transfers_per_thread = kit_parse_long("--transfers", optarg, 1, 1000000);
            break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (thread_count * bank.transfers_per_thread > 1000000)
        kit_usage_error("--threads=%ld x --transfers=%ld is over the cap of 1e6 transfers (each "
                        "sleeps while it holds a lock): it would run for minutes",
                        thread_count, bank.transfers_per_thread);

    bank.accounts = calloc((size_t)bank.account_count, sizeof *bank.accounts);
    struct teller *tellers = calloc((size_t)thread_count, sizeof *tellers);
    if (bank.accounts == NULL || tellers == NULL)
        kit_die_errno("calloc %ld accounts and %ld threads", bank.account_count, thread_count);
    for (long a = 0; a < bank.account_count; a++) {
        KIT_CHECK_EN(pthread_mutex_init(&bank.accounts[a].lock, NULL));
        bank.accounts[a].balance = OPENING_BALANCE;
    }

    printf("%ld threads x %ld random transfers between %ld accounts of %d\n", thread_count,
           bank.transfers_per_thread, bank.account_count, OPENING_BALANCE);
    double start = kit_now();
    for (long t = 0; t < thread_count; t++) {
        tellers[t] = (struct teller){.seed = (unsigned)t + 1, .bank = &bank};
        KIT_CHECK_EN(pthread_create(&tellers[t].thread, NULL, make_transfers, &tellers[t]));
    }
    long moved = 0, refused = 0;
    for (long t = 0; t < thread_count; t++) {
        KIT_CHECK_EN(pthread_join(tellers[t].thread, NULL));
        moved += tellers[t].moved;
        refused += tellers[t].refused;
    }
    double seconds = kit_seconds_since(start);

    long total = 0, lowest = OPENING_BALANCE;
    for (long a = 0; a < bank.account_count; a++) {
        total += bank.accounts[a].balance;
        if (bank.accounts[a].balance < lowest)
            lowest = bank.accounts[a].balance;
        KIT_CHECK_EN(pthread_mutex_destroy(&bank.accounts[a].lock));
    }
    free(bank.accounts);
    free(tellers);
    long expected = bank.account_count * OPENING_BALANCE;
    printf("%ld moved, %ld refused for lack of money, in %.3f s; lowest balance %ld\n", moved,
           refused, seconds, lowest);

    if (total == expected && lowest >= 0) {
        printf("OK: %ld transfers done with no deadlock; money conserved (%ld)\n", moved + refused,
               total);
        return 0;
    }
    printf("FAILED: money is %ld, expected %ld; lowest balance %ld\n", total, expected, lowest);
    return 1;
}
