/**
 * @file threads.c
 * @brief AGG_THREADS: worker threads, each a blocking fetch then the digest, source by source.
 *        Not written yet: ENOSYS.
 *
 * The seed's ThreadPoolExecutor version. The plan:
 * 1. Start options->workers threads (0, or more than count: one per source).
 * 2. Each worker takes the next source nobody has taken (one atomic add, or under a mutex),
 *    fetches it (agg_fetch_blocking), digests it if it is ok (agg_digest_source), frees the
 *    body, reports it (agg_report), and takes the next, until none is left.
 * 3. Join every thread before returning.
 */
#include "methods.h"

#include <errno.h>

int agg_by_threads(struct agg_run *run, struct agg_source *sources[], size_t count)
{
    (void)run, (void)sources, (void)count;
    errno = ENOSYS; /* TODO: exercise 06 */
    return -1;
}
