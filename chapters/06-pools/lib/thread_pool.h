/**
 * @file thread_pool.h
 * @brief Chapter 06's thread pool: fixed workers, a task queue, futures, map, as_completed.
 *
 * This is what Python's `concurrent.futures.ThreadPoolExecutor` does for you, written out in C so
 * that every line can be read (the code is in lib/thread_pool.c). The pieces:
 *
 * - `tp_create(n)` starts n worker threads once; they sleep until there is work.
 * - `tp_submit()` queues one call and hands back at once. The `struct tp_future` you pass is
 *   the handle for the call that has not finished yet: `executor.submit(fn, x)`.
 * - `tp_result()` waits for one future and gives its result, or the error the task returned:
 *   `future.result()`, which re-raises the task's exception.
 * - `tp_map()` runs one function over many inputs and gives the results in input order.
 * - `tp_next_completed()` gives futures in the order they finish: `as_completed()`.
 * - `tp_shutdown()` lets the workers finish the queue, joins every one, frees the pool:
 *   leaving the `with ThreadPoolExecutor() as executor:` block.
 *
 * The caller owns the memory of each future (an array, a local variable) and the pool never
 * allocates per task: the future itself is the queue node. A future must stay where it is until
 * its result has been taken.
 */
#ifndef THREAD_POOL_H
#define THREAD_POOL_H

#include <stdatomic.h>
#include <stddef.h>

/** A task: reads its input through arg, writes its result, returns 0 or an error number
 *  (EDOM, EINVAL, ...) that the caller gets back from tp_result(). */
typedef int tp_task_fn(void *arg, long *result);

struct tp_pool;
struct tp_completions;

/** One submitted call. Fill it with tp_submit(); read it with tp_result(). */
struct tp_future {
    tp_task_fn *fn;                /* what to run ... */
    void *arg;                     /* ... and on what */
    struct tp_pool *pool;          /* whose lock and condition variable to wait on */
    struct tp_completions *notify; /* where to report completion, or NULL */
    struct tp_future *next;        /* link: in the task queue, then in a completions list */
    long result;                   /* written by the worker before done is set */
    int error;                     /* 0, or what the task returned */
    atomic_bool done;              /* set last, so a reader that sees it sees the result */
};

/** Futures that finished, in the order they finished: as_completed(). Start it empty,
 *  `struct tp_completions finished = {0};`, and pass it to tp_submit() for each future. */
struct tp_completions {
    struct tp_future *head, *tail; /* finished, not yet handed out */
    size_t pending;                /* submitted here and not yet handed out */
};

/** Start a pool of @p workers threads, named pool-worker-0, pool-worker-1, ... */
struct tp_pool *tp_create(int workers);

/** Queue fn(arg); the result goes to @p future. If @p notify is not NULL, the future is also
 *  put on that list when it finishes. Never blocks for long: the queue has no limit. */
void tp_submit(struct tp_pool *pool, struct tp_future *future, tp_task_fn *fn, void *arg,
               struct tp_completions *notify);

/** Wait until @p future is done; store its result; return the task's error (0 if none). */
int tp_result(struct tp_future *future, long *result);

/** Run fn on each of @p count inputs, @p arg_size bytes apart from @p args (like qsort's
 *  base and size), and store the results in input order. Returns 0 or the first error in
 *  input order; the result of a failed input is 0. */
int tp_map(struct tp_pool *pool, tp_task_fn *fn, void *args, size_t arg_size, size_t count,
           long results[]);

/** The next future of @p finished to complete, waiting if none has yet; NULL once every
 *  future submitted with this list has been handed out. Each comes out exactly once. */
struct tp_future *tp_next_completed(struct tp_pool *pool, struct tp_completions *finished);

/** Let the workers empty the queue, join every one of them, free the pool. */
void tp_shutdown(struct tp_pool *pool);

#endif /* THREAD_POOL_H */
