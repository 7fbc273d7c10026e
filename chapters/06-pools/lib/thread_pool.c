/**
 * @file thread_pool.c
 * @brief The thread pool of chapter 06: one lock, two condition variables, futures as queue nodes.
 *
 * One mutex guards everything shared: the task queue, the counts of sleepers, the completions
 * lists and each future's fields until it is done. Two condition variables say what a sleeper
 * waits for: `work_ready` (a worker waits for a task) and `task_done` (a caller waits for a
 * future). Two habits keep the cost per task low, well under a microsecond:
 * - no malloc per task: the caller's future is the queue node;
 * - signal only when someone sleeps: submit signals a worker only if one is idle, a worker
 *   broadcasts `task_done` only if a caller is waiting. A signal nobody needs costs time.
 *
 * The price of one `task_done` for all futures: a finished task wakes every waiting caller,
 * and each goes back to sleep unless its own future is done. With one or a few callers, as
 * here, that is cheap; with hundreds of waiting threads a condition variable per future wins.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "thread_pool.h"

#include "kit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

struct tp_pool {
    pthread_mutex_t lock;         /* guards every field below */
    pthread_cond_t work_ready;    /* a task was queued, or the pool is stopping */
    pthread_cond_t task_done;     /* some future has just become done */
    struct tp_future *queue_head; /* the oldest task no worker has taken yet ... */
    struct tp_future *queue_tail; /* ... and the newest */
    int idle_workers;             /* workers asleep on work_ready */
    int waiters;                  /* callers asleep on task_done */
    bool stopping;                /* tp_shutdown() was called: no more tasks come */
    int worker_count;
    pthread_t workers[]; /* worker_count threads */
};

/* Record what the task gave, mark the future done, tell whoever waits. Called with the lock. */
static void finish_locked(struct tp_pool *pool, struct tp_future *future, long result, int error)
{
    struct tp_completions *finished = future->notify;
    if (finished != NULL) { /* as_completed: queue it where tp_next_completed() looks */
        future->next = NULL;
        if (finished->tail == NULL)
            finished->head = future;
        else
            finished->tail->next = future;
        finished->tail = future;
    }
    future->result = result;
    future->error = error;
    /* The last touch of the future. A caller that sees done == true takes no lock (tp_result's
     * fast path) and may free the future at once: reading future->notify after this line was
     * a use-after-free that ThreadSanitizer caught. The release pairs with tp_result's acquire,
     * so whoever sees done also sees result and error. */
    atomic_store_explicit(&future->done, true, memory_order_release);
    if (pool->waiters > 0)
        KIT_CHECK_EN(pthread_cond_broadcast(&pool->task_done));
}

/* A worker: take the oldest task, run it without the lock, record its result, repeat. After
 * tp_shutdown() it keeps going until the queue is empty, then returns to be joined. */
static void *worker_main(void *arg)
{
    struct tp_pool *pool = arg;
    KIT_CHECK_EN(pthread_mutex_lock(&pool->lock));
    for (;;) {
        while (pool->queue_head == NULL && !pool->stopping) {
            pool->idle_workers++;
            KIT_CHECK_EN(pthread_cond_wait(&pool->work_ready, &pool->lock));
            pool->idle_workers--;
        }
        struct tp_future *task = pool->queue_head;
        if (task == NULL)
            break; /* stopping, and nothing left to do */
        pool->queue_head = task->next;
        if (pool->queue_head == NULL)
            pool->queue_tail = NULL;
        KIT_CHECK_EN(pthread_mutex_unlock(&pool->lock));

        long result = 0;
        int error = task->fn(task->arg, &result); /* the task runs with no lock held */

        /* The lock taken here to publish this result is kept to take the next task. */
        KIT_CHECK_EN(pthread_mutex_lock(&pool->lock));
        finish_locked(pool, task, result, error);
    }
    KIT_CHECK_EN(pthread_mutex_unlock(&pool->lock));
    return NULL;
}

