/**
 * @file many_threads.c
 * @brief Start N named threads that each sleep: the whole run takes about one sleep, not N.
 *
 * What to look for: every worker names itself (`worker-1`, `worker-2`, ...), says it is going
 * to sleep, sleeps, and says it woke up. All the "sleeping" lines come first: the threads wait
 * at the same time, so the elapsed time is close to ONE sleep, while doing the same sleeps one
 * after another would take N of them. The program measures both and prints the ratio.
 *
 * Sleeping stands for any wait (a disk, a network reply, a timer). Waiting threads use no
 * CPU, so their waits overlap even on a machine with a single core: this is concurrency,
 * not parallelism (concurrency_vs_parallelism.c shows the difference).
 *
 * The name each thread gives itself with pthread_setname_np() is the kernel's name for the
 * thread: `ps -L`, `top -H` and gdb show it, like the name of a Python threading.Thread.
 *
 * See also: thread_results.c (getting a value back from each thread).
 *
 * Usage: many_threads [--threads=N] [--sleep=SECONDS]
 */
#define _GNU_SOURCE /* pthread_setname_np() */
#include "kit.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
    "Usage: many_threads [options]\n"
    "Start N named threads that each sleep, and time them all.\n"
    "  -t, --threads=N         how many threads (2 to 1000, default 5)\n"
    "  -s, --sleep=SECONDS     how long each thread sleeps (0.01 to 60, default 0.2)\n"
    "  -h, --help              show this help and exit\n";

/* What one worker needs: its name and how long to sleep. Each worker gets its own struct,
 * which main keeps alive until the worker has been joined. */
struct worker {
    pthread_t thread;
    char name[20]; /* "worker-1000" at most: the kernel takes up to 15 characters */
    double sleep_seconds;
};

static void *sleepy_worker(void *arg)
{
    const struct worker *self = arg;
    /* The thread names itself, so the name is in place before its first line is printed. */
    KIT_CHECK_EN(pthread_setname_np(pthread_self(), self->name));
    printf("%s: sleeping %.2f s\n", self->name, self->sleep_seconds);
    kit_sleep(self->sleep_seconds);
    printf("%s: woke up\n", self->name);
    return NULL;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"threads", required_argument, NULL, 't'},
        {"sleep", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long thread_count = 5;
    double sleep_seconds = 0.2;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "t:s:h", options, NULL)) != -1;) {
        switch (opt) {
        case 't': thread_count = kit_parse_long("--threads", optarg, 2, 1000); break;
        case 's': sleep_seconds = kit_parse_double("--sleep", optarg, 0.01, 60); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    struct worker *workers = calloc((size_t)thread_count, sizeof *workers);
    if (workers == NULL)
        kit_die_errno("calloc %ld workers", thread_count);

    double start = kit_now();
    for (long i = 0; i < thread_count; i++) {
        snprintf(workers[i].name, sizeof workers[i].name, "worker-%d", (int)i + 1);
        workers[i].sleep_seconds = sleep_seconds;
        KIT_CHECK_EN(pthread_create(&workers[i].thread, NULL, sleepy_worker, &workers[i]));
    }
    for (long i = 0; i < thread_count; i++)
        KIT_CHECK_EN(pthread_join(workers[i].thread, NULL));
    double elapsed = kit_seconds_since(start);
    free(workers);

    double in_sequence = (double)thread_count * sleep_seconds;
    printf("elapsed: %.3f s for %ld threads sleeping %.3f s each\n", elapsed, thread_count,
           sleep_seconds);
    printf("one after another: %ld x %.3f s = %.3f s\n", thread_count, sleep_seconds, in_sequence);

    /* Overlapping sleeps end near one sleep; sleeps in a row end near N. Judge by which end is
     * nearer: the midpoint between them leaves a wide margin for a busy machine. */
    double midpoint = (sleep_seconds + in_sequence) / 2;
    if (elapsed > midpoint) {
        printf("FAILED: the sleeps did not overlap: %.3f s elapsed, %.3f s in sequence (x%.2f)\n",
               elapsed, in_sequence, in_sequence / elapsed);
        return 1;
    }
    printf("OK: %ld sleeps overlapped: %.3f s elapsed instead of %.3f s (x%.2f faster)\n",
           thread_count, elapsed, in_sequence, in_sequence / elapsed);
    return 0;
}
