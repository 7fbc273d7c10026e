/**
 * @file counter.c
 * @brief Exercise 01, solved: the shared counter's read-work-write holds a mutex throughout.
 *
 * What to look for: the one change from the exercise's stub is a mutex in struct shared, locked
 * before the read and unlocked after the write. The window between them is still there, but
 * no other thread can step into it, so the total is exact on every run and ThreadSanitizer sees
 * every access to the counter ordered by the lock. A lock around the read alone, or around the
 * write alone, is not enough: the stale value is still written back (the grader's tests keep a
 * copy of that mistake, tests/grade/broken/01-partial-lock, to prove they catch it).
 *
 * An atomic_long with atomic_fetch_add() is the other good answer when the update is one
 * addition; a mutex is the answer that still works when the work between read and write grows.
 *
 * See also: chapter 03's race_counter_fixed.c and atomic_counter.c.
 *
 * Usage: counter [-t N] [-i N]
 */
#include "kit.h"

#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
    "Usage: counter [options]\n"
    "Threads add one to a shared counter; the last line says whether any update was lost.\n"
    "  -t, --threads=N      threads adding to the counter (default 4)\n"
    "  -i, --iterations=N   increments per thread (default 5000)\n"
    "  -h, --help           show this help and exit\n";

/* What every thread shares. */
struct shared {
    pthread_mutex_t lock; /* held from reading the counter until writing it back */
    long counter;         /* the total every thread adds to; guarded by lock */
    long iterations;      /* increments each thread makes; read-only while threads run */
};

/* One increment: read, (other work), write, all under the lock. */
static void add_one(struct shared *shared)
{
    KIT_CHECK_EN(pthread_mutex_lock(&shared->lock));
    long seen = shared->counter; /* read */
    sched_yield();               /* the work between read and write: others may run here */
    shared->counter = seen + 1;  /* write */
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
    long thread_count = 4;
    struct shared shared = {.lock = PTHREAD_MUTEX_INITIALIZER, .counter = 0, .iterations = 5000};

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

    printf("%ld threads x %ld increments of one shared counter\n", thread_count, shared.iterations);
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
    if (shared.counter != expected) {
        printf("BROKEN: expected %ld, got %ld (%ld updates lost)\n", expected, shared.counter,
               expected - shared.counter);
        return 1;
    }
    printf("OK: expected %ld, got %ld\n", expected, shared.counter);
    return 0;
}
