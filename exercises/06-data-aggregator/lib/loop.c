/**
 * @file loop.c
 * @brief AGG_EVENT_LOOP: every fetch at once on curl's multi interface, in the calling thread.
 *        Not written yet: ENOSYS.
 *
 * The seed's asyncio version. The plan for agg_loop() (chapter 10's fetch_limited.c, and your
 * exercise 05):
 * 1. Per source, a small struct: the source, its easy handle (agg_easy_new, with
 *    CURLOPT_PRIVATE pointing back at the struct), its body. Add every handle to one multi.
 * 2. Loop until every source is done: curl_multi_perform(); for each CURLMSG_DONE of
 *    curl_multi_info_read(): agg_record(), remove and clean up the handle, then settle the
 *    source: if agg_answer_ok, digest it here (agg_digest_source), free the body, report it;
 *    then curl_multi_poll() until something is ready.
 * 3. At the end, clean up the multi. Nothing else runs in another thread.
 * Bonus, retries: a failure worth retrying gets a due time (agg_retry_delay), never a sleep;
 * start it when it is due, and let the poll's timeout wake you then.
 * Bonus, hybrid: with children (hybrid.c), hand ok bodies to them instead of digesting here.
 */
#include "methods.h"

#include <errno.h>

int agg_loop(struct agg_run *run, struct agg_source *sources[], size_t count,
             struct agg_children *children)
{
    (void)run, (void)sources, (void)count, (void)children;
    errno = ENOSYS; /* TODO: exercise 06 */
    return -1;
}

int agg_by_event_loop(struct agg_run *run, struct agg_source *sources[], size_t count)
{
    return agg_loop(run, sources, count, NULL);
}
