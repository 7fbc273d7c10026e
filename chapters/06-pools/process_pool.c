/**
 * @file process_pool.c
 * @brief A pre-forked process pool fed over pipes: chunked sums of squares, and compute(n).
 *
 * What to look for: like Python's `ProcessPoolExecutor` or `multiprocessing.Pool`, the pool
 * (lib/process_pool.c) forks its workers once, at the start, and then only sends them work.
 * Each worker has its own task pipe; all workers write their results to one shared result
 * pipe. Tasks and results are fixed-size records, smaller than PIPE_BUF, so a write of one
 * record is atomic: results from several workers never interleave. Each result says which
 * worker sent it, and the parent gives that worker the next task, so a fast worker simply gets
 * more tasks. The program runs the two examples of Python's multiprocessing and
 * concurrent.futures documentation that a pool is usually shown with:
 * 1. the sum of squares of range(1,000,000) in 4 chunks (`Pool.starmap` over chunks);
 * 2. compute(n) = the sum of squares of range(n) for 5M, 10M and 20M (`executor.map`). These
 *    totals are larger than 2^64: Python's integers grow, C's do not, so they are 128-bit here.
 * Every total is checked against the closed formula (n - 1) n (2n - 1) / 6. How fast the pool
 * is, against the parent alone and against independent processes, is pool_speed.c's lesson.
 *
 * Shutdown: the parent closes the task pipes, each worker reads end of file and exits, and the
 * parent reaps every one with waitpid. Ctrl-C, or SIGTERM to the parent alone, stops and reaps
 * the workers too (kit_own_children); a worker that dies (try `kill -KILL` on one during
 * `--numbers=1e9`) is named, the others are stopped and reaped, and the program exits 1. What
 * goes wrong otherwise: a worker that kept a copy of a sibling's task pipe would keep that
 * sibling from ever seeing end of file (a hang at shutdown); a parent that does not wait leaves
 * zombies (chapter 04); a parent killed outright leaves orphans, unless, as here, each worker
 * asks the kernel to stop it when its parent dies (PR_SET_PDEATHSIG).
 *
 * See also: thread_pool.c (the same with threads), pool_speed.c (what the pool buys),
 * task_size.c (what small tasks cost).
 *
 * Usage: process_pool [--workers=N] [--numbers=N]
 */
#include "kit.h"

#include "../../harness/sums/sums.h"
#include "lib/process_pool.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/wait.h>

static const char usage[] =
    "Usage: process_pool [options]\n"
    "A pre-forked process pool: chunked sums of squares, and compute(n).\n"
    "  -w, --workers=N   worker processes (default: one per CPU, like ProcessPoolExecutor)\n"
    "  -n, --numbers=N   example 1 sums the squares of range(N) in 4 chunks (default 1000000,\n"
    "                    at most 4e9)\n"
    "  -h, --help        show this help and exit\n";

/* Example 1: one sum cut into 4 chunks, like Pool.starmap(sum_of_squares, chunks). */
static bool run_starmap_example(struct process_pool *pool, uint64_t numbers)
{
    enum { CHUNKS = 4 };
    struct pp_task tasks[CHUNKS];
    u128 sums[CHUNKS], total = 0;
    int ran_on[CHUNKS];
    char text[40];
    pp_cut_into_chunks(numbers, CHUNKS, tasks);
    pp_run(pool, tasks, CHUNKS, sums, ran_on);

    printf("1. sum of squares of range(%llu) in %d chunks (Pool.starmap):\n",
           (unsigned long long)numbers, CHUNKS);
    for (int i = 0; i < CHUNKS; i++) {
        printf("   range(%llu, %llu) -> %s  (worker %d)\n", (unsigned long long)tasks[i].first,
               (unsigned long long)(tasks[i].first + tasks[i].count), u128_text(sums[i], text),
               ran_on[i]);
        total += sums[i];
    }
    bool right = total == sum_of_squares_formula(numbers);
    printf("   total %s  (%s the closed formula)\n", u128_text(total, text),
           right ? "matches" : "DOES NOT MATCH");
    return right;
}

/* Example 2: one task per input, results in input order, like executor.map(compute, inputs). */
static int run_compute_example(struct process_pool *pool)
{
    enum { INPUTS = 3 };
    const uint64_t inputs[INPUTS] = {5000000, 10000000, 20000000};
    struct pp_task tasks[INPUTS];
    u128 sums[INPUTS];
    int ran_on[INPUTS], right = 0;
    char text[40];
    for (int i = 0; i < INPUTS; i++)
        tasks[i] = (struct pp_task){.first = 0, .count = inputs[i], .id = (uint64_t)i};
    pp_run(pool, tasks, INPUTS, sums, ran_on);

    printf("2. compute(n) = sum of squares of range(n) (executor.map; over 2^64, so 128-bit):\n");
    for (int i = 0; i < INPUTS; i++) {
        bool matches = sums[i] == sum_of_squares_formula(inputs[i]);
        printf("   compute(%llu) = %s  (%s the closed formula)\n", (unsigned long long)inputs[i],
               u128_text(sums[i], text), matches ? "matches" : "DOES NOT MATCH");
        right += matches;
    }
    return right;
}

/* True when this process has no child left, zombie or running. */
static bool no_children_left(void)
{
    return waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"workers", required_argument, NULL, 'w'},
        {"numbers", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int workers = kit_cpu_count() < PP_MAX_WORKERS ? kit_cpu_count() : PP_MAX_WORKERS;
    long numbers = 1000000;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "w:n:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'w': workers = (int)kit_parse_long("--workers", optarg, 1, PP_MAX_WORKERS); break;
        case 'n': numbers = kit_parse_long("--numbers", optarg, 4, 4000000000L); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    kit_own_children(); /* Ctrl-C, SIGTERM, an error exit: the workers are stopped and reaped */

    struct process_pool pool;
    pp_start(&pool, workers);
    printf("pool: %d worker processes forked once, pids", workers);
    for (int i = 0; i < workers; i++)
        printf(" %d", (int)pool.pids[i]);
    printf("; records of %zu and %zu bytes over pipes\n", sizeof(struct pp_task),
           sizeof(struct pp_result));

    int checks_passed = run_starmap_example(&pool, (uint64_t)numbers);
    checks_passed += run_compute_example(&pool);

    int reaped = pp_stop(&pool);
    bool no_children = no_children_left();
    printf("pool shut down: %d of %d workers exited with status 0 and were reaped; %s\n", reaped,
           workers, no_children ? "no child processes left" : "CHILD PROCESSES LEFT");

    enum { CHECKS = 4 };
    if (checks_passed != CHECKS || reaped != workers || !no_children) {
        printf("FAILED: %d of %d totals right, %d of %d workers reaped cleanly, %s\n",
               checks_passed, CHECKS, reaped, workers,
               no_children ? "no children left" : "children left");
        return 1;
    }
    printf("OK: all %d totals match the closed formula, every worker reaped, no children left\n",
           CHECKS);
    return 0;
}
