/**
 * @file thread_results.c
 * @brief Get a value back from each thread through pthread_join, and combine the results.
 *
 * What to look for: the sum of the squares of 1..COUNT is split into one range per thread.
 * Each thread adds up its range, puts the partial sum in memory it allocates with malloc(),
 * and returns the pointer. pthread_join() hands that pointer to main, which adds the partial
 * sums, frees them, and checks the total against the same sum done in one loop.
 *
 * Why the heap: a thread's start routine returns one `void *`. A pointer to one of the
 * thread's local variables would dangle once the thread has ended, so the result must live
 * somewhere that outlives the thread. The other common way is to give each thread a struct
 * that main owns and let the thread write its result there: no malloc, no free, but main must
 * keep the struct alive and must not read it before pthread_join() returns. Both are sound;
 * the README compares them.
 *
 * See also: forgot_join.c (what is lost when main does not join at all).
 *
 * Usage: thread_results [--threads=N] [--count=N]
 */
#include "kit.h"

#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
    "Usage: thread_results [options]\n"
    "Sum the squares of 1..COUNT in several threads; each returns its part through pthread_join.\n"
    "  -t, --threads=N    how many threads (1 to 64, default 4)\n"
    "  -c, --count=N      sum the squares of 1..N (1 to 3000000, default 1000000;\n"
    "                     the limit keeps the total within 64 bits)\n"
    "  -h, --help         show this help and exit\n";

/* The numbers one thread adds up: first..last inclusive (empty when first > last). */
struct range {
    uint64_t first;
    uint64_t last;
};

static uint64_t sum_of_squares(struct range range)
{
    uint64_t sum = 0;
    for (uint64_t n = range.first; n <= range.last; n++)
        sum += n * n;
    return sum;
}

/* The start routine: compute, then return the result in heap memory that the joiner frees. */
static void *sum_range(void *arg)
{
    const struct range *range = arg;
    uint64_t *result = malloc(sizeof *result);
    if (result == NULL)
        kit_die_errno("malloc");
    *result = sum_of_squares(*range);
    return result;
}

/* Thread i of thread_count gets an equal share of 1..count; the first ones get one extra
 * number each when count does not divide evenly. */
static struct range share_of(long i, long thread_count, uint64_t count)
{
    uint64_t base = count / (uint64_t)thread_count;
    uint64_t extra = count % (uint64_t)thread_count;
    uint64_t index = (uint64_t)i;
    uint64_t first = 1 + index * base + (index < extra ? index : extra);
    uint64_t size = base + (index < extra ? 1 : 0);
    return (struct range){.first = first, .last = first + size - 1};
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"threads", required_argument, NULL, 't'},
        {"count", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long thread_count = 4;
    uint64_t count = 1000000;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "t:c:h", options, NULL)) != -1;) {
        switch (opt) {
        case 't': thread_count = kit_parse_long("--threads", optarg, 1, 64); break;
        case 'c': count = (uint64_t)kit_parse_long("--count", optarg, 1, 3000000); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    pthread_t threads[64];
    struct range ranges[64]; /* each thread reads its own; all outlive the threads */
    for (long i = 0; i < thread_count; i++) {
        ranges[i] = share_of(i, thread_count, count);
        KIT_CHECK_EN(pthread_create(&threads[i], NULL, sum_range, &ranges[i]));
    }

    uint64_t total = 0;
    for (long i = 0; i < thread_count; i++) {
        void *returned;
        KIT_CHECK_EN(pthread_join(threads[i], &returned)); /* what sum_range returned */
        uint64_t *partial = returned;
        printf("thread %ld: squares of %" PRIu64 "..%" PRIu64 " sum to %" PRIu64 "\n", i + 1,
               ranges[i].first, ranges[i].last, *partial);
        total += *partial;
        free(partial);
    }

    uint64_t expected = sum_of_squares((struct range){.first = 1, .last = count});
    printf("combined: %" PRIu64 "\nsequential: %" PRIu64 "\n", total, expected);
    if (total != expected) {
        printf("FAILED: expected %" PRIu64 ", got %" PRIu64 "\n", expected, total);
        return 1;
    }
    printf("OK: expected %" PRIu64 ", got %" PRIu64 " from %ld threads\n", expected, total,
           thread_count);
    return 0;
}
