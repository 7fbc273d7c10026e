/**
 * @file executor.h
 * @brief `await loop.run_in_executor(pool, work, data)` for data of any size: chapter 06's
 *        process pool, fed and read by chapter 08's event loop, which it never blocks.
 *
 * run_in_executor.c shows the mechanism bare: a 24-byte task record written into a worker's
 * pipe, the result pipe watched with ev_watch(). fetch_and_process needs three things more, and
 * this is them, in one place:
 * - An input of any size: a whole HTTP body, megabytes. A pipe holds 64 KiB; a blocking write of
 *   more would wait until the worker has read the rest, and the loop would wait with it. So the
 *   parent's end of each task pipe is non-blocking, the executor writes what fits, and the loop
 *   watches the pipe for EV_WRITE and writes more as the worker reads: exactly as it would
 *   send a request on a socket. The worker reads the whole input, then computes.
 * - More tasks than workers: one task per worker at a time (as chapter 06's pp_run); the others
 *   wait in a first-in, first-out queue, and a worker whose result has arrived gets the next.
 * - A worker that dies: each one's pidfd is watched (pool_watch.h).
 *
 * The calls:
 * - executor_start(ex, loop, workers, work, output_size) forks the workers (pp_start_with());
 *   each runs work(input, size, output) on every input it is sent, in its own process, and
 *   sends back output_size bytes (at most EX_OUTPUT_MAX, so that one result is one atomic write
 *   into the shared result pipe). Start it before opening any socket: each worker is a fork,
 *   with a copy of every descriptor open at that moment, and a connection a worker holds a copy
 *   of stays open after the parent closes it.
 * - executor_submit(ex, job, input, size, done, data) never blocks. The job is the caller's
 *   (no allocation per task), and so is the input, which must stay valid until done() runs.
 * - When the worker's result arrives, the loop calls done(data, output, info): the future is
 *   done. Results of different tasks arrive in the order they finish.
 * - executor_shutdown() closes the task pipes; every worker reads end of file, exits, and is
 *   reaped.
 */
#ifndef EXECUTOR_H
#define EXECUTOR_H

#include "../../06-pools/lib/process_pool.h"
#include "../../08-event-loop/lib/event_loop.h"
#include "pool_watch.h"

#include <stddef.h>
#include <stdint.h>

enum { EX_OUTPUT_MAX = 1024 }; /**< the most a result may hold (one atomic pipe write) */

/** Runs in a worker process: compute from @p input (@p size bytes) into @p output, which has
 *  room for the executor's output_size bytes (zeroed beforehand). */
typedef void ex_work_fn(const void *input, size_t size, void *output);

/** How a task went, for its done callback. */
struct ex_info {
    int worker;         /**< which worker ran it */
    double cpu_seconds; /**< the CPU time that worker spent on it */
};

/** Runs in the loop when the task's result has arrived: @p output holds output_size bytes. */
typedef void ex_done_fn(void *data, const void *output, const struct ex_info *info);

/** What a worker reads first: how many bytes of input follow, and the task's number. */
struct ex_task_header {
    uint64_t size, id;
};

/** One call of the work function, owned by the caller until its done callback has run. */
struct ex_job {
    const void *input;
    size_t size;
    ex_done_fn *done;
    void *data;
    struct ex_job *next;          /**< in the queue of jobs waiting for a worker */
    struct ex_task_header header; /**< sent to the worker ahead of the input */
    size_t sent;                  /**< bytes of header + input written to its pipe so far */
};

/** The executor: the pool, the loop it reports to, who runs what, who waits. */
struct executor {
    struct process_pool pool; /**< chapter 06's: pids, task pipes, the shared result pipe */
    struct ev_loop *loop;
    ex_work_fn *work;
    size_t output_size;
    struct ex_job *running[PP_MAX_WORKERS]; /**< the job each worker holds, NULL when free */
    struct ex_job *queue_first, *queue_last;
    uint64_t next_id;
    struct pool_watch watch;
};

/** Fork @p workers workers (1 to PP_MAX_WORKERS) that run @p work, and watch their result pipe
 *  and their pidfds on @p loop. Call kit_own_children() first. Exits 1 on failure. */
void executor_start(struct executor *ex, struct ev_loop *loop, int workers, ex_work_fn *work,
                    size_t output_size);

/** Run work(@p input, @p size) in a worker and call done(@p data, output, info) from the loop
 *  when its result is in. Never blocks; @p job and @p input must live until done has run.
 *  Returns the worker that got it, or -1 when every worker is busy and it waits in line. */
int executor_submit(struct executor *ex, struct ex_job *job, const void *input, size_t size,
                    ex_done_fn *done, void *data);

/** How many workers hold a task right now (sending it, computing, or sending the result). */
int executor_busy_workers(const struct executor *ex);

/** Stop watching; close the task pipes; reap every worker. Returns how many exited with status
 *  0. Call it when no task is pending. */
int executor_shutdown(struct executor *ex);

#endif /* EXECUTOR_H */
