/**
 * @file cpu_ways.h
 * @brief Four ways to compute T sums of squares: one after another, threads, processes, and
 *        threads under a simulated GIL.
 *
 * perf_compare's CPU-bound half, side by side in lib/cpu_ways.c, each way a few lines on an
 * earlier lesson, and every way calling the one compiled sum_of_squares() of
 * harness/sums/sums.c, so that their times compare the same machine code:
 * - one after another: the tasks in a loop;
 * - threads: chapter 06's thread pool (`ThreadPoolExecutor.map`);
 * - processes: chapter 06's pre-forked process pool (`ProcessPoolExecutor.map`);
 * - threads under a simulated GIL: the same thread pool, but each task computes in steps, and
 *   takes each step only while holding chapter 07's simulated interpreter lock, handing it over
 *   between two steps when a waiting thread asks: what CPython's threads do.
 * The pools are started and stopped inside compute_run(), as a `with ...Executor()` block does.
 * compute_copies() times the ceiling the speedups are shown beside: K copies of the first way.
 */
#ifndef CPU_WAYS_H
#define CPU_WAYS_H

#include "../../../harness/sums/sums.h"
#include "../../06-pools/lib/process_pool.h"
#include "../../07-gil/lib/sim_gil.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/** The four ways, in the order perf_compare's table shows them. */
enum compute_way {
    COMPUTE_ONE_BY_ONE,
    COMPUTE_ON_THREADS,
    COMPUTE_ON_PROCESSES,
    COMPUTE_UNDER_GIL
};

/** The simulated GIL the tasks share, and a check from the outside that it holds. */
struct gil_job {
    struct sim_gil lock;     /**< chapter 07's lock */
    atomic_int inside;       /**< tasks inside a step right now */
    atomic_long overlapping; /**< steps begun while another was inside one: must stay 0 */
};

/** One task: the sum of squares of range(numbers), into sum. */
struct sum_task {
    uint64_t numbers;    /**< set by the caller */
    u128 sum;            /**< the result */
    struct gil_job *gil; /**< the lock, for COMPUTE_UNDER_GIL */
};

/** Set up @p gil with a switch interval of @p interval seconds (CPython's: 0.005). */
void gil_job_init(struct gil_job *gil, double interval);

/** Free what gil_job_init() set up. */
void gil_job_destroy(struct gil_job *gil);

/** Run the @p count tasks the way @p way says, on @p workers threads or processes. Returns
 *  false if a process pool's workers did not all exit with status 0. */
bool compute_run(enum compute_way way, struct sum_task tasks[], size_t count, int workers);

/** The ceiling of the CPU-bound speedups: @p copies copies of COMPUTE_ONE_BY_ONE over @p count
 *  tasks of range(@p numbers) each, run at once on their own threads (kit_time_copies()).
 *  Returns their wall time; adds to @p wrong_sums each sum that differs from the formula. */
double compute_copies(int copies, size_t count, uint64_t numbers, long *wrong_sums);

#endif /* CPU_WAYS_H */
