/**
 * @file tasks_vs_threads.c
 * @brief 10,000 waiting tasks against 10,000 waiting threads: memory and start-up time, measured.
 *
 * What to look for: the same job twice in one run. Start N waiters, wait until all of them
 * are waiting, measure, then release them all and let them finish.
 * - Tasks: N state-machine tasks on one loop, each awaiting one event (asyncio.Event). A
 *   waiting task is its frame, a few dozen bytes, in the event's queue.
 * - Threads: N threads, each waiting on one condition variable. A waiting thread is a stack
 *   (8 MB reserved by default, `ulimit -s`, of which a page or two is touched), its thread
 *   control block and its TLS, plus a kernel stack and a task_struct the process never sees.
 * Figures, per waiter and in total: start-up time (from the first create to the last one
 * waiting), RSS growth (resident pages: the memory really used, the figure to compare),
 * virtual growth (address space reserved: what runs into vm.max_map_count or a 32-bit address
 * space, not RAM), and the kernel stacks the threads added (from /proc/meminfo, machine-wide,
 * so other programs move it too). The verdict: `OK: ... x70 less memory (RSS) and started
 * x50 faster`. Try --stack-kb=64: the virtual figure falls, the RSS figure hardly moves.
 *
 * Limits: N threads need N processes' worth of `ulimit -u`, 2 mappings each (vm.max_map_count)
 * and memory; a pthread_create that fails (EAGAIN) is explained, not a crash. Under a sanitizer
 * the default is 1,000 of each: ThreadSanitizer tracks a limited number of threads at once,
 * and both sanitizers add their own memory per thread and per allocation.
 *
 * Usage: tasks_vs_threads [-n N] [--stack-kb=N]
 */
#include "kit.h"
#include "lib/tasks.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static const char usage[] =
    "Usage: tasks_vs_threads [options]\n"
    "N waiting tasks against N waiting threads: memory and start-up time, measured.\n"
    "  -n, --count=N      waiters of each kind, 100 to 100000 (default 10000; 1000 under a\n"
    "                     sanitizer)\n"
    "      --stack-kb=N   each thread's stack in KB, 64 to 65536 (default: ulimit -s)\n"
    "  -h, --help         show this help and exit\n";

/* What one side cost: start-up seconds, RSS and virtual growth in bytes. */
struct cost {
    double startup;
    double rss, virt;
};

/* Virtual size and resident set of this process, in bytes (/proc/self/statm, in pages). */
static void memory_now(double *virt, double *rss)
{
    FILE *statm = fopen("/proc/self/statm", "r");
    if (statm == NULL)
        kit_die_errno("open /proc/self/statm");
    long size_pages, resident_pages;
    if (fscanf(statm, "%ld %ld", &size_pages, &resident_pages) != 2)
        kit_die("/proc/self/statm: unexpected contents");
    fclose(statm);
    double page = (double)sysconf(_SC_PAGESIZE);
    *virt = (double)size_pages * page;
    *rss = (double)resident_pages * page;
}

/* The machine's kernel stacks in bytes (/proc/meminfo KernelStack), or -1 if not there. */
static double kernel_stacks(void)
{
    FILE *meminfo = fopen("/proc/meminfo", "r");
    double kb = -1;
    if (meminfo == NULL)
        return -1;
    char line[128];
    while (fgets(line, sizeof line, meminfo) != NULL)
        if (sscanf(line, "KernelStack: %lf kB", &kb) == 1)
            break;
    fclose(meminfo);
    return kb < 0 ? -1 : kb * 1024;
}

/* ---- tasks: each awaits one event; the last to start measures, then sets it ----------------- */
struct waiter {
    struct task task;
    struct tasks_side *side;
};

struct tasks_side {
    struct task task; /* the main task */
    long count, started;
    double start, virt_before, rss_before;
    struct cost cost;
    struct task_event go;
    struct waiter *waiters;
    struct task **children;
};

static enum task_status waiter_step(struct task *task)
{
    struct tasks_side *side = ((struct waiter *)task)->side;
    enum { START, RELEASED };
    switch (task->resume_at) {
    case START:
        if (++side->started == side->count) { /* everyone else already waits: measure */
            side->cost.startup = kit_seconds_since(side->start);
            memory_now(&side->cost.virt, &side->cost.rss);
            side->cost.virt -= side->virt_before;
            side->cost.rss -= side->rss_before;
            task_event_set(&side->go);
        }
        return task_wait_event(task, &side->go, RELEASED); /* await go.wait() */
    case RELEASED: return TASK_DONE;
    }
    return task_bad_state(task);
}

