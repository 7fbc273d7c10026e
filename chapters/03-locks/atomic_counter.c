/**
 * @file atomic_counter.c
 * @brief The shared counter again, with a C11 atomic instead of a lock: exact, and no mutex.
 *
 * What to look for: the threads of race_counter_fixed.c, with a pause between rounds, but the counter is an `atomic_long` and each increment is one call,
 * atomic_fetch_add(). The CPU does the read, the add and the write as one indivisible step
 * (on x86, a single `lock xadd` instruction), so there is no window for another thread to
 * step into, and nothing to lock. The total is exact: `OK: expected X, got X`.
 *
 * Atomics fit one variable changed in one step. As soon as an update spans two variables, or
 * a check and an act (check_then_act.c in chapter 02), you need a lock again, or a
 * compare-and-swap loop (semaphore_limit.c has one).
 *
 * What goes wrong in the broken twin: chapter 02's race_counter.c reads and writes a plain
 * long in two steps, and loses updates between them.
 *
 * See also: race_counter_fixed.c (the mutex version), lock_granularity.c.
 *
 * Usage: atomic_counter [-t N] [-i N]
 */
#include "kit.h"

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage[] = "Usage: atomic_counter [options]\n"
                            "Threads add one to a shared atomic counter: no lock, no update lost.\n"
                            "  -t, --threads=N      threads adding to the counter (default 2)\n"
                            "  -i, --iterations=N   increments per thread (default 5000)\n"
                            "  -h, --help           show this help and exit\n";

/* What every thread shares. Every access to an atomic_long is atomic. */
struct shared {
    atomic_long counter;
    long iterations; /* increments each thread makes, read-only once threads run */
};

/* The pause between rounds: it lets other threads run, so that they take turns all the time,
 * even on one core. A sleep, not sched_yield(): a yield hands the CPU to any busy process for
 * the rest of its time slice, milliseconds per round on a loaded machine, while a sleeper wakes
 * on time. A microsecond asked is about 60 us slept (the kernel's timer slack). */
static const double PAUSE_S = 1e-6;

/* One increment: read, add and write in one indivisible step. Threads take turns between
 * rounds; there is just no moment inside an increment where another thread could step in. */
static void add_one(struct shared *shared)
{
    kit_sleep(PAUSE_S);
    atomic_fetch_add(&shared->counter, 1);
}

static void *count_up(void *arg)
{
    struct shared *shared = arg;
    for (long i = 0; i < shared->iterations; i++)
        add_one(shared);
    return NULL;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"threads", required_argument, NULL, 't'},
        {"iterations", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long thread_count = 2;
    struct shared shared = {.iterations = 5000};
    atomic_init(&shared.counter, 0);

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "t:i:h", options, NULL)) != -1;) {
        switch (opt) {
        case 't': thread_count = kit_parse_long("--threads", optarg, 1, 64); break;
        case 'i': shared.iterations = kit_parse_long("--iterations", optarg, 1, 1000000); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (thread_count * shared.iterations > 20000000)
        kit_usage_error("--threads=%ld x --iterations=%ld is over the cap of 2e7 increments (each "
                        "pauses for a wake-up): it would run for minutes",
                        thread_count, shared.iterations);

    printf("%ld threads x %ld increments of one shared atomic counter\n", thread_count,
           shared.iterations);
    pthread_t *threads = calloc((size_t)thread_count, sizeof *threads);
    if (threads == NULL)
        kit_die_errno("calloc %ld threads", thread_count);
    for (long t = 0; t < thread_count; t++)
        KIT_CHECK_EN(pthread_create(&threads[t], NULL, count_up, &shared));
    for (long t = 0; t < thread_count; t++)
        KIT_CHECK_EN(pthread_join(threads[t], NULL));
    free(threads);

    long expected = thread_count * shared.iterations;
    long got = atomic_load(&shared.counter);
    if (got == expected) {
        printf("OK: expected %ld, got %ld\n", expected, got);
        return 0;
    }
    printf("FAILED: expected %ld, got %ld (%ld update%s lost)\n", expected, got, expected - got,
           expected - got == 1 ? "" : "s");
    return 1;
}
