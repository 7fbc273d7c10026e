/**
 * @file aggregate.c
 * @brief aggregate(): the cache first, one method for the rest, then the count of failures;
 *        and agg_report(), the progress callback one call at a time.
 *
 * Every source is reset (its url kept) before anything runs, so a field a method forgets is 0,
 * never what an earlier call left. The cache is used only here, in the calling thread: the
 * methods never see it, and it needs no lock.
 */
#include "kit.h"
#include "methods.h"

#include <errno.h>
#include <stdlib.h>

void agg_report(struct agg_run *run, const struct agg_source *source)
{
    if (run->options->progress == NULL)
        return;
    /* Workers of AGG_THREADS report from their own threads: one report at a time, so that
     * done counts 1, 2, 3 ... and the callback needs no lock of its own. */
    KIT_CHECK_EN(pthread_mutex_lock(&run->lock));
    run->done++;
    run->options->progress(run->options->progress_data, run->done, run->total, source);
    KIT_CHECK_EN(pthread_mutex_unlock(&run->lock));
}

int aggregate(enum agg_method method, struct agg_source sources[], size_t count,
              const struct agg_options *options)
{
    static int (*const methods[])(struct agg_run *, struct agg_source *[], size_t) = {
        [AGG_THREADS] = agg_by_threads,
        [AGG_PROCESSES] = agg_by_processes,
        [AGG_EVENT_LOOP] = agg_by_event_loop,
        [AGG_HYBRID] = agg_by_hybrid,
    };
    if ((unsigned)method >= sizeof methods / sizeof methods[0] || options == NULL ||
        options->workers < 0 || options->retries < 0 || options->timeout < 0 ||
        options->backoff < 0) {
        errno = EINVAL;
        return -1;
    }
    struct agg_source **todo = calloc(count + 1, sizeof todo[0]);
    if (todo == NULL)
        return -1; /* errno is ENOMEM */
    struct agg_run run = {.options = options, .total = count};
    int en = pthread_mutex_init(&run.lock, NULL);
    if (en != 0) {
        free(todo);
        errno = en;
        return -1;
    }
    size_t missing = 0;
    for (size_t i = 0; i < count; i++) {
        sources[i] = (struct agg_source){.url = sources[i].url};
        if (options->cache != NULL &&
            agg_cache_lookup(options->cache, options->rounds, &sources[i]))
            agg_report(&run, &sources[i]);
        else
            todo[missing++] = &sources[i];
    }
    int result = missing > 0 ? methods[method](&run, todo, missing) : 0;
    int saved = errno;
    for (size_t i = 0; result == 0 && options->cache != NULL && i < missing; i++)
        if (todo[i]->ok) /* a cache that cannot grow (ENOMEM) only means more fetches later */
            agg_cache_store(options->cache, options->rounds, todo[i]);
    KIT_CHECK_EN(pthread_mutex_destroy(&run.lock));
    free(todo);
    if (result == -1) {
        errno = saved;
        return -1;
    }
    int failed = 0;
    for (size_t i = 0; i < count; i++)
        failed += !sources[i].ok;
    return failed;
}
