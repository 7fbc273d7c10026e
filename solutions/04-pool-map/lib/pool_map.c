/**
 * @file pool_map.c
 * @brief Exercise 04, solved: an ordered map on worker threads that take the next free input.
 *
 * What to look for: the workers share one index, the next input nobody has taken. A worker
 * takes it under the mutex, runs fn with no lock held (so the calls really run in parallel),
 * and writes the result into results[i], the input's own slot: that alone keeps input order,
 * whatever order the calls finish in. Errors are kept per input, so that after every worker
 * has been joined the caller gets the first failing input's error in input order, not
 * whichever failed first in time. pool_map() joins every worker it started, also when
 * starting one fails part way.
 *
 * What goes wrong otherwise (the grader keeps each mistake, see tests/grade/broken/): appending
 * results as calls finish gives completion order; keeping only "an error" loses which input
 * failed, or drops it; returning without joining leaves threads (and their stacks) behind.
 *
 * See also: chapter 06's tp_map() in lib/thread_pool.c (the same map on a long-lived pool).
 */
#include "pool_map.h"

#include "kit.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct map_job {
    map_fn *fn;
    char *args; /* char *: inputs are arg_size bytes apart */
    size_t arg_size, count;
    long *results; /* results[i]: written only by the worker that took input i */
    int *errors;   /* errors[i]: likewise */
    pthread_mutex_t lock;
    size_t next; /* the next input nobody has taken; guarded by lock */
};

/* Take the next input's index, or return false when none is left. */
static bool take_input(struct map_job *job, size_t *index)
{
    KIT_CHECK_EN(pthread_mutex_lock(&job->lock));
    bool taken = job->next < job->count;
    if (taken)
        *index = job->next++;
    KIT_CHECK_EN(pthread_mutex_unlock(&job->lock));
    return taken;
}

static void *work(void *arg)
{
    struct map_job *job = arg;
    size_t i;
    while (take_input(job, &i)) {
        long result = 0;
        int error = job->fn(job->args + i * job->arg_size, &result); /* no lock held */
        job->results[i] = error == 0 ? result : 0;
        job->errors[i] = error;
    }
    return NULL;
}

int pool_map(int workers, map_fn *fn, void *args, size_t arg_size, size_t count, long results[])
{
    struct map_job job = {.fn = fn,
                          .args = args,
                          .arg_size = arg_size,
                          .count = count,
                          .results = results,
                          .next = 0};
    job.errors = calloc(count + 1, sizeof job.errors[0]); /* + 1: never calloc(0) */
    pthread_t *threads = calloc((size_t)workers, sizeof threads[0]);
    if (job.errors == NULL || threads == NULL) {
        free(job.errors);
        free(threads);
        return ENOMEM;
    }
    KIT_CHECK_EN(pthread_mutex_init(&job.lock, NULL));

    int started = 0, start_error = 0;
    while (started < workers && start_error == 0) {
        start_error = pthread_create(&threads[started], NULL, work, &job);
        if (start_error == 0)
            started++;
    }
    /* If a thread failed to start, the ones that did still finish every input. */
    for (int t = 0; t < started; t++)
        KIT_CHECK_EN(pthread_join(threads[t], NULL));
    /* Joined: every worker's writes to results and errors are visible here. */
    int error = started > 0 ? 0 : start_error;
    for (size_t i = 0; i < count && error == 0; i++)
        error = job.errors[i];
    KIT_CHECK_EN(pthread_mutex_destroy(&job.lock));
    free(job.errors);
    free(threads);
    return error;
}
