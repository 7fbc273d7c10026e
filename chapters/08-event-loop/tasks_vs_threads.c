/**
 * @file tasks_vs_threads.c
 * @brief 10,000 waiting tasks against 10,000 waiting threads: memory and start-up time, measured.
 *
 * What to look for: the same job twice in one run. Start N waiters, wait until all of them
 * are waiting, measure, then release them all and let them finish.
 * - Tasks: N state-machine tasks on one loop, each awaiting one event (asyncio.Event). A
 *   waiting task is its frame (72 bytes here, printed) in the event's queue.
 * - Threads: N threads, each waiting on one condition variable. A waiting thread is a stack
 *   (8 MB reserved by default, `ulimit -s`, of which a page or two is touched), its thread
 *   control block and its TLS, plus a kernel stack and a task_struct the process never sees.
 * Figures, per waiter and in total (harness/proc-figures reads them from /proc): start-up time,
 * from the first create to the last one waiting; RSS growth, the memory really used and the
 * figure the verdict compares; virtual growth, address space reserved (not RAM); and the
 * kernel stacks the threads added, machine-wide. The verdict: `OK: ... x70 less memory (RSS)
 * and started x50 faster`. Try --stack-kb=64: the virtual figure falls, RSS hardly moves.
 *
 * Limits: N threads need N processes' worth of `ulimit -u`, 2 mappings each (vm.max_map_count)
 * and memory; a pthread_create that fails (EAGAIN) is explained, not a crash.
 *
 * See also: tasks_gather.c (tasks that await), blocking_pitfall.c (what a task must not do).
 *
 * Usage: tasks_vs_threads [-n N] [--stack-kb=N]
 */
#include "kit.h"

#include "../../harness/proc-figures/proc_figures.h"
#include "../../harness/proc-figures/sanitizer.h"
#include "lib/tasks.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Fewer waiters by default under a sanitizer: ThreadSanitizer tracks a limited number of
 * threads and keeps about 1 MB of its own for each; AddressSanitizer adds shadow memory. */
enum { DEFAULT_COUNT = SANITIZER_THREAD ? 200 : SANITIZER_ADDRESS ? 1000 : 10000 };

static const char usage[] =
    "Usage: tasks_vs_threads [options]\n"
    "N waiting tasks against N waiting threads: memory and start-up time, measured.\n"
    "  -n, --count=N      waiters of each kind, 100 to 100000 (default 10000; 1000 under\n"
    "                     AddressSanitizer, 200 under ThreadSanitizer)\n"
    "      --stack-kb=N   each thread's stack in KB, 64 to 65536 (default: ulimit -s)\n"
    "  -h, --help         show this help and exit\n";

/* ---- tasks: each awaits one event; the last to start measures, then sets it ----------------- */
struct waiter {
    struct task task;
    struct tasks_side *side;
};

struct tasks_side {
    struct task task; /* the main task */
    long count, started;
    struct cost start, cost; /* start: cost_start() before the first task */
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
            side->cost = cost_since(side->start);
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
    printf("%ld tasks (a frame of %zu B each), each awaiting one event (asyncio.Event) on one "
           "loop:\n",
           count, sizeof(struct waiter));
    struct tasks_side side = {.count = count, .start = cost_start()};
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

/* pthread_create failed with @p en after @p created threads: say which limits apply, exit 1. */
static void explain_create_failure(int en, long created, long count)
{
    struct rlimit nproc;
    printf("FAILED: pthread_create of thread %ld of %ld: %s. A thread needs a slot under "
           "`ulimit -u` (now %ld, counted for the whole user), under kernel.threads-max (%.0f), "
           "two mappings under vm.max_map_count (%.0f) and memory for its stack: try a smaller "
           "--count or --stack-kb\n",
           created + 1, count, strerror(en),
           getrlimit(RLIMIT_NPROC, &nproc) == 0 ? (long)nproc.rlim_cur : -1L,
           proc_number("/proc/sys/kernel/threads-max", ""),
           proc_number("/proc/sys/vm/max_map_count", ""));
    exit(1);
}

/* Threads with stacks of @p stack_bytes (0: the default, ulimit -s). */
static struct cost measure_threads(long count, size_t stack_bytes)
{
    struct threads_side side = {.lock = PTHREAD_MUTEX_INITIALIZER,
                                .all_started = PTHREAD_COND_INITIALIZER,
                                .go_changed = PTHREAD_COND_INITIALIZER,
                                .count = count};
    pthread_attr_t attr;
    size_t stack_size;
    KIT_CHECK_EN(pthread_attr_init(&attr));
    if (stack_bytes > 0)
        KIT_CHECK_EN(pthread_attr_setstacksize(&attr, stack_bytes));
    KIT_CHECK_EN(pthread_attr_getstacksize(&attr, &stack_size));
    printf("%ld threads, each waiting on one condition variable (stack %zu KB%s):\n", count,
           stack_size / 1024, stack_bytes ? ", --stack-kb" : ", the default: ulimit -s");
    pthread_t *threads = calloc((size_t)count, sizeof *threads);
    if (threads == NULL)
        kit_die_errno("calloc %ld threads", count);

    struct cost start = cost_start();
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
    struct cost cost = cost_since(start);

    release_threads(&side, threads, count);
    free(threads);
    KIT_CHECK_EN(pthread_attr_destroy(&attr));
    KIT_CHECK_EN(pthread_cond_destroy(&side.go_changed));
    KIT_CHECK_EN(pthread_cond_destroy(&side.all_started));
    KIT_CHECK_EN(pthread_mutex_destroy(&side.lock));
    return cost;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"count", required_argument, NULL, 'n'},
        {"stack-kb", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long count = DEFAULT_COUNT;
    size_t stack_bytes = 0; /* 0: the default, ulimit -s */

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "n:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'n': count = kit_parse_long("--count", optarg, 100, 100000); break;
        case 'k':
            stack_bytes = (size_t)kit_parse_long("--stack-kb", optarg, 64, 65536) * 1024;
            break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (SANITIZER_NAME[0] != '\0')
        printf("note: built with %s: %d of each by default, and the sanitizer's own memory "
               "per thread and per allocation is in the figures\n",
               SANITIZER_NAME, DEFAULT_COUNT);

    struct cost tasks = measure_tasks(count);
    cost_print(tasks, count, "task");
    struct cost threads = measure_threads(count, stack_bytes);
    cost_print(threads, count, "thread");
    char kernel[16];
    if (threads.memory.kernel_stacks >= 0)
        printf("   kernel stacks: +%s, machine-wide (not in RSS: the kernel's own memory)\n",
               bytes_text(threads.memory.kernel_stacks, kernel));

    /* Less than a page of growth shows as 0: count it as one page, so the ratio is a floor. */
    double page = (double)sysconf(_SC_PAGESIZE);
    double memory_ratio = threads.memory.rss / (tasks.memory.rss > page ? tasks.memory.rss : page);
    double startup_ratio = threads.seconds / tasks.seconds;
    bool ok = memory_ratio > 1 && startup_ratio > 1;
    printf("%s: %ld waiting tasks took x%.1f less memory (RSS) and started x%.1f faster than "
           "%ld threads\n",
           ok ? "OK" : "FAILED", count, memory_ratio, startup_ratio, count);
    return ok ? 0 : 1;
}
