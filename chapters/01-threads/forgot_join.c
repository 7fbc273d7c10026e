/**
 * @file forgot_join.c
 * @brief BROKEN on purpose: main returns without joining its threads, and their work is lost.
 *
 * @deliberate_race
 *
 * What to look for: main starts four workers and returns at once. Each worker would wait a
 * moment (its "work") and then print a line, but no worker line ever appears. Returning from
 * main() is the same as calling exit(): the whole process ends, and every thread in it dies
 * wherever it is, in the middle of its work, with no warning and no error.
 *
 * Just before returning, main counts how many workers had finished (an atomic counter each
 * worker bumps after printing) and says so in its verdict line: zero. The workers sleep before
 * they print and main does not wait at all, so the loss shows on every run.
 *
 * Python hides this: at exit it waits for every non-daemon thread. In C nothing waits unless
 * you join. pthread_detach() does not help either: a detached thread dies at exit just the same.
 *
 * See also: forgot_join_fixed.c (the same program with the joins).
 *
 * Usage: forgot_join [--workers=N] [--delay=SECONDS]
 */
#include "kit.h"

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

static const char usage[] =
    "Usage: forgot_join [options]\n"
    "Start workers, then return from main without joining them (the bug on show).\n"
    "  -w, --workers=N       how many workers (1 to 64, default 4)\n"
    "  -d, --delay=SECONDS   how long each worker works before printing (0.05 to 10,\n"
    "                        default 0.2)\n"
    "  -h, --help            show this help and exit\n";

static double work_seconds = 0.2;
static atomic_int workers_finished; /* bumped by each worker after its line is printed */

static void *worker(void *arg)
{
    long id = (long)(intptr_t)arg;
    kit_sleep(work_seconds); /* the work; main will be long gone before it ends */
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

    for (long id = 1; id <= worker_count; id++) {
        pthread_t thread;
        KIT_CHECK_EN(pthread_create(&thread, NULL, worker, (void *)(intptr_t)id));
        /* BUG: the thread id is dropped and nobody will ever join this thread. */
    }
    printf("main: started %ld workers; returning without joining them\n", worker_count);

    int finished = atomic_load(&workers_finished);
    if (finished == worker_count) {
        printf("note: all %d workers finished before main returned, so nothing was lost "
               "this time; the bug is still there (a busy machine delayed main?)\n",
               finished);
        return 0;
    }
    printf("BROKEN: main is returning with %d of %ld workers finished; "
           "their lines will never print\n",
           finished, worker_count);
    return 0; /* exit(): every thread still sleeping dies here */
}
