/**
 * @file blocking.c
 * @brief agg_fetch_blocking(): one source, the easy interface. One attempt, as given; retries
 *        with backoff are a bonus part.
 *
 * Used by AGG_THREADS (in a worker thread) and AGG_PROCESSES (in a child process): each blocks
 * only itself, so sleeping out a backoff here would hold up no other source. An event loop must
 * never do that (see loop.c).
 */
#include "kit.h"
#include "methods.h"

bool agg_fetch_blocking(struct agg_source *source, const struct agg_options *options,
                        struct agg_body *body)
{
    CURLcode code = agg_fetch_once(source, options, body);
    /* TODO: bonus, retries: while it is worth retrying (agg_worth_retrying) and the retries
     * are not used up, sleep agg_retry_delay() and try again. */
    return agg_answer_ok(code, source->status);
}
