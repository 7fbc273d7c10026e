/**
 * @file thread_pool.c
 * @brief A thread pool with futures: submit and result, map in input order, as_completed, errors.
 *
 * What to look for: the pool (lib/thread_pool.c, read it next to this file) starts its worker
 * threads once and feeds them from a queue, like Python's `ThreadPoolExecutor`. The program walks
 * through what the executor offers and checks each point:
 * 1. `tp_submit()` hands back at once with a future; `tp_result()` waits for its value.
 * 2. `tp_map()` runs a function over a list and gives the results in input order, although
 *    here the later inputs finish first (the tasks sleep less for bigger inputs).
 * 3. `tp_next_completed()` gives futures in the order they finish (`as_completed`): tasks that
 *    sleep 100, 10, 70 and 40 ms come back as 1 3 2 0, each exactly once.
 * 4. A task that fails returns an error number; the caller gets it from `tp_result()`, as
 *    `future.result()` re-raises the task's exception in Python.
 * 5. What one task costs: many no-op tasks submitted, then every result taken, timed.
 * 6. `tp_shutdown()` joins every worker: afterwards /proc/self/task lists no pool-worker thread
 *    (lib/named_threads.c counts them).
 *
 * What goes wrong without a pool: a thread per task pays thread creation for every task, and a
 * program that never joins its workers leaves threads behind (chapter 01). Without futures there
 * is no place for a result or an error to go back to the caller.
 *
 * See also: process_pool.c (the same idea with processes), task_size.c (why tiny tasks are slow).
 *
 * Usage: thread_pool [--workers=N] [--noop-tasks=N]
 */
#define _GNU_SOURCE /* strerrorname_np */
#include "lib/thread_pool.h"
#include "kit.h"
#include "lib/named_threads.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: thread_pool [options]\n"
    "A thread pool with futures: submit, map, as_completed, errors, shutdown; and its cost.\n"
    "  -w, --workers=N      worker threads in the pool (default 4)\n"
    "  -n, --noop-tasks=N   no-op tasks timed in step 5 (default 20000)\n"
    "  -h, --help           show this help and exit\n";

/* ---- the tasks: each reads its input through arg and writes one long ---------------------- */

static int square(void *arg, long *result)
{
    long n = *(const long *)arg;
    *result = n * n;
    return 0;
}

/* Bigger inputs sleep less, so they finish first: map must still give input order. */
static int slow_square(void *arg, long *result)
{
    long n = *(const long *)arg;
    kit_sleep((10 - n) * 0.005);
    return square(arg, result);
}

/* Sleeps for the number of milliseconds it is given, then returns that number. */
static int nap(void *arg, long *result)
{
    long milliseconds = *(const long *)arg;
    kit_sleep(milliseconds / 1000.0);
    *result = milliseconds;
    return 0;
}

/* The whole square root of n; a negative n is an error, reported like errno reports one. */
static int whole_sqrt(void *arg, long *result)
{
    long n = *(const long *)arg;
    if (n < 0)
        return EDOM;
    long root = 0;
    while ((root + 1) * (root + 1) <= n)
        root++;
    *result = root;
    return 0;
}

static int noop(void *arg, long *result)
{
    (void)arg;
    *result = 0;
    return 0;
}

/* ---- the steps: each prints what happened and returns whether its check held -------------- */

static bool show_submit(struct tp_pool *pool)
{
    long input = 12, result;
    struct tp_future future;
    tp_submit(pool, &future, square, &input, NULL); /* returns at once */
    int error = tp_result(&future, &result);        /* waits until a worker has run it */
    printf("1. submit: square(%ld) -> future; result() = %ld\n", input, result);
    return error == 0 && result == input * input;
}

static bool show_map(struct tp_pool *pool)
{
    long inputs[] = {1, 2, 3, 4, 5, 6, 7, 8};
    enum { COUNT = sizeof inputs / sizeof inputs[0] };
    long results[COUNT];
    int error = tp_map(pool, slow_square, inputs, sizeof inputs[0], COUNT, results);

    bool in_order = error == 0;
    printf("2. map: square over 1..%d, later inputs finishing first:", COUNT);
    for (int i = 0; i < COUNT; i++) {
        printf(" %ld", results[i]);
        in_order = in_order && results[i] == inputs[i] * inputs[i];
    }
    printf("  (input order %s)\n", in_order ? "kept" : "LOST");
    return in_order;
}

