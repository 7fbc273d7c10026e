/**
 * @file race_counter_fixed.c
 * @brief The shared counter of race_counter.c, with a mutex: no update is lost.
 *
 * What to look for: the same threads, the same counter, the same read, add, write, and the
 * same sleep in the middle that made chapter 02's race_counter.c lose half of its updates.
 * The only change is a pthread_mutex_t: each thread locks it before reading the counter and
 * unlocks it after writing. The window between read and write is still there, but no other
 * thread can step into it, so the total is exact on every run: `OK: expected X, got X`. This
 * is what Python's `with lock:` around `counter += 1` does.
 *
 * What goes wrong in the broken twin: without the lock, another thread reads the counter
 * between our read and our write, and one of the two updates is overwritten.
 *
 * See also: chapter 02's race_counter.c (diff the two files), atomic_counter.c (the same
 * total with no lock at all), lock_granularity.c (what a lock per increment costs).
 *
 * Usage: race_counter_fixed [-t N] [-i N]
 */
#include "kit.h"

#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
    "Usage: race_counter_fixed [options]\n"
    "Threads add one to a shared counter under a mutex: no update is lost.\n"
    "  -t, --threads=N      threads adding to the counter, 2 or more (default 2)\n"
    "  -i, --iterations=N   increments per thread (default 1000)\n"
    "  -h, --help           show this help and exit\n";

/* What every thread shares. The counter is still a plain long; the lock guards it. */
struct shared {
    pthread_mutex_t lock; /* held by whoever is between reading and writing the counter */
    long counter;
    long iterations; /* increments each thread makes */
};

/* The race window: how long a thread sleeps between reading the counter and writing it. */
static const double WINDOW_S = 20e-6;

/* One increment, done the way the CPU does it: read, add, write, with the same sched_yield()
 * and the same sleep as race_counter.c (that file says why they are there). The lock does not
 * make the window between the read and the write any shorter; it makes it private. Other
 * threads run while we sleep, but if they want the counter they wait in pthread_mutex_lock()
 * until we have written it back and unlocked. Locking and unlocking also tell the compiler and
 * the CPU that memory is shared here: the counter is really read after the lock and really
 * written before the unlock. */
static void add_one(struct shared *shared)
{
    sched_yield(); /* others may run between our rounds */
    KIT_CHECK_EN(pthread_mutex_lock(&shared->lock));
    long seen = shared->counter; /* read */
    kit_sleep(WINDOW_S);         /* the same window: others run, but cannot touch the counter */
    shared->counter = seen + 1;  /* write: nobody can have written meanwhile */
    KIT_CHECK_EN(pthread_mutex_unlock(&shared->lock));
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
    struct shared shared = {.counter = 0, .iterations = 1000};

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "t:i:h", options, NULL)) != -1;) {
        switch (opt) {
        case 't': thread_count = kit_parse_long("--threads", optarg, 2, 64); break;
        case 'i': shared.iterations = kit_parse_long("--iterations", optarg, 1, 1000000); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (thread_count * shared.iterations > 400000)
        kit_usage_error("--threads=%ld x --iterations=%ld is over the cap of 400000 increments "
                        "(each holds the lock about 0.1 ms): it would run for minutes",
                        thread_count, shared.iterations);

    printf("%ld threads x %ld increments of one shared counter, under a mutex\n", thread_count,
           shared.iterations);
    KIT_CHECK_EN(pthread_mutex_init(&shared.lock, NULL));
    pthread_t *threads = calloc((size_t)thread_count, sizeof *threads);
    if (threads == NULL)
        kit_die_errno("calloc %ld threads", thread_count);
    for (long t = 0; t < thread_count; t++)
        KIT_CHECK_EN(pthread_create(&threads[t], NULL, count_up, &shared));
    for (long t = 0; t < thread_count; t++)
        KIT_CHECK_EN(pthread_join(threads[t], NULL));
    free(threads);
    KIT_CHECK_EN(pthread_mutex_destroy(&shared.lock));

    long expected = thread_count * shared.iterations;
    long lost = expected - shared.counter; /* read after every join: no race any more */
    if (lost == 0) {
        printf("OK: expected %ld, got %ld\n", expected, shared.counter);
        return 0;
    }
    printf("FAILED: expected %ld, got %ld (%ld update%s lost)\n", expected, shared.counter, lost,
           lost == 1 ? "" : "s");
    return 1;
}