struct tp_pool *tp_create(int workers)
{
    struct tp_pool *pool = malloc(sizeof *pool + (size_t)workers * sizeof pool->workers[0]);
    if (pool == NULL)
        kit_die_errno("malloc a pool of %d workers", workers);
    KIT_CHECK_EN(pthread_mutex_init(&pool->lock, NULL));
    KIT_CHECK_EN(pthread_cond_init(&pool->work_ready, NULL));
    KIT_CHECK_EN(pthread_cond_init(&pool->task_done, NULL));
    pool->queue_head = pool->queue_tail = NULL;
    pool->idle_workers = 0;
    pool->waiters = 0;
    pool->stopping = false;
    pool->worker_count = workers;
    for (int i = 0; i < workers; i++) {
        KIT_CHECK_EN(pthread_create(&pool->workers[i], NULL, worker_main, pool));
        /* A name shows in `top -H`, `ps -L`, gdb and /proc/PID/task/TID/comm. */
        char name[32]; /* the kernel keeps 15 characters: numbers repeat after 999 */
        snprintf(name, sizeof name, "pool-worker-%d", i % 1000);
        KIT_CHECK_EN(pthread_setname_np(pool->workers[i], name));
    }
    return pool;
}

void tp_submit(struct tp_pool *pool, struct tp_future *future, tp_task_fn *fn, void *arg,
               struct tp_completions *notify)
{
    future->fn = fn;
    future->arg = arg;
    future->pool = pool;
    future->notify = notify;
    future->next = NULL;
    future->result = 0;
    future->error = 0;
    atomic_init(&future->done, false);

    KIT_CHECK_EN(pthread_mutex_lock(&pool->lock));
    if (pool->queue_tail == NULL)
        pool->queue_head = future;
    else
        pool->queue_tail->next = future;
    pool->queue_tail = future;
    if (notify != NULL)
        notify->pending++;
    if (pool->idle_workers > 0) /* a busy worker looks at the queue anyway before it sleeps */
        KIT_CHECK_EN(pthread_cond_signal(&pool->work_ready));
    KIT_CHECK_EN(pthread_mutex_unlock(&pool->lock));
}

int tp_result(struct tp_future *future, long *result)
{
    /* Fast path: already done, no lock needed (the acquire pairs with finish's release). */
    if (!atomic_load_explicit(&future->done, memory_order_acquire)) {
        struct tp_pool *pool = future->pool;
        KIT_CHECK_EN(pthread_mutex_lock(&pool->lock));
        pool->waiters++;
        while (!atomic_load_explicit(&future->done, memory_order_relaxed))
            KIT_CHECK_EN(pthread_cond_wait(&pool->task_done, &pool->lock));
        pool->waiters--;
        KIT_CHECK_EN(pthread_mutex_unlock(&pool->lock));
    }
    *result = future->result;
    return future->error;
}

int tp_map(struct tp_pool *pool, tp_task_fn *fn, void *args, size_t arg_size, size_t count,
           long results[])
{
    struct tp_future *futures = malloc(count * sizeof futures[0]); /* one malloc per map */
    if (futures == NULL && count > 0)
        kit_die_errno("malloc %zu futures", count);
    for (size_t i = 0; i < count; i++)
        tp_submit(pool, &futures[i], fn, (char *)args + i * arg_size, NULL);

    /* Every task is queued before the first wait: they all run while we collect in order. */
    int first_error = 0;
    for (size_t i = 0; i < count; i++) {
        int error = tp_result(&futures[i], &results[i]);
        if (error != 0) {
            results[i] = 0;
            if (first_error == 0)
                first_error = error;
        }
    }
    free(futures);
    return first_error;
}

struct tp_future *tp_next_completed(struct tp_pool *pool, struct tp_completions *finished)
{
    KIT_CHECK_EN(pthread_mutex_lock(&pool->lock));
    struct tp_future *future = NULL;
    if (finished->pending > 0) {
        pool->waiters++;
        while (finished->head == NULL) /* ends: a pending future is queued or running */
            KIT_CHECK_EN(pthread_cond_wait(&pool->task_done, &pool->lock));
        pool->waiters--;
        future = finished->head;
        finished->head = future->next;
        if (finished->head == NULL)
            finished->tail = NULL;
        finished->pending--;
    }
    KIT_CHECK_EN(pthread_mutex_unlock(&pool->lock));
    return future;
}

void tp_shutdown(struct tp_pool *pool)
{
    KIT_CHECK_EN(pthread_mutex_lock(&pool->lock));
    pool->stopping = true;
    KIT_CHECK_EN(pthread_cond_broadcast(&pool->work_ready)); /* wake every idle worker */
    KIT_CHECK_EN(pthread_mutex_unlock(&pool->lock));
    for (int i = 0; i < pool->worker_count; i++)
        KIT_CHECK_EN(pthread_join(pool->workers[i], NULL));
    KIT_CHECK_EN(pthread_cond_destroy(&pool->task_done));
    KIT_CHECK_EN(pthread_cond_destroy(&pool->work_ready));
    KIT_CHECK_EN(pthread_mutex_destroy(&pool->lock));
    free(pool);
}
