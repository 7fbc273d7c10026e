/**
 * @file pool_speed.c
 * @brief What the process pool buys: the same sum by the parent alone, by independent
 *        processes, and by the pool, timed side by side in one run.
 *
 * What to look for: three ways to sum the squares of range(N), cut into chunks, and all three
 * run the very same compiled function, sum_of_squares() in harness/sums/sums.c, so that the
 * ratios measure how the work is shared out, not where the compiler put a loop:
 * 1. the parent alone, chunk after chunk: the baseline;
 * 2. independent processes: W children forked beforehand, each sums its share of the chunks
 *    and sends back one number; nothing else is shared. This is the best that W processes can
 *    do on this machine, and it is often under xW: two CPUs of a virtual machine may be two
 *    hyperthreads of one core, slower side by side;
 * 3. the pool of W workers (lib/process_pool.c), handing out chunks one by one over pipes.
 * The pool should come close to the independent processes: its overhead is one record each
 * way per chunk. The program prints both speedups, the pool's share of the independent
 * processes' speedup, and how many CPUs the pool kept busy (its workers' CPU time over the
 * wall-clock time). Beside them stands the ceiling: K copies of the parent's whole sum run at
 * once (K = workers or CPUs, the fewer), which on K idle CPUs take as long as one; a busy
 * machine holds the ceiling down, and every speedup with it. The three ways and the copies
 * take turns in each round, and each figure is the best of --rounds rounds: other programs can
 * only slow a round down. Under `taskset -c 0` every speedup is about x1.
 *
 * See also: process_pool.c (the pool at work), task_size.c (when chunks get too small).
 *
 * Usage: pool_speed [--workers=N] [--numbers=N] [--chunks=N] [--rounds=N]
 */
#include "kit.h"

#include "../../harness/sums/sums.h"
#include "lib/process_pool.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
    "Usage: pool_speed [options]\n"
    "Sum the squares of range(N) alone, in independent processes and in a pool; compare.\n"
    "  -w, --workers=N   processes, in the pool and independent (default: one per CPU)\n"
    "  -n, --numbers=N   sum the squares of range(N), 1000 to 4e9 (default 1e8)\n"
    "  -c, --chunks=N    chunks the sum is cut into, 1 to 1024 (default 8)\n"
    "  -r, --rounds=N    rounds, 1 to 20; the best time of each way counts (default 3);\n"
    "                    numbers x rounds is 2e10 at most (about 15 s per way here)\n"
    "  -h, --help        show this help and exit\n";

enum { MAX_CHUNKS = 1024 };

/* A figure of one way: its best time, its total, and the CPUs its processes kept busy. */
struct timing {
    double seconds, cpus_in_use;
    u128 total;
};

/* The whole sum, chunk after chunk: the parent's work, and each of the ceiling's copies'. */
static u128 sum_chunks(const struct pp_task tasks[], size_t chunks)
{
    u128 total = 0;
    for (size_t i = 0; i < chunks; i++)
        total += sum_of_squares(tasks[i].first, tasks[i].count);
    return total;
}

static struct timing time_alone(const struct pp_task tasks[], size_t chunks)
{
    double start = kit_now();
    struct timing t = {.total = sum_chunks(tasks, chunks)};
    t.seconds = kit_seconds_since(start);
    t.cpus_in_use = 1;
    return t;
}

/* The ceiling's copies: each sums every chunk into its own total. */
struct copies {
    const struct pp_task *tasks;
    size_t chunks;
    u128 totals[PP_MAX_WORKERS];
};

static void sum_all_chunks(void *arg, int copy)
{
    struct copies *copies = arg;
    copies->totals[copy] = sum_chunks(copies->tasks, copies->chunks);
}

/* W children, each waiting for the start pipe to close; child w sums chunks w, w + W, ... and
 * writes its total and CPU time. Timed from the start signal to the last total. */
static struct timing time_independent(const struct pp_task tasks[], size_t chunks, int workers)
{
    int start_pipe[2], result_pipe[2];
    if (pipe(start_pipe) == -1 || pipe(result_pipe) == -1)
        kit_die_errno("pipe");
    for (int w = 0; w < workers; w++) {
        pid_t child = fork();
        if (child == -1)
            kit_die_errno("fork independent process %d", w);
        if (child == 0) {
            char go;
            if (close(start_pipe[1]) == -1 || read(start_pipe[0], &go, 1) == -1)
                kit_child_die_errno("wait for the start");
            uint64_t cpu_before = process_cpu_nanoseconds();
            struct pp_result result = {.sum = 0, .worker = (uint32_t)w};
            for (size_t i = (size_t)w; i < chunks; i += (size_t)workers)
                result.sum += sum_of_squares(tasks[i].first, tasks[i].count);
            result.cpu_nanoseconds = process_cpu_nanoseconds() - cpu_before;
            if (kit_write_full(result_pipe[1], &result, sizeof result) == -1)
                kit_child_die_errno("write a total");
            _exit(0);
        }
    }
    if (close(start_pipe[0]) == -1 || close(result_pipe[1]) == -1)
        kit_die_errno("close");
    struct timing t = {.total = 0};
    uint64_t cpu_nanoseconds = 0;
    double start = kit_now();
    if (close(start_pipe[1]) == -1) /* every child reads end of file: go */
        kit_die_errno("close the start pipe");
    for (int w = 0; w < workers; w++) {
        struct pp_result result;
        if (kit_read_full(result_pipe[0], &result, sizeof result) != 1)
            kit_die("independent processes: a total is missing (a child died?)");
        t.total += result.sum;
        cpu_nanoseconds += result.cpu_nanoseconds;
    }
    t.seconds = kit_seconds_since(start);
    t.cpus_in_use = (double)cpu_nanoseconds / 1e9 / t.seconds;
    if (close(result_pipe[0]) == -1)
        kit_die_errno("close");
    for (int w = 0; w < workers; w++) {
        int status;
        while (wait(&status) == -1)
            if (errno != EINTR)
                kit_die_errno("wait");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            kit_die("an independent process failed");
    }
    return t;
}

