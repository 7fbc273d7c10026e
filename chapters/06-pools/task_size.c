/**
 * @file task_size.c
 * @brief What one task costs in a pool, and what cutting the work into a few large chunks buys.
 *
 * What to look for: guides to Python's concurrent.futures and multiprocessing warn to "avoid
 * very tiny tasks". Here the same work, the sum
 * of squares of range(N), goes through the thread pool of thread_pool.c twice:
 * - one number per task: N tasks, each submitted, queued, run and collected on its own;
 * - chunked: a few tasks (`Pool.starmap` over chunks), each summing a long run of numbers.
 * Both give the same total (checked against the closed formula). The difference in time, spread
 * over the extra tasks, is what one task costs beyond its work: the submit, the lock, the queue,
 * waking a worker, publishing the result. Squaring a number takes under a nanosecond; handling
 * a task costs a hundred times that or more, so chunking wins by a wide margin (`chunking buys`).
 * In a process pool each task also crosses two pipes, so a tiny task costs even more.
 *
 * What goes wrong with tiny tasks: the pool spends its time on bookkeeping, the workers fight
 * over the queue's lock, and adding workers does not help: it often makes things slower.
 *
 * See also: thread_pool.c (the pool itself), process_pool.c (chunks across processes).
 *
 * Usage: task_size [--numbers=N] [--chunks=N] [--workers=N] [--rounds=N]
 */
#include "kit.h"
#include "lib/thread_pool.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
    "Usage: task_size [options]\n"
    "The same sum of squares as one tiny task per number, then as a few large chunks.\n"
    "  -n, --numbers=N   sum the squares of range(N) (default 200000, at most 1000000)\n"
    "  -c, --chunks=N    tasks in the chunked run (default 8)\n"
    "  -w, --workers=N   worker threads in the pool (default 2)\n"
    "  -r, --rounds=N    runs of each; the best time counts (default 3)\n"
    "  -h, --help        show this help and exit\n";

struct chunk {
    const long *values; /* a slice of the list of numbers ... */
    long count;         /* ... this long */
};

/* A task: the sum of the squares of one slice. (The numbers are read from a list, as in the
 * Python example it mirrors, which also keeps the compiler from replacing the loop with a
 * formula.) */
static int sum_of_squares(void *arg, long *result)
{
    const struct chunk *chunk = arg;
    long total = 0;
    for (long i = 0; i < chunk->count; i++)
        total += chunk->values[i] * chunk->values[i];
    *result = total;
    return 0;
}

/* Cut the list of numbers into count slices; the last one takes the remainder. */
static void cut_into_chunks(const long values[], long numbers, long count, struct chunk chunks[])
{
    long size = numbers / count;
    for (long i = 0; i < count; i++) {
        chunks[i].values = values + i * size;
        chunks[i].count = i + 1 < count ? size : numbers - i * size;
    }
}

/* Submit one task per chunk, take every result, add them up. Returns the seconds it took. */
static double run_in_pool(struct tp_pool *pool, struct chunk chunks[], long count,
                          struct tp_future futures[], long *total)
{
    double start = kit_now();
    for (long i = 0; i < count; i++)
        tp_submit(pool, &futures[i], sum_of_squares, &chunks[i], NULL);
    *total = 0;
    for (long i = 0; i < count; i++) {
        long sum;
        if (tp_result(&futures[i], &sum) != 0)
            kit_die("task %ld failed", i);
        *total += sum;
    }
    return kit_seconds_since(start);
}

/* The work with no pool at all, in this thread: what the tasks would cost if tasks were free. */
static double best_alone(const long values[], long numbers, int rounds, long expected, bool *right)
{
    struct chunk everything = {.values = values, .count = numbers};
    double best = 0;
    for (int round = 0; round < rounds; round++) {
        long total;
        double start = kit_now();
        sum_of_squares(&everything, &total);
        double seconds = kit_seconds_since(start);
        *right = *right && total == expected;
        if (round == 0 || seconds < best)
            best = seconds;
    }
    return best;
}

