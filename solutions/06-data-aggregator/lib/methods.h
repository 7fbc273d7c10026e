/**
 * @file methods.h
 * @brief Exercise 06's inside: how lib/ is split, and the helpers its files share.
 *
 * Only lib/aggregator.h is fixed (the grader calls it). This header is the suggested split of
 * the work, and yours to change: aggregate() (lib/aggregate.c) takes the sources found in the
 * cache aside, hands the others to one method, and counts what failed.
 *
 * | file            | what                                                  | given?        |
 * |-----------------|-------------------------------------------------------|---------------|
 * | digest.c        | agg_digest_compute(), agg_digest_source()             | given         |
 * | transfer.c      | one blocking attempt; a body buffer; the retry rule   | given         |
 * | aggregate.c     | aggregate(); progress reports (bonus); cache use      | partly        |
 * | statistics.c    | agg_statistics()                                      | yours         |
 * | blocking.c      | a blocking fetch with retries (bonus)                 | one attempt   |
 * | threads.c       | AGG_THREADS                                           | yours         |
 * | processes.c     | AGG_PROCESSES                                         | yours         |
 * | loop.c          | AGG_EVENT_LOOP: the multi loop (the hybrid's too)     | yours         |
 * | hybrid.c        | AGG_HYBRID: digesting children beside the loop        | bonus         |
 * | cache.c         | the cache                                             | bonus         |
 */
#ifndef METHODS_H
#define METHODS_H

#include "aggregator.h"

#include <curl/curl.h>
#include <pthread.h>

/** One aggregate() call, as the method running it sees it. */
struct agg_run {
    const struct agg_options *options;
    size_t total;         /**< every source of the call, cached ones too: progress's total */
    size_t done;          /**< sources reported so far; guarded by lock */
    pthread_mutex_t lock; /**< one progress report at a time */
};

/** Report @p source as done: progress(data, ++done, total, source) if there is a callback.
 *  Safe from any thread of the calling process (aggregate.c). */
void agg_report(struct agg_run *run, const struct agg_source *source);

/** The methods. Each fetches and digests the @p count sources at @p sources (the ones not
 *  taken from the cache), sets their fields, reports each with agg_report() as it is done, and
 *  returns 0, or -1 with errno set (ENOSYS: not written yet). */
int agg_by_threads(struct agg_run *run, struct agg_source *sources[], size_t count);
int agg_by_processes(struct agg_run *run, struct agg_source *sources[], size_t count);
int agg_by_event_loop(struct agg_run *run, struct agg_source *sources[], size_t count);
int agg_by_hybrid(struct agg_run *run, struct agg_source *sources[], size_t count);

/** A body as it arrives. Start it zeroed; agg_body_free() when done. */
struct agg_body {
    char *data;
    size_t size, capacity;
};

/** Free a body's bytes (and zero it). */
void agg_body_free(struct agg_body *body);

/** A new easy handle for @p url: the body appended to @p body (emptied first), the timeout,
 *  CURLOPT_NOSIGNAL. NULL when curl_easy_init() or an option fails (out of memory). */
CURL *agg_easy_new(const char *url, double timeout, struct agg_body *body);

/** After an attempt on @p easy ended with @p code: set @p source's status (0 without an
 *  answer) and fetch_seconds (CURLINFO_TOTAL_TIME). */
void agg_record(CURL *easy, CURLcode code, struct agg_source *source);

/** One blocking attempt (the easy interface): attempts + 1, the body into @p body, then
 *  agg_record(). Returns curl's code. */
CURLcode agg_fetch_once(struct agg_source *source, const struct agg_options *options,
                        struct agg_body *body);

/** A 2xx answer came. */
bool agg_answer_ok(CURLcode code, long status);

/** Worth another try: a 5xx, or no answer for a reason that may change (exercise 05's list). */
bool agg_worth_retrying(CURLcode code, long status);

/** The options' timeout, or 10 s when it is 0. */
double agg_timeout(const struct agg_options *options);

/** The backoff before retry number @p attempts (1, 2, ...): backoff x 2^(attempts - 1). */
double agg_retry_delay(const struct agg_options *options, int attempts);

/** Digest @p body into @p source: ok, digest, process_seconds, processed_by (digest.c). */
void agg_digest_source(struct agg_source *source, const struct agg_body *body, uint64_t rounds);

/** The blocking fetch of AGG_THREADS and AGG_PROCESSES (blocking.c): attempts as the options
 *  say (bonus: retries, sleeping out the backoff: a blocked thread holds up nobody else).
 *  Returns true when the last attempt got a 2xx answer, its body in @p body. */
bool agg_fetch_blocking(struct agg_source *source, const struct agg_options *options,
                        struct agg_body *body);

struct agg_children;

/** The multi loop of AGG_EVENT_LOOP (loop.c), which AGG_HYBRID runs too: every fetch at once
 *  in the calling thread. Each ok body is digested at once in this thread (@p children NULL),
 *  or handed to @p children (AGG_HYBRID). Returns 0 or -1 with errno. */
int agg_loop(struct agg_run *run, struct agg_source *sources[], size_t count,
             struct agg_children *children);

/** AGG_HYBRID's digesting children (hybrid.c), for up to @p sources bodies: at most @p max
 *  children at once (0: no limit). NULL when out of memory. */
struct agg_children *agg_children_new(int max, uint64_t rounds, size_t sources);
/** Digest @p source's body in a child, now or when a child slot frees up; takes the body.
 *  Returns 1 when no child could be forked and it digested and reported the source here
 *  instead, else 0 (agg_children_collect() finishes it later). */
size_t agg_children_submit(struct agg_children *children, struct agg_run *run,
                           struct agg_source *source, struct agg_body *body);
/** The children's result pipes, for the loop to wait on too; returns how many (at most max). */
unsigned agg_children_fds(struct agg_children *children, struct curl_waitfd fds[], unsigned max);
/** Read the results of the children that finished, reap them, report each source; start
 *  queued ones. Returns how many sources it finished. */
size_t agg_children_collect(struct agg_children *children, struct agg_run *run);
/** Stop and reap any child left (after an error), free everything. */
void agg_children_free(struct agg_children *children);

/** The cache's inside (cache.c), used by aggregate() in the calling thread only. */
bool agg_cache_lookup(struct agg_cache *cache, uint64_t rounds, struct agg_source *source);
int agg_cache_store(struct agg_cache *cache, uint64_t rounds, const struct agg_source *source);

#endif /* METHODS_H */