static enum task_status tasks_main(struct task *task)
{
    struct tasks_side *side = (struct tasks_side *)task;
    enum { START, ALL_DONE };
    switch (task->resume_at) {
    case START:
        for (long i = 0; i < side->count; i++) {
            side->waiters[i].side = side;
            task_start(task->loop, &side->waiters[i].task, waiter_step); /* create_task */
            side->children[i] = &side->waiters[i].task;
        }
        return task_gather(task, side->children, (int)side->count, ALL_DONE);
    case ALL_DONE: return TASK_DONE;
    }
    return task_bad_state(task);
}

static struct cost measure_tasks(long count)
{
    struct tasks_side side = {.count = count};
    memory_now(&side.virt_before, &side.rss_before);
    side.start = kit_now();
    side.waiters = calloc((size_t)count, sizeof *side.waiters);
    side.children = calloc((size_t)count, sizeof *side.children);
    if (side.waiters == NULL || side.children == NULL)
        kit_die_errno("calloc %ld tasks", count);
    if (task_run(&side.task, tasks_main) == -1)
        kit_die_errno("task_run");
    free(side.waiters);
    free(side.children);
    return side.cost;
}

/* ---- threads: each waits on one condition variable until main says go ----------------------- */
struct threads_side {
    pthread_mutex_t lock; /* guards started and go */
    pthread_cond_t all_started, go_changed;
    long count, started;
    bool go;
};

static void *thread_waiter(void *arg)
{
    struct threads_side *side = arg;
    KIT_CHECK_EN(pthread_mutex_lock(&side->lock));
    if (++side->started == side->count)
        KIT_CHECK_EN(pthread_cond_signal(&side->all_started));
    while (!side->go)
        KIT_CHECK_EN(pthread_cond_wait(&side->go_changed, &side->lock));
    KIT_CHECK_EN(pthread_mutex_unlock(&side->lock));
    return NULL;
}

/* Release the @p created threads and join them. */
static void release_threads(struct threads_side *side, pthread_t *threads, long created)
{
    KIT_CHECK_EN(pthread_mutex_lock(&side->lock));
    side->go = true;
    KIT_CHECK_EN(pthread_cond_broadcast(&side->go_changed));
    KIT_CHECK_EN(pthread_mutex_unlock(&side->lock));
    for (long i = 0; i < created; i++)
        KIT_CHECK_EN(pthread_join(threads[i], NULL));
}

/* pthread_create failed with @p en after @p created threads: say which limit, then exit 1. */
static void explain_create_failure(int en, long created, long count)
{
    struct rlimit nproc;
    char threads_max[32] = "?", map_count[32] = "?";
    FILE *file = fopen("/proc/sys/kernel/threads-max", "r");
    if (file != NULL) {
        if (fscanf(file, "%31s", threads_max) != 1)
            strcpy(threads_max, "?");
        fclose(file);
    }
    if ((file = fopen("/proc/sys/vm/max_map_count", "r")) != NULL) {
        if (fscanf(file, "%31s", map_count) != 1)
            strcpy(map_count, "?");
        fclose(file);
    }
    printf("FAILED: pthread_create of thread %ld of %ld: %s. A thread needs a slot under "
           "`ulimit -u` (now %ld, counted for the whole user), under kernel.threads-max (%s), "
           "two mappings under vm.max_map_count (%s) and memory for its stack: try a smaller "
           "--count or --stack-kb\n",
           created + 1, count, strerror(en),
           getrlimit(RLIMIT_NPROC, &nproc) == 0 ? (long)nproc.rlim_cur : -1L, threads_max,
           map_count);
    exit(1);
}

static struct cost measure_threads(long count, size_t stack_bytes, double *kernel_stack_growth)
{
    struct threads_side side = {.count = count};
    KIT_CHECK_EN(pthread_mutex_init(&side.lock, NULL));
    KIT_CHECK_EN(pthread_cond_init(&side.all_started, NULL));
    KIT_CHECK_EN(pthread_cond_init(&side.go_changed, NULL));
    pthread_attr_t attr;
    KIT_CHECK_EN(pthread_attr_init(&attr));
    if (stack_bytes > 0)
        KIT_CHECK_EN(pthread_attr_setstacksize(&attr, stack_bytes));
    pthread_t *threads = calloc((size_t)count, sizeof *threads);
    if (threads == NULL)
        kit_die_errno("calloc %ld threads", count);

