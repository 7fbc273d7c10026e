/**
 * @file aggregate.c
 * @brief aggregate(): one method for every source, then the count of failures. Written,
 *        except for two bonus parts: progress reports and the cache.
 *
 * Every source is reset (its url kept) before anything runs, so a field a method forgets is 0,
 * never what an earlier call left.
 *
 * Bonus, progress: agg_report() is called by the methods as each source is done; make it call
 * options->progress with done counting 1, 2, ..., one call at a time (workers of AGG_THREADS
 * report from their own threads: run->lock is there for that).
 *
 * Bonus, cache: before the method runs, look each source up in options->cache
 * (agg_cache_lookup, lib/cache.c): a source found there is done already (report it) and is not
 * handed to the method; after the method, store every ok source it fetched (agg_cache_store).
 */
#include "kit.h"
#include "methods.h"

#include <errno.h>
#include <stdlib.h>

void agg_report(struct agg_run *run, const struct agg_source *source)
{
    (void)run, (void)source; /* TODO: bonus, progress */
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
        todo[missing++] = &sources[i]; /* TODO: bonus, cache: unless it is in the cache */
    }
    int result = missing > 0 ? methods[method](&run, todo, missing) : 0;
    int saved = errno;
    /* TODO: bonus, cache: store the ok sources the method fetched */
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
