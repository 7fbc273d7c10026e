/**
 * @file lock_granularity.c
 * @brief A lock taken for every item vs a local sum merged once: both exact, one far slower.
 *
 * What to look for: threads add up an array of numbers into one shared total, twice. First
 * each thread locks the total's mutex for every single number it adds. Then each thread adds
 * its share into a local variable that no one else sees, and locks the mutex once, at the
 * end, to merge it. Both totals are exact; the program times both and prints how many times
 * slower the fine-grained version is, e.g. `x58.9`.
 *
 * What is timed: the CPU time each thread spends in its loop, lock and merge included, added
 * up over the threads. CPU time, not elapsed time: on a busy machine a thread may wait a few
 * milliseconds for a CPU, which would swamp the fast version's fraction of a millisecond, and
 * on one core a thread's elapsed time would include the other threads' turns. Each version
 * runs 3 times and the fastest run counts.
 *
 * The pitfall: locking is correct but not free. Each lock and unlock is an atomic
 * instruction, and when threads on other cores want the same lock, its cache line travels
 * between cores and waiting threads go to sleep in the kernel. A lock inside the innermost
 * loop pays all that for an addition that takes a fraction of a nanosecond. Share less: work
 * on private data, and take the lock rarely, for as short a time as possible.
 *
 * See also: race_counter_fixed.c (a lock per increment, where correctness was the point),
 * atomic_counter.c (an atomic instead of a lock: cheaper, but still one per item).
 *
 * Usage: lock_granularity [-t N] [-n N]
 */
#include "kit.h"

#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char usage[] =
    "Usage: lock_granularity [options]\n"
    "Sum an array into a shared total: a lock per item vs a local sum merged once.\n"
    "  -t, --threads=N   threads sharing the work (default 2)\n"
    "  -n, --items=N     numbers in the array (default 1000000)\n"
    "  -h, --help        show this help and exit\n";

enum { BEST_OF = 3 }; /* runs of each version; the fastest counts, the others absorb noise */

/* The shared total and the lock that guards it. */
struct total {
    pthread_mutex_t lock;
    long long sum;
    pthread_barrier_t start_line; /* all threads start adding at once, competing for the lock */
};

/* One thread's share of the work: a slice of the array, and the CPU time the thread took. */
struct job {
    pthread_t thread;
    const int *items;
    long count;
    struct total *total;
    double seconds;
};

static void wait_at_start_line(struct total *total)
{
    kit_barrier_wait(&total->start_line);
}

/* Fine-grained: lock, add one number, unlock, for every number. */
static void *add_each_under_lock(void *arg)
{
    struct job *job = arg;
    wait_at_start_line(job->total);
    double start = kit_cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
    for (long i = 0; i < job->count; i++) {
        KIT_CHECK_EN(pthread_mutex_lock(&job->total->lock));
        job->total->sum += job->items[i];
        KIT_CHECK_EN(pthread_mutex_unlock(&job->total->lock));
    }
    job->seconds = kit_cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - start;
    return NULL;
}

/* Coarse-grained: add into a local variable, which needs no lock, then merge it once. */
static void *add_locally_then_merge(void *arg)
{
    struct job *job = arg;
    wait_at_start_line(job->total);
    double start = kit_cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
    long long local = 0;
    for (long i = 0; i < job->count; i++)
        local += job->items[i];
    KIT_CHECK_EN(pthread_mutex_lock(&job->total->lock));
    job->total->sum += local;
    KIT_CHECK_EN(pthread_mutex_unlock(&job->total->lock));
    job->seconds = kit_cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - start;
    return NULL;
}

/* Run one version BEST_OF times: the threads' CPU times added up, in seconds, for the fastest
 * run. *all_exact says whether every run's total was the expected one. */
static double time_version(void *(*worker)(void *), struct job *jobs, long thread_count,
                           struct total *total, long long expected, bool *all_exact)
{
    double best = 0;
    *all_exact = true;
    for (int run = 0; run < BEST_OF; run++) {
        total->sum = 0;
        for (long t = 0; t < thread_count; t++)
            KIT_CHECK_EN(pthread_create(&jobs[t].thread, NULL, worker, &jobs[t]));
        double seconds = 0;
        for (long t = 0; t < thread_count; t++) {
            KIT_CHECK_EN(pthread_join(jobs[t].thread, NULL));
            seconds += jobs[t].seconds; /* written by the thread, read after its join */
        }
        if (run == 0 || seconds < best)
            best = seconds;
        *all_exact = *all_exact && total->sum == expected;
    }
    return best;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"threads", required_argument, NULL, 't'},
        {"items", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long thread_count = 2, item_count = 1000000;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "t:n:h", options, NULL)) != -1;) {
        switch (opt) {
        case 't': thread_count = kit_parse_long("--threads", optarg, 1, 64); break;
        case 'n': item_count = kit_parse_long("--items", optarg, 1000, 100000000); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    int *items = malloc((size_t)item_count * sizeof *items);
    struct job *jobs = calloc((size_t)thread_count, sizeof *jobs);
    if (items == NULL || jobs == NULL)
        kit_die_errno("allocate %ld items and %ld jobs", item_count, thread_count);
    long long expected = 0;
    for (long i = 0; i < item_count; i++) {
        items[i] = (int)(i % 1000);
        expected += items[i];
    }

    struct total total;
    KIT_CHECK_EN(pthread_mutex_init(&total.lock, NULL));
    KIT_CHECK_EN(pthread_barrier_init(&total.start_line, NULL, (unsigned)thread_count));
    long share = item_count / thread_count; /* the last thread also takes the remainder */
    for (long t = 0; t < thread_count; t++) {
        long count = t == thread_count - 1 ? item_count - share * t : share;
        jobs[t] = (struct job){.items = items + share * t, .count = count, .total = &total};
    }

    printf("%ld threads sum %ld numbers into one shared total\n", thread_count, item_count);
    printf("(CPU time of the threads, added up; fastest of %d runs)\n", BEST_OF);
    bool fine_exact, coarse_exact;
    double fine =
        time_version(add_each_under_lock, jobs, thread_count, &total, expected, &fine_exact);
    printf("lock per item          : %8.2f ms  (%6.2f ns per item)  total %lld\n", fine * 1e3,
           fine * 1e9 / (double)item_count, total.sum);
    double coarse =
        time_version(add_locally_then_merge, jobs, thread_count, &total, expected, &coarse_exact);
    printf("local sum, merged once : %8.2f ms  (%6.2f ns per item)  total %lld\n", coarse * 1e3,
           coarse * 1e9 / (double)item_count, total.sum);

    KIT_CHECK_EN(pthread_barrier_destroy(&total.start_line));
    KIT_CHECK_EN(pthread_mutex_destroy(&total.lock));
    free(jobs);
    free(items);

    if (!fine_exact || !coarse_exact) {
        printf("FAILED: a total was not %lld\n", expected);
        return 1;
    }
    char ratio[32];
    printf("OK: both totals exact (%lld); a lock per item was %s than a local sum merged once\n",
           expected, kit_ratio_text(coarse / fine, ratio));
    return 0;
}