    struct cost cost;
    double virt_before, rss_before, kernel_before = kernel_stacks();
    memory_now(&virt_before, &rss_before);
    double start = kit_now();
    for (long i = 0; i < count; i++) {
        int en = pthread_create(&threads[i], &attr, thread_waiter, &side);
        if (en != 0) {
            release_threads(&side, threads, i);
            explain_create_failure(en, i, count);
        }
    }
    KIT_CHECK_EN(pthread_mutex_lock(&side.lock));
    while (side.started < count)
        KIT_CHECK_EN(pthread_cond_wait(&side.all_started, &side.lock));
    KIT_CHECK_EN(pthread_mutex_unlock(&side.lock));
    cost.startup = kit_seconds_since(start);
    memory_now(&cost.virt, &cost.rss);
    cost.virt -= virt_before;
    cost.rss -= rss_before;
    double kernel_after = kernel_stacks();
    *kernel_stack_growth = kernel_before < 0 || kernel_after < 0 ? -1 : kernel_after - kernel_before;

    release_threads(&side, threads, count);
    free(threads);
    KIT_CHECK_EN(pthread_attr_destroy(&attr));
    KIT_CHECK_EN(pthread_cond_destroy(&side.go_changed));
    KIT_CHECK_EN(pthread_cond_destroy(&side.all_started));
    KIT_CHECK_EN(pthread_mutex_destroy(&side.lock));
    return cost;
}

/* "1.2 MB", "8.4 KB", "96 B": a byte count for people. */
static const char *human(double bytes, char *text, size_t size)
{
    if (bytes >= 1024.0 * 1024 * 1024)
        snprintf(text, size, "%.1f GB", bytes / (1024.0 * 1024 * 1024));
    else if (bytes >= 1024 * 1024)
        snprintf(text, size, "%.1f MB", bytes / (1024.0 * 1024));
    else if (bytes >= 1024)
        snprintf(text, size, "%.1f KB", bytes / 1024.0);
    else
        snprintf(text, size, "%.0f B", bytes);
    return text;
}

static void print_cost(const char *what, long count, struct cost cost)
{
    char rss[32], rss_each[32], virt[32];
    printf("   start-up: %.1f ms (%.2f us per %s)\n", cost.startup * 1000,
           cost.startup * 1e6 / (double)count, what);
    printf("   RSS: +%s (%s per %s); virtual: +%s\n", human(cost.rss, rss, sizeof rss),
           human(cost.rss / (double)count, rss_each, sizeof rss_each), what,
           human(cost.virt, virt, sizeof virt));
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"count", required_argument, NULL, 'n'},
        {"stack-kb", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long count = SANITIZED ? 1000 : 10000;
    size_t stack_bytes = 0; /* the default: ulimit -s */

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "n:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'n': count = kit_parse_long("--count", optarg, 100, 100000); break;
        case 'k': stack_bytes = (size_t)kit_parse_long("--stack-kb", optarg, 64, 65536) * 1024; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (SANITIZED)
        printf("note: built with a sanitizer: %ld of each by default, and the sanitizer's own "
               "memory per thread and per allocation is in the figures\n",
               count);

    printf("%ld tasks, each awaiting one event (asyncio.Event) on one loop:\n", count);
    struct cost tasks = measure_tasks(count);
    print_cost("task", count, tasks);

    size_t default_stack = 0;
    pthread_attr_t attr;
    KIT_CHECK_EN(pthread_attr_init(&attr));
    KIT_CHECK_EN(pthread_attr_getstacksize(&attr, &default_stack));
    KIT_CHECK_EN(pthread_attr_destroy(&attr));
    printf("%ld threads, each waiting on one condition variable (stack %zu KB%s):\n", count,
           (stack_bytes ? stack_bytes : default_stack) / 1024,
           stack_bytes ? ", --stack-kb" : ", the default: ulimit -s");
    double kernel_growth;
    struct cost threads = measure_threads(count, stack_bytes, &kernel_growth);
    print_cost("thread", count, threads);
    if (kernel_growth >= 0) {
        char kernel[32];
        printf("   kernel stacks: +%s, machine-wide (not in RSS: the kernel's own memory)\n",
               human(kernel_growth, kernel, sizeof kernel));
    }

    /* Less than a page of growth shows as 0: count it as one page, so the ratio is a floor. */
    double page = (double)sysconf(_SC_PAGESIZE);
    double tasks_rss = tasks.rss > page ? tasks.rss : page;
    double memory_ratio = threads.rss / tasks_rss;
    double startup_ratio = threads.startup / tasks.startup;
    const char *verdict = memory_ratio > 1 && startup_ratio > 1 ? "OK" : "FAILED";
    printf("%s: %ld waiting tasks took x%.1f less memory (RSS) and started x%.1f faster than "
           "%ld threads\n",
           verdict, count, memory_ratio, startup_ratio, count);
    return verdict[0] == 'O' ? 0 : 1;
}
