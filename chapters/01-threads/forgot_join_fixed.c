/**
 * @file forgot_join_fixed.c
 * @brief The fix for forgot_join.c: keep every thread id and join each thread before returning.
 *
 * What to look for: the same four workers, each waiting a moment before printing its line.
 * This time main keeps the pthread_t of every worker and calls pthread_join() on each one,
 * so it returns only after all of them have finished: every worker line is printed, then the
 * verdict counts 4 of 4.
 *
 * pthread_join() also frees what the system keeps for a finished thread (its stack and exit
 * status). Calling pthread_exit() at the end of main instead of returning would keep the
 * process alive until the workers end too, but main could then no longer check anything
 * after them: joining is the clearer habit.
 *
 * See also: forgot_join.c (the broken twin), concurrency_vs_parallelism.c (the next step).
 *
 * Usage: forgot_join_fixed [--workers=N] [--delay=SECONDS]
 */
#include "kit.h"

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

static const char usage[] =
    "Usage: forgot_join_fixed [options]\n"
    "Start workers, then join every one of them before main returns.\n"
    "  -w, --workers=N       how many workers (1 to 64, default 4)\n"
    "  -d, --delay=SECONDS   how long each worker works before printing (0.05 to 10,\n"
    "                        default 0.2)\n"
    "  -h, --help            show this help and exit\n";

static double work_seconds = 0.2;
static atomic_int workers_finished; /* bumped by each worker after its line is printed */

static void *worker(void *arg)
{
    long id = (long)(intptr_t)arg;
    kit_sleep(work_seconds); /* the work */
    printf("worker %ld: finished after %.2f s\n", id, work_seconds);
    atomic_fetch_add(&workers_finished, 1);
    return NULL;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"workers", required_argument, NULL, 'w'},
        {"delay", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long worker_count = 4;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "w:d:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'w': worker_count = kit_parse_long("--workers", optarg, 1, 64); break;
        case 'd': work_seconds = kit_parse_double("--delay", optarg, 0.05, 10); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    pthread_t threads[64]; /* FIX: keep every thread id... */
    for (long i = 0; i < worker_count; i++)
        KIT_CHECK_EN(pthread_create(&threads[i], NULL, worker, (void *)(intptr_t)(i + 1)));
    printf("main: started %ld workers; joining them\n", worker_count);

    for (long i = 0; i < worker_count; i++)
        KIT_CHECK_EN(pthread_join(threads[i], NULL)); /* ...and wait for each one */

    int finished = atomic_load(&workers_finished);
    if (finished != worker_count) {
        printf("FAILED: main joined %ld workers but only %d finished\n", worker_count, finished);
        return 1;
    }
    printf("OK: main joined all %ld workers; %d of %ld lines printed\n", worker_count, finished,
           worker_count);
    return 0;
}