static struct timing time_pool(struct process_pool *pool, const struct pp_task tasks[],
                               size_t chunks)
{
    static u128 sums[MAX_CHUNKS];
    static int ran_on[MAX_CHUNKS];
    struct timing t = {.total = 0};
    uint64_t cpu_before = pool->cpu_nanoseconds;
    double start = kit_now();
    pp_run(pool, tasks, chunks, sums, ran_on);
    t.seconds = kit_seconds_since(start);
    t.cpus_in_use = (double)(pool->cpu_nanoseconds - cpu_before) / 1e9 / t.seconds;
    for (size_t i = 0; i < chunks; i++)
        t.total += sums[i];
    return t;
}

static void keep_best(struct timing *best, struct timing round, int round_number)
{
    if (round_number == 0 || round.seconds < best->seconds)
        *best = round;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"workers", required_argument, NULL, 'w'}, {"numbers", required_argument, NULL, 'n'},
        {"chunks", required_argument, NULL, 'c'},  {"rounds", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    int workers = kit_cpu_count() < PP_MAX_WORKERS ? kit_cpu_count() : PP_MAX_WORKERS;
    long numbers = 100000000, chunks = 8, rounds = 3;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "w:n:c:r:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'w': workers = (int)kit_parse_long("--workers", optarg, 1, PP_MAX_WORKERS); break;
        case 'n': numbers = kit_parse_long("--numbers", optarg, 1000, 4000000000L); break;
        case 'c': chunks = kit_parse_long("--chunks", optarg, 1, MAX_CHUNKS); break;
        case 'r': rounds = kit_parse_long("--rounds", optarg, 1, 20); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if ((double)numbers * (double)rounds > 2e10)
        kit_usage_error("--numbers=%ld x --rounds=%ld is over the cap of 2e10: minutes per way",
                        numbers, rounds);
    kit_own_children(); /* Ctrl-C, SIGTERM, an error exit: every child stopped and reaped */

    static struct pp_task tasks[MAX_CHUNKS];
    pp_cut_into_chunks((uint64_t)numbers, (size_t)chunks, tasks);
    struct process_pool pool;
    pp_start(&pool, workers);
    printf("sum of squares of range(%ld) in %ld chunks, %d process%s, %d CPU(s), best of %ld\n",
           numbers, chunks, workers, workers == 1 ? "" : "es", kit_cpu_count(), rounds);

    struct timing alone = {0}, independent = {0}, pooled = {0}, together = {0};
    int copy_count = kit_cpu_count() < workers ? kit_cpu_count() : workers;
    static struct copies copies;
    copies = (struct copies){.tasks = tasks, .chunks = (size_t)chunks};
    bool copies_right = true;
    for (int round = 0; round < rounds; round++) { /* the ways and the copies side by side */
        keep_best(&alone, time_alone(tasks, (size_t)chunks), round);
        keep_best(&independent, time_independent(tasks, (size_t)chunks, workers), round);
        keep_best(&pooled, time_pool(&pool, tasks, (size_t)chunks), round);
        struct timing copies_round = {kit_time_copies(copy_count, sum_all_chunks, &copies), 0, 0};
        keep_best(&together, copies_round, round);
        for (int i = 0; i < copy_count; i++)
            copies_right = copies_right && copies.totals[i] == alone.total;
    }
    int reaped = pp_stop(&pool);

    double independent_speedup = alone.seconds / independent.seconds;
    double pool_speedup = alone.seconds / pooled.seconds;
    printf("   the parent alone                 %8.3f s\n", alone.seconds);
    char ratio[32];
    printf("   %2d independent processes         %8.3f s   speedup: %s\n", workers,
           independent.seconds, kit_ratio_text(independent_speedup, ratio));
    printf("   pool of %2d workers               %8.3f s   speedup: %s\n", workers, pooled.seconds,
           kit_ratio_text(pool_speedup, ratio));
    printf("   the pool reached %.2f of the independent processes' speedup\n",
           pool_speedup / independent_speedup);
    printf("   CPUs in use: %.2f by the independent processes, %.2f by the pool "
           "(CPU time over wall-clock time)\n",
           independent.cpus_in_use, pooled.cpus_in_use);
    double ceiling = kit_print_ceiling(copy_count, alone.seconds, together.seconds);
    char contender[48];
    snprintf(contender, sizeof contender, "%d independent processes", workers);
    kit_note_above_ceiling(contender, independent_speedup, ceiling);
    snprintf(contender, sizeof contender, "the pool of %d workers", workers);
    kit_note_above_ceiling(contender, pool_speedup, ceiling);

    u128 expected = sum_of_squares_formula((uint64_t)numbers);
    bool right = alone.total == expected && independent.total == expected &&
                 pooled.total == expected && copies_right;
    if (!right || reaped != workers) {
        printf("FAILED: totals %s the formula, %d of %d workers reaped cleanly\n",
               right ? "match" : "DO NOT MATCH", reaped, workers);
        return 1;
    }
    printf("OK: the three ways give the formula's total; every worker reaped\n");
    return 0;
}
