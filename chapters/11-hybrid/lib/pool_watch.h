/**
 * @file pool_watch.h
 * @brief A worker's death as one more descriptor for the event loop: a pidfd per worker.
 *
 * Chapter 06's pp_run() blocks, so it can look at its workers every 100 ms while it waits. A
 * loop must not block, and needs no polling either: Linux gives a descriptor for a process,
 * pidfd_open(pid), which becomes readable when that process ends. The loop watches one per
 * worker like any socket; if a worker ends while the pool is in use (a crash, `kill -KILL`), the
 * callback names it and how it ended, stops and reaps the other workers, and exits 1: a task
 * that worker held will never come back, and no program of the kit waits for ever.
 *
 * The pool's normal shutdown calls pool_watch_stop() first: workers that exit then are expected.
 */
#ifndef POOL_WATCH_H
#define POOL_WATCH_H

#include "../../06-pools/lib/process_pool.h"
#include "../../08-event-loop/lib/event_loop.h"

/** The pidfds of one pool's workers, watched on one loop. */
struct pool_watch {
    struct ev_loop *loop;
    const struct process_pool *pool;
    int pidfds[PP_MAX_WORKERS];
};

/** Open a pidfd for each worker of @p pool and watch it on @p loop. Exits 1 on failure. */
void pool_watch_start(struct pool_watch *watch, struct ev_loop *loop,
                      const struct process_pool *pool);

/** Stop watching and close the pidfds (before shutting the pool down). */
void pool_watch_stop(struct pool_watch *watch);

/** Worker @p index has ended or is ending (its pidfd is readable, or a write to its task pipe
 *  failed with EPIPE): reap it, say how it ended, stop and reap the others, exit 1. */
_Noreturn void pool_watch_worker_died(const struct pool_watch *watch, int index);

#endif /* POOL_WATCH_H */
