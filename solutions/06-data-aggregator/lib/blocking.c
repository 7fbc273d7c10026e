/**
 * @file blocking.c
 * @brief agg_fetch_blocking(): one source, the easy interface, retries with backoff.
 *
 * Used by AGG_THREADS (in a worker thread) and AGG_PROCESSES (in a child process): each blocks
 * only itself, so sleeping out the backoff here holds up no other source. An event loop must
 * never do that (see loop.c).
 */
#include "kit.h"
#include "methods.h"

bool agg_fetch_blocking(struct agg_source *source, const struct agg_options *options,
                        struct agg_body *body)
{
    for (;;) {
        CURLcode code = agg_fetch_once(source, options, body);
        if (!agg_worth_retrying(code, source->status) || source->attempts > options->retries)
            return agg_answer_ok(code, source->status);
        kit_sleep(agg_retry_delay(options, source->attempts)); /* 1st retry: backoff, then x2 */
    }
}