static bool show_as_completed(struct tp_pool *pool, int workers)
{
    long sleep_ms[] = {100, 10, 70, 40}; /* wide gaps: a late wake-up cannot swap them */
    enum { COUNT = sizeof sleep_ms / sizeof sleep_ms[0] };
    struct tp_future futures[COUNT];
    struct tp_completions finished = {0};
    for (int i = 0; i < COUNT; i++)
        tp_submit(pool, &futures[i], nap, &sleep_ms[i], &finished);

    int times_seen[COUNT] = {0}, first_out = -1, handed_out = 0;
    printf("3. as_completed: tasks sleeping 100 10 70 40 ms finished as:");
    for (struct tp_future *done; (done = tp_next_completed(pool, &finished)) != NULL;) {
        int index = (int)(done - futures); /* which of our futures it is */
        times_seen[index]++;
        if (first_out < 0)
            first_out = index;
        handed_out++;
        printf(" %d", index);
    }
    bool once_each = handed_out == COUNT;
    for (int i = 0; i < COUNT; i++)
        once_each = once_each && times_seen[i] == 1;
    /* With one worker the tasks run one by one, so they also finish in submit order. */
    bool reordered = workers < 2 || first_out != 0;
    printf("  (%s; %s)\n", once_each ? "each exactly once" : "NOT each exactly once",
           workers < 2 ? "one worker: submit order" : "not submit order");
    return once_each && reordered;
}

static bool show_error(struct tp_pool *pool)
{
    long inputs[] = {16, -4, 81};
    enum { COUNT = sizeof inputs / sizeof inputs[0] };
    struct tp_future futures[COUNT];
    for (int i = 0; i < COUNT; i++)
        tp_submit(pool, &futures[i], whole_sqrt, &inputs[i], NULL);

    bool as_expected = true;
    printf("4. errors: whole_sqrt of 16, -4, 81:");
    for (int i = 0; i < COUNT; i++) {
        long root;
        int error = tp_result(&futures[i], &root);
        if (error != 0)
            printf(" [%s: %s]", strerrorname_np(error), strerror(error));
        else
            printf(" %ld", root);
        as_expected = as_expected && (inputs[i] < 0 ? error == EDOM : error == 0);
    }
    printf("\n");
    return as_expected;
}

/* Submit count no-op tasks, then take every result: the time per task is what the pool costs. */
static bool show_cost(struct tp_pool *pool, long count, int workers)
{
    struct tp_future *futures = malloc((size_t)count * sizeof futures[0]);
    if (futures == NULL)
        kit_die_errno("malloc %ld futures", count);
    double start = kit_now();
    for (long i = 0; i < count; i++)
        tp_submit(pool, &futures[i], noop, NULL, NULL);
    long errors = 0;
    for (long i = 0; i < count; i++) {
        long ignored;
        errors += tp_result(&futures[i], &ignored) != 0;
    }
    double seconds = kit_seconds_since(start);
    free(futures);

    printf("5. cost: %.2f us per task (submit + result of a no-op; %ld tasks, %d workers)\n",
           seconds / (double)count * 1e6, count, workers);
    printf("   Python's ThreadPoolExecutor, for comparison: python3 "
           "chapters/06-pools/twins/thread_pool_cost.py (make bench runs both)\n");
    return errors == 0;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"workers", required_argument, NULL, 'w'},
        {"noop-tasks", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int workers = 4;
    long noop_tasks = 20000;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "w:n:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'w': workers = (int)kit_parse_long("--workers", optarg, 1, 64); break;
        case 'n': noop_tasks = kit_parse_long("--noop-tasks", optarg, 1, 10000000); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    struct tp_pool *pool = tp_create(workers);
    printf("pool of %d worker threads started (%d named pool-worker-* in /proc/self/task)\n",
           workers, named_threads_count("pool-worker-"));
    bool submit_ok = show_submit(pool);
    bool map_ok = show_map(pool);
    bool completed_ok = show_as_completed(pool, workers);
    bool error_ok = show_error(pool);
    bool cost_ok = show_cost(pool, noop_tasks, workers);
    tp_shutdown(pool);
    int threads_left = named_threads_after_join("pool-worker-");
    printf("6. shutdown: every worker joined; pool-worker threads left: %d\n", threads_left);

    if (!(submit_ok && map_ok && completed_ok && error_ok && cost_ok && threads_left == 0)) {
        printf("FAILED: submit %s, map %s, as_completed %s, errors %s, no-op tasks %s, "
               "%d worker threads left after shutdown\n",
               submit_ok ? "ok" : "WRONG", map_ok ? "ok" : "WRONG", completed_ok ? "ok" : "WRONG",
               error_ok ? "ok" : "WRONG", cost_ok ? "ok" : "WRONG", threads_left);
        return 1;
    }
    printf("OK: submit, map in input order, as_completed each once, error passed back, "
           "0 worker threads left after shutdown\n");
    return 0;
}
