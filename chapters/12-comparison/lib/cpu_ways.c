/**
 * @file cpu_ways.c
 * @brief cpu_ways.h: the four ways to compute, each on an earlier lesson's code.
 */
#include "cpu_ways.h"

#include "../../06-pools/lib/thread_pool.h"
#include "kit.h"

#include <stdlib.h>

enum { GIL_STEP = 100000 }; /* numbers per step under the GIL: about 50 us of work here */

void gil_job_init(struct gil_job *gil, double interval)
{
    sim_gil_init(&gil->lock, interval);
    atomic_init(&gil->inside, 0);
    atomic_init(&gil->overlapping, 0);
}

void gil_job_destroy(struct gil_job *gil)
{
    sim_gil_destroy(&gil->lock);
}

/* A task as plain C runs it: the whole sum in one call. */
static int sum_freely(void *arg, long *unused)
{
    struct sum_task *task = arg;
    task->sum = sum_of_squares(0, task->numbers);
    *unused = 0;
    return 0;
}

/* A task "running Python": the same sum in steps, each taken only while holding the simulated
 * GIL, which is handed over between two steps when a waiting thread asks (the eval loop). */
static int sum_under_gil(void *arg, long *unused)
{
    struct sum_task *task = arg;
    struct gil_job *gil = task->gil;
    u128 sum = 0;
    sim_gil_acquire(&gil->lock);
    for (uint64_t first = 0; first < task->numbers; first += GIL_STEP) {
        uint64_t left = task->numbers - first;
        if (atomic_fetch_add(&gil->inside, 1) > 0)
            atomic_fetch_add(&gil->overlapping, 1);
        sum += sum_of_squares(first, left < GIL_STEP ? left : GIL_STEP);
        atomic_fetch_sub(&gil->inside, 1);
        sim_gil_yield_if_asked(&gil->lock);
    }
    sim_gil_release(&gil->lock);
    task->sum = sum;
    *unused = 0;
    return 0;
}

/* The process pool's way: its workers run sum_of_squares() on each task sent to them. */
static bool compute_on_processes(struct sum_task tasks[], size_t count, int workers)
{
    struct pp_task *work = calloc(count, sizeof *work);
    u128 *sums = calloc(count, sizeof *sums);
    int *ran_on = calloc(count, sizeof *ran_on);
    if (work == NULL || sums == NULL || ran_on == NULL)
        kit_die_errno("calloc for %zu tasks", count);
    for (size_t i = 0; i < count; i++)
        work[i] = (struct pp_task){.first = 0, .count = tasks[i].numbers, .id = i};
    struct process_pool pool;
    pp_start(&pool, workers);
    pp_run(&pool, work, count, sums, ran_on);
    bool clean = pp_stop(&pool) == workers; /* every worker reaped */
    for (size_t i = 0; i < count; i++)
        tasks[i].sum = sums[i];
    free(ran_on);
    free(sums);
    free(work);
    return clean;
}

bool compute_run(enum compute_way way, struct sum_task tasks[], size_t count, int workers)
{
    if (way == COMPUTE_ON_PROCESSES)
        return compute_on_processes(tasks, count, workers);
    long *unused = calloc(count, sizeof *unused);
    if (unused == NULL)
        kit_die_errno("calloc for %zu tasks", count);
    if (way == COMPUTE_ONE_BY_ONE) {
        for (size_t i = 0; i < count; i++)
            sum_freely(&tasks[i], &unused[i]);
    } else {
        struct tp_pool *pool = tp_create(workers);
        if (tp_map(pool, way == COMPUTE_UNDER_GIL ? sum_under_gil : sum_freely, tasks,
                   sizeof tasks[0], count, unused) != 0)
            kit_die("tp_map: a sum task failed"); /* they return 0 */
        tp_shutdown(pool);
    }
    free(unused);
    return true;
}

/* The ceiling's copies: each runs the one-by-one way over its own row of tasks. */
struct copies {
    size_t count;
    struct sum_task *tasks; /* copies x count */
};

static void compute_one_copy(void *arg, int copy)
{
    struct copies *copies = arg;
    compute_run(COMPUTE_ONE_BY_ONE, copies->tasks + (size_t)copy * copies->count, copies->count, 1);
}

double compute_copies(int copies, size_t count, uint64_t numbers, long *wrong_sums)
{
    struct copies each = {.count = count,
                          .tasks = calloc((size_t)copies * count, sizeof(struct sum_task))};
    if (each.tasks == NULL)
        kit_die_errno("calloc for %d x %zu tasks", copies, count);
    for (size_t i = 0; i < (size_t)copies * count; i++)
        each.tasks[i].numbers = numbers;
    double seconds = kit_time_copies(copies, compute_one_copy, &each);
    u128 expected = sum_of_squares_formula(numbers);
    for (size_t i = 0; i < (size_t)copies * count; i++)
        *wrong_sums += each.tasks[i].sum != expected;
    free(each.tasks);
    return seconds;
}
