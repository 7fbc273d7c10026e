/**
 * @file counter.c
 * @brief Exercise 01, fix the race: threads add one to a shared counter and updates get lost.
 *
 * What to look for: every thread adds one to the same counter, --iterations times, in three
 * steps: read the counter, let other work happen, write the value read plus one. Another thread
 * can write the counter between our read and our write, and then our write puts back a stale
 * value: its update is lost. Run it and the last line says `BROKEN: expected X, got Y`.
 *
 * Your task: make the total exact on every run, at any thread count, on one CPU and on many,
 * with ThreadSanitizer reporting nothing. Keep the three steps and the sched_yield() between
 * them: it stands for the real work a real update does there, and it is what makes the race
 * show on every run instead of once a week. README.md says how the grader checks your fix.
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
    long counter;    /* the total every thread adds to */
    long iterations; /* increments each thread makes */
};

/* One increment: read, (other work), write. */
static void add_one(struct shared *shared)
{
    long seen = shared->counter; /* read */
    sched_yield();               /* the work between read and write: others may run here */
    shared->counter = seen + 1;  /* write */
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
    struct shared shared = {.counter = 0, .iterations = 5000};

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

    long expected = thread_count * shared.iterations;
    if (shared.counter != expected) {
        printf("BROKEN: expected %ld, got %ld (%ld updates lost)\n", expected, shared.counter,
               expected - shared.counter);
        return 1;
    }
    printf("OK: expected %ld, got %ld\n", expected, shared.counter);
    return 0;
}
