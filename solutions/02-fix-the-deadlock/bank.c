/**
 * @file bank.c
 * @brief Exercise 02, solved: every transfer locks its two accounts in one global order.
 *
 * What to look for: transfer() no longer locks "from, then to" but "the account that comes
 * first in the bank, then the other". Every thread takes any two locks in the same order, so no
 * thread can hold the second lock of another thread's pair while waiting for that thread's
 * first: the cycle of waits a deadlock needs cannot form. The order is the accounts' place in
 * the bank's array (their addresses), which every thread agrees on. The money moves exactly as
 * before, with both locks held, so the total never changes.
 *
 * What goes wrong otherwise: locking in argument order deadlocks as soon as two threads move
 * money in opposite directions; trylock-and-give-up on the second lock loses transfers, or money
 * when half the transfer was done; one lock for the whole bank is correct but serialises all.
 *
 * See also: chapter 03's deadlock.c and deadlock_fixed.c (the same order, for two locks).
 *
 * Usage: bank [-t N] [-a N] [-n N]
 */
#include "kit.h"

#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
    "Usage: bank [options]\n"
    "Threads move money between accounts at random; the total must never change.\n"
    "  -t, --threads=N      threads making transfers (default 4)\n"
    "  -a, --accounts=N     accounts, 2 or more (default 8)\n"
    "  -n, --transfers=N    transfers per thread (default 2000)\n"
    "  -h, --help           show this help and exit\n";

#define OPENING_BALANCE 1000L /* every account's money at the start */

struct account {
    pthread_mutex_t lock; /* guards balance */
    long balance;         /* may go below zero: overdrafts are allowed */
};

struct bank {
    struct account *accounts;
    long account_count;
    long transfers; /* transfers each thread makes */
};

struct teller {
    pthread_t thread;
    struct bank *bank;
    uint64_t random_state; /* this thread's own random numbers: no shared state */
    long done;             /* transfers this thread made */
};

/* A small random number generator (xorshift64), one state per thread. */
static uint64_t next_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Move amount from one account to another, holding both locks, taken in the bank's order:
 * the account earlier in the array first, whichever way the money goes. */
static void transfer(struct account *from, struct account *to, long amount)
{
    struct account *first = from < to ? from : to; /* both point into one array */
    struct account *second = from < to ? to : from;
    KIT_CHECK_EN(pthread_mutex_lock(&first->lock));
    sched_yield(); /* the work between the two locks: others may run here */
    KIT_CHECK_EN(pthread_mutex_lock(&second->lock));
    from->balance -= amount;
    to->balance += amount;
    KIT_CHECK_EN(pthread_mutex_unlock(&second->lock));
    KIT_CHECK_EN(pthread_mutex_unlock(&first->lock));
}

static void *make_transfers(void *arg)
{
    struct teller *teller = arg;
    struct bank *bank = teller->bank;
    for (long i = 0; i < bank->transfers; i++) {
        long from = (long)(next_random(&teller->random_state) % (uint64_t)bank->account_count);
        long to = (long)(next_random(&teller->random_state) % (uint64_t)(bank->account_count - 1));
        if (to >= from)
            to++; /* any account but from */
        long amount = 1 + (long)(next_random(&teller->random_state) % 100);
        transfer(&bank->accounts[from], &bank->accounts[to], amount);
        teller->done++;
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
    struct bank bank = {.accounts = NULL, .account_count = 8, .transfers = 2000};

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "t:a:n:h", options, NULL)) != -1;) {
        switch (opt) {
        case 't': thread_count = kit_parse_long("--threads", optarg, 1, 64); break;
        case 'a': bank.account_count = kit_parse_long("--accounts", optarg, 2, 1000); break;
        case 'n': bank.transfers = kit_parse_long("--transfers", optarg, 1, 1000000); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    bank.accounts = calloc((size_t)bank.account_count, sizeof bank.accounts[0]);
    struct teller *tellers = calloc((size_t)thread_count, sizeof tellers[0]);
    if (bank.accounts == NULL || tellers == NULL)
        kit_die_errno("calloc %ld accounts and %ld threads", bank.account_count, thread_count);
    for (long a = 0; a < bank.account_count; a++) {
        KIT_CHECK_EN(pthread_mutex_init(&bank.accounts[a].lock, NULL));
        bank.accounts[a].balance = OPENING_BALANCE;
    }
    printf("%ld threads x %ld transfers between %ld accounts\n", thread_count, bank.transfers,
           bank.account_count);
    fflush(stdout); /* seen before a hang, also through a pipe */

    for (long t = 0; t < thread_count; t++) {
        uint64_t seed = 0x9E3779B97F4A7C15u * (uint64_t)(t + 1); /* never 0, differs per thread */
        tellers[t] = (struct teller){.bank = &bank, .random_state = seed};
        KIT_CHECK_EN(pthread_create(&tellers[t].thread, NULL, make_transfers, &tellers[t]));
    }
    long done = 0;
    for (long t = 0; t < thread_count; t++) {
        KIT_CHECK_EN(pthread_join(tellers[t].thread, NULL));
        done += tellers[t].done;
    }

    long total = 0; /* every thread has been joined: no lock needed any more */
    for (long a = 0; a < bank.account_count; a++) {
        total += bank.accounts[a].balance;
        KIT_CHECK_EN(pthread_mutex_destroy(&bank.accounts[a].lock));
    }
    free(bank.accounts);
    free(tellers);

    long expected_total = OPENING_BALANCE * bank.account_count;
    long expected_done = thread_count * bank.transfers;
    const char *verdict = total == expected_total && done == expected_done ? "OK" : "BROKEN";
    printf("%s: transfers done %ld of %ld; money in the bank %ld (expected %ld)\n", verdict, done,
           expected_done, total, expected_total);
    return verdict[0] == 'O' ? 0 : 1;
}
