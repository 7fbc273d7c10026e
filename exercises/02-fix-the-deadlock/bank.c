/**
 * @file bank.c
 * @brief Exercise 02, fix the deadlock: threads move money between accounts and hang.
 *
 * What to look for: each account has its own mutex, so transfers between different accounts
 * run at the same time. A transfer locks the account it takes money from, then the account it
 * pays into. Thread 1 moves money from A to B while thread 2 moves money from B to A: thread 1
 * holds A and waits for B, thread 2 holds B and waits for A, and neither will ever let go. Run
 * it: it stops printing and never ends (Ctrl-C stops it). `gdb -p PID` then
 * `thread apply all bt` shows every thread waiting in pthread_mutex_lock, called from transfer().
 *
 * Your task: make every transfer happen, with no deadlock, with each account keeping its own
 * mutex (one lock for the whole bank would work, and would make the threads pointless). The
 * money in the bank must stay the same: a transfer takes from one account exactly what it pays
 * into the other. Keep the sched_yield() between the two locks: it stands for the work done
 * there and makes the deadlock show on every run. This stub hangs on purpose; that is the bug.
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

/* Move amount from one account to another. */
static void transfer(struct account *from, struct account *to, long amount)
{
    KIT_CHECK_EN(pthread_mutex_lock(&from->lock));
    sched_yield(); /* the work between the two locks: others may run here */
    KIT_CHECK_EN(pthread_mutex_lock(&to->lock));
    from->balance -= amount;
    to->balance += amount;
    KIT_CHECK_EN(pthread_mutex_unlock(&to->lock));
    KIT_CHECK_EN(pthread_mutex_unlock(&from->lock));
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
