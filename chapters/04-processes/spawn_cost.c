/**
 * @file spawn_cost.c
 * @brief Measured: start and reap a process (fork + waitpid) against a thread (create + join).
 *
 * What to look for: the microseconds each spawn costs (the median of all), and the ratio. Every
 * process is created with fork() and leaves at once with `_exit(0)`; every thread is created
 * with pthread_create() and returns at once. fork() must build a new process: copy the page
 * tables, the file descriptor table, the signal state; then waitpid() tears it down. A thread
 * only needs a stack (glibc even reuses the last one) and a kernel task sharing everything.
 * This is the "processes are slower to create" row of the threads-versus-processes tables
 * that introductions to Python's threading and multiprocessing modules show, with this
 * machine's numbers. `--memory=N` makes the parent bigger: fork copies more page tables, a
 * thread does not care. The cost is per spawn: it is why chapter 06 starts a pool of workers
 * once and reuses it.
 *
 * See also: separate_memory.c (what the copy buys), chapter 06 (pools).
 *
 * Usage: spawn_cost [--spawns=N] [--memory=N]
 */
#include "kit.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
    "Usage: spawn_cost [options]\n"
    "Time fork + waitpid against pthread_create + pthread_join, one spawn at a time.\n"
    "  -n, --spawns=N   how many processes, and how many threads, 1 to 100000 (default 500)\n"
    "  -m, --memory=N   MiB the parent allocates and touches first, 0 to 4096 (default 0)\n"
    "  -h, --help       show this help and exit\n";

/* A few spawns before timing, so one-time costs (the first thread stack, page faults in
 * code run for the first time) are not counted. */
enum { WARM_UP = 20 };

/* Each spawn is timed on its own and the median is reported: on a busy machine, a moment when
 * another program had the CPU lands in a few samples and does not move the median. */
static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *samples, long count)
{
    qsort(samples, (size_t)count, sizeof *samples, compare_doubles);
    return count % 2 ? samples[count / 2] : (samples[count / 2 - 1] + samples[count / 2]) / 2;
}

/* One process: fork, the child leaves at once, the parent reaps it. */
static void spawn_process(void)
{
    pid_t child = fork();
    if (child == -1)
        kit_die_errno("fork");
    if (child == 0)
        _exit(0);
    if (waitpid(child, NULL, 0) == -1)
        kit_die_errno("waitpid %d", (int)child);
}

static void *empty_thread(void *arg)
{
    return arg;
}

/* One thread: create it, it returns at once, join it. */
static void spawn_thread(void)
{
    pthread_t thread;
    KIT_CHECK_EN(pthread_create(&thread, NULL, empty_thread, NULL));
    KIT_CHECK_EN(pthread_join(thread, NULL));
}

/* Time count spawns one by one into samples[]; return the total seconds. */
static double time_spawns(void (*spawn)(void), double *samples, long count)
{
    for (int i = 0; i < WARM_UP; i++)
        spawn();
    double total = 0;
    for (long i = 0; i < count; i++) {
        double start = kit_now();
        spawn();
        samples[i] = kit_seconds_since(start);
        total += samples[i];
    }
    return total;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"spawns", required_argument, NULL, 'n'},
        {"memory", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long spawns = 500, memory_mib = 0;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "n:m:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'n': spawns = kit_parse_long("--spawns", optarg, 1, 100000); break;
        case 'm': memory_mib = kit_parse_long("--memory", optarg, 0, 4096); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    /* A fork costs about 0.2 ms, plus about 0.03 ms per MiB the parent has touched (page tables
     * to copy): cap the total at about a minute. */
    if ((double)spawns * (0.2 + 0.03 * (double)memory_mib) > 60000)
        kit_usage_error("--spawns=%ld with --memory=%ld would fork for minutes: fewer spawns, "
                        "or less memory",
                        spawns, memory_mib);
    kit_own_children();

    /* Touch every page, so each one is mapped and fork has its page table entries to copy. */
    size_t memory_bytes = (size_t)memory_mib << 20;
    char *memory = memory_bytes > 0 ? malloc(memory_bytes) : NULL;
    if (memory_bytes > 0 && memory == NULL)
        kit_die_errno("malloc %ld MiB", memory_mib);
    /* One write per page, through a volatile pointer: a memset of memory that is freed unread
     * is something the optimiser may (and does) remove, and then no page would be mapped. */
    volatile char *pages = memory;
    for (size_t offset = 0; offset < memory_bytes; offset += 4096)
        pages[offset] = 1;

    double *samples = malloc((size_t)spawns * sizeof *samples);
    if (samples == NULL)
        kit_die_errno("malloc %ld samples", spawns);
    printf("spawning %ld processes, then %ld threads, one at a time (extra memory: %ld MiB)\n",
           spawns, spawns, memory_mib);
    fflush(stdout); /* every child is a copy: flush so none can inherit unwritten output */
    double process_total = time_spawns(spawn_process, samples, spawns);
    double process_us = median(samples, spawns) * 1e6;
    double thread_total = time_spawns(spawn_thread, samples, spawns);
    double thread_us = median(samples, spawns) * 1e6;
    free(samples);
    free(memory);

    printf("%-22s %8ld in %7.3f s   median %8.1f us each\n", "fork + waitpid", spawns,
           process_total, process_us);
    printf("%-22s %8ld in %7.3f s   median %8.1f us each\n", "pthread_create + join", spawns,
           thread_total, thread_us);
    char ratio[32];
    printf("OK: creating and reaping a process was %s than a thread (%.1f us against %.1f us)\n",
           kit_ratio_text(thread_us / process_us, ratio), process_us, thread_us);
    return 0;
}
