/**
 * @file process_pool.h
 * @brief Chapter 06's process pool: workers forked once, fed fixed-size records over pipes.
 *
 * This is what Python's `concurrent.futures.ProcessPoolExecutor` and `multiprocessing.Pool` do
 * for you, written out in C (the code is in lib/process_pool.c). The pieces:
 *
 * - `pp_start(n)` forks n workers once. Each has its own task pipe; all write their results to
 *   one shared result pipe. Records are smaller than PIPE_BUF, so a write of one record is
 *   atomic: results from several workers never interleave.
 * - `pp_run()` hands out tasks, one per free worker, and collects every result by its id: a
 *   result names the worker that sent it, which then gets the next task (fast workers get more).
 *   It never waits without bound for a worker that has died: it looks every 100 ms, and if one
 *   is gone it names it, stops and reaps the others, and exits 1.
 * - `pp_stop()` closes every task pipe (each worker reads end of file and exits) and reaps them.
 *
 * The task is fixed: the sum of squares of range(first, first + count), which is chapter 06's
 * example, in 128 bits (Python's integers grow; C's do not). sum_of_squares() (the kit's
 * harness/sums/sums.h) is the one compiled function the workers run, and the one a sequential
 * baseline must call too, so that a speedup compares the same machine code.
 *
 * Ctrl-C and SIGTERM are the program's to handle: call kit_own_children() before pp_start().
 */
#ifndef PROCESS_POOL_H
#define PROCESS_POOL_H

#include "../../../harness/sums/sums.h" /* u128, sum_of_squares */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum { PP_MAX_WORKERS = 64 };

/** Parent to one worker: sum the squares of range(first, first + count). */
struct pp_task {
    uint64_t first, count;
    uint64_t id; /**< the task's place in the caller's list */
};

/** Any worker to the parent. No padding: every byte written to the pipe has been set. */
struct pp_result {
    u128 sum;
    uint32_t id;              /**< which task */
    uint32_t worker;          /**< who ran it: it is free for the next task */
    uint64_t cpu_nanoseconds; /**< CPU time the worker spent on it */
};

struct process_pool {
    int worker_count;
    pid_t pids[PP_MAX_WORKERS];
    int task_fds[PP_MAX_WORKERS]; /**< write end of each worker's own task pipe */
    int result_fd;                /**< read end of the result pipe all workers share */
    uint64_t cpu_nanoseconds;     /**< CPU time the workers reported, over every task so far */
};

/** Fork @p workers workers (1 to PP_MAX_WORKERS). */
void pp_start(struct process_pool *pool, int workers);

/** A worker's whole life in a pool started by pp_start_with(): read tasks from @p task_fd until
 *  end of file, write each result to @p result_fd in one write of at most PIPE_BUF bytes, then
 *  _exit(0). @p index is the worker's place in the pool; @p data is pp_start_with()'s. */
typedef void pp_worker_fn(int index, int task_fd, int result_fd, void *data);

/** Like pp_start(), but each worker runs @p run_worker(index, task_fd, result_fd, @p data)
 *  instead of the sum of squares: the same pipes, pids and pp_stop(), with records of the
 *  caller's own (chapter 11's executor sends variable-size tasks to workers this way). */
void pp_start_with(struct process_pool *pool, int workers, pp_worker_fn *run_worker, void *data);

/** Run @p count tasks; sums[id] gets each task's result and ran_on[id] the worker that ran it. */
void pp_run(struct process_pool *pool, const struct pp_task tasks[], size_t count, u128 sums[],
            int ran_on[]);

/** Shut down: every worker reads end of file and exits; reap them all. Returns how many exited
 *  with status 0. */
int pp_stop(struct process_pool *pool);

/** Cut range(numbers) into @p chunks tasks; the last one takes the remainder. */
void pp_cut_into_chunks(uint64_t numbers, size_t chunks, struct pp_task tasks[]);

/** CPU time this process has used so far, in nanoseconds (CLOCK_PROCESS_CPUTIME_ID). */
uint64_t process_cpu_nanoseconds(void);

#endif
