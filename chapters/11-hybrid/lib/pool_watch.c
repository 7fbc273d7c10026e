/**
 * @file pool_watch.c
 * @brief pool_watch.h: pidfd_open for each worker, and what to do when one ends too early.
 */
#include "pool_watch.h"

#include "kit.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_worker_ended(struct ev_loop *loop, int fd, unsigned events, void *data)
{
    (void)loop, (void)events;
    const struct pool_watch *watch = data;
    for (int i = 0; i < watch->pool->worker_count; i++)
        if (watch->pidfds[i] == fd)
            pool_watch_worker_died(watch, i);
}

void pool_watch_start(struct pool_watch *watch, struct ev_loop *loop,
                      const struct process_pool *pool)
{
    *watch = (struct pool_watch){.loop = loop, .pool = pool};
    for (int i = 0; i < pool->worker_count; i++) {
        /* A pid could be reused once its process is reaped; a pidfd names this process only. */
        watch->pidfds[i] = pidfd_open(pool->pids[i], 0);
        if (watch->pidfds[i] == -1)
            kit_die_errno("pidfd_open worker %d (pid %d)", i, (int)pool->pids[i]);
        if (ev_watch(loop, watch->pidfds[i], EV_READ, on_worker_ended, watch) == -1)
            kit_die_errno("ev_watch the pidfd of worker %d", i);
    }
}

void pool_watch_stop(struct pool_watch *watch)
{
    for (int i = 0; i < watch->pool->worker_count; i++) {
        ev_unwatch(watch->loop, watch->pidfds[i]);
        if (close(watch->pidfds[i]) == -1)
            kit_die_errno("close the pidfd of worker %d", i);
    }
}

/* SIGTERM to each worker still there but @p dead, then reap them: SIGKILL after a second to
 * any that has not ended (no wait without bound). Returns how many were reaped. */
static int stop_other_workers(const struct process_pool *pool, int dead)
{
    for (int i = 0; i < pool->worker_count; i++)
        if (i != dead)
            kill(pool->pids[i], SIGTERM);
    int reaped = 0;
    for (int i = 0; i < pool->worker_count; i++) {
        if (i == dead)
            continue;
        for (int waited_ms = 0;; waited_ms += 10) {
            pid_t ended = waitpid(pool->pids[i], NULL, WNOHANG);
            if (ended == pool->pids[i]) {
                reaped++;
                break;
            }
            if (ended == -1 && errno != EINTR)
                break; /* not our child any more: nothing to reap */
            if (waited_ms == 1000)
                kill(pool->pids[i], SIGKILL);
            kit_sleep(0.010);
        }
    }
    return reaped;
}

_Noreturn void pool_watch_worker_died(const struct pool_watch *watch, int index)
{
    const struct process_pool *pool = watch->pool;
    int status;
    /* It has ended, or is ending (it closed its pipe on the way out): this wait is short. */
    while (waitpid(pool->pids[index], &status, 0) == -1)
        if (errno != EINTR)
            kit_die_errno("waitpid worker %d (pid %d)", index, (int)pool->pids[index]);
    char how[64];
    printf("worker %d (pid %d) %s: stopping the pool\n", index, (int)pool->pids[index],
           kit_describe_status(status, how, sizeof how));
    int stopped = stop_other_workers(pool, index);
    printf("FAILED: a worker died; %d other worker%s stopped and reaped\n", stopped,
           stopped == 1 ? "" : "s");
    exit(1);
}