/* The best of rounds runs: other programs on the machine only ever make a run slower. */
static double best_run(struct tp_pool *pool, struct chunk chunks[], long count,
                       struct tp_future futures[], int rounds, long expected, bool *right)
{
    double best = 0;
    for (int round = 0; round < rounds; round++) {
        long total;
        double seconds = run_in_pool(pool, chunks, count, futures, &total);
        *right = *right && total == expected;
        if (round == 0 || seconds < best)
            best = seconds;
    }
    return best;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"numbers", required_argument, NULL, 'n'}, {"chunks", required_argument, NULL, 'c'},
        {"workers", required_argument, NULL, 'w'}, {"rounds", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    long numbers = 200000, chunk_count = 8;
    int workers = 2, rounds = 3;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "n:c:w:r:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'n': numbers = kit_parse_long("--numbers", optarg, 1000, 1000000); break;
        case 'c': chunk_count = kit_parse_long("--chunks", optarg, 1, 1000000); break;
        case 'w': workers = (int)kit_parse_long("--workers", optarg, 1, 64); break;
        case 'r': rounds = (int)kit_parse_long("--rounds", optarg, 1, 100); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (chunk_count > numbers)
        kit_usage_error("--chunks=%ld: more chunks than the %ld numbers", chunk_count, numbers);

    /* The list 0, 1, ..., numbers - 1; and one chunk and one future per number for the tiny
     * tasks, allocated up front so that no allocation is timed. */
    long *values = malloc((size_t)numbers * sizeof values[0]);
    struct chunk *chunks = malloc((size_t)numbers * sizeof chunks[0]);
    struct tp_future *futures = malloc((size_t)numbers * sizeof futures[0]);
    if (values == NULL || chunks == NULL || futures == NULL)
        kit_die_errno("malloc for %ld tasks", numbers);
    for (long i = 0; i < numbers; i++)
        values[i] = i;
    const long expected = (numbers - 1) * numbers * (2 * numbers - 1) / 6; /* closed formula */
    bool right = true;
    struct tp_pool *pool = tp_create(workers);

    cut_into_chunks(values, numbers, numbers, chunks); /* one number each */
    double alone = best_alone(values, numbers, rounds, expected, &right);
    double tiny = best_run(pool, chunks, numbers, futures, rounds, expected, &right);
    cut_into_chunks(values, numbers, chunk_count, chunks);
    double chunked = best_run(pool, chunks, chunk_count, futures, rounds, expected, &right);
    tp_shutdown(pool);
    free(futures);
    free(chunks);
    free(values);

    double overhead_us = (tiny - chunked) / (double)(numbers - chunk_count) * 1e6;
    double gain = tiny / chunked;
    printf("sum of squares of range(%ld), best of %d runs each:\n", numbers, rounds);
    printf("  no pool, one loop:                %7d task  %9.3f ms\n", 1, alone * 1e3);
    printf("  pool of %2d, one number per task: %7ld tasks %9.3f ms\n", workers, numbers,
           tiny * 1e3);
    printf("  pool of %2d, chunked:             %7ld tasks %9.3f ms\n", workers, chunk_count,
           chunked * 1e3);
    printf("per-task overhead: %.3f us (submit, queue, wake-up, result; one square alone: "
           "%.4f us)\n",
           overhead_us, alone / (double)numbers * 1e6);
    char ratio[32];
    printf("chunking buys: %s\n", kit_ratio_text(gain, ratio));

    /* The verdict is about the totals; the times are measurements, printed as they came. */
    if (!right) {
        printf("FAILED: a total is not %ld (the closed formula)\n", expected);
        return 1;
    }
    printf("OK: both ways give %ld; %ld chunked tasks were %s than %ld tiny ones\n", expected,
           chunk_count, ratio, numbers);
    return 0;
}
