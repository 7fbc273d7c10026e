/**
 * @file threads.c
 * @brief AGG_THREADS: worker threads, each a blocking fetch then the digest, source by source.
 *
 * The seed's ThreadPoolExecutor version. Each worker takes the next source with one atomic add
 * (no lock: the index is all they share), fetches it with the easy interface (its own handle:
 * curl's threads rule), digests it, and reports it. In C the digests run in parallel too: no
 * GIL. Every worker is joined before returning.
 */
#include "kit.h"
#include "methods.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

struct work {
    struct agg_run *run;
    struct agg_source **sources;
    size_t count;
    atomic_size_t next; /* the next source nobody has taken */
};

static void *worker(void *arg)
{
    struct work *work = arg;
    const struct agg_options *options = work->run->options;
    for (size_t i; (i = atomic_fetch_add(&work->next, 1)) < work->count;) {
        struct agg_source *source = work->sources[i];
        struct agg_body body = {0};
        if (agg_fetch_blocking(source, options, &body))
            agg_digest_source(source, &body, options->rounds);
        agg_body_free(&body);
        agg_report(work->run, source);
    }
    return NULL;
}

int agg_by_threads(struct agg_run *run, struct agg_source *sources[], size_t count)
{
    size_t wanted = (size_t)run->options->workers;
    if (wanted == 0 || wanted > count)
        wanted = count; /* one thread per source */
    pthread_t *threads = calloc(wanted, sizeof threads[0]);
    if (threads == NULL)
        return -1;
    struct work work = {.run = run, .sources = sources, .count = count};
    size_t started = 0;
    int en = 0;
    while (started < wanted && (en = pthread_create(&threads[started], NULL, worker, &work)) == 0)
        started++;
    /* Fewer threads than wanted (EAGAIN) still do every source; none at all is an error. */
    for (size_t t = 0; t < started; t++)
        KIT_CHECK_EN(pthread_join(threads[t], NULL));
    free(threads);
    if (started == 0) {
        errno = en;
        return -1;
    }
    return 0;
}
