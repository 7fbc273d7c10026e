/**
 * @file aggregator.h
 * @brief Exercise 06's API: the seed's multi-source data aggregator, in C.
 *
 * The Python tutorial's closing challenge: fetch several sources concurrently, run a CPU-heavy
 * digest on each, aggregate statistics, and compare threads, processes and the event loop.
 * Keep this header as it is: the grader's own program calls exactly these functions.
 *
 * - aggregate() fetches and digests every source with one method (enum agg_method), filling
 *   each struct agg_source; agg_statistics() sums them up; agg_digest_compute() is the seed's
 *   process_data(), given in lib/digest.c.
 * - Bonus parts, each graded on its own: a progress callback (agg_options.progress), retries
 *   with backoff (agg_options.retries), the hybrid method (AGG_HYBRID), and a cache
 *   (agg_cache_new(), agg_options.cache).
 *
 * The caller has called curl_global_init() once before, from its main thread, and calls
 * aggregate() from its main thread (AGG_PROCESSES and AGG_HYBRID fork, and a program finds its
 * children under the thread that forked them: see common/children.c).
 */
#ifndef AGGREGATOR_H
#define AGGREGATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/** What the digest (the seed's process_data) computes for one body. */
struct agg_digest {
    uint64_t chars;    /**< bytes in the body: the seed's len(data) */
    uint64_t words;    /**< runs of bytes that are not ASCII white space: len(data.split()) */
    uint64_t checksum; /**< the sum of the body's bytes (unsigned), then `rounds` times
                            checksum = (checksum * 31 + 17) % 1000000007 */
};

/** One source. The caller sets url; aggregate() sets everything else. */
struct agg_source {
    const char *url;
    bool ok;                  /**< a 2xx answer came, and its body was digested */
    long status;              /**< the HTTP status of the last attempt; 0: no answer came */
    int attempts;             /**< attempts made: 1, or more with retries; 0 from the cache */
    struct agg_digest digest; /**< of the body, when ok; all 0 otherwise */
    double fetch_seconds;     /**< its last attempt, start to last byte (0 from the cache) */
    double process_seconds;   /**< the digest's wall time on it (0 from the cache) */
    pid_t processed_by;       /**< the process that ran the digest (when ok) */
    bool from_cache;          /**< bonus: taken from agg_options.cache, not fetched */
};

/** How aggregate() runs the sources. Each fetches every source at once (or `workers` at
 *  once), so a server sees them in flight together. */
enum agg_method {
    AGG_THREADS,    /**< threads, each: a blocking fetch (curl's easy interface), then the
                         digest; one thread per source, or agg_options.workers threads */
    AGG_PROCESSES,  /**< child processes, each: fetch, digest, and the result back to the
                         parent over a pipe; one per source, at most `workers` at once */
    AGG_EVENT_LOOP, /**< every fetch at once on curl's multi interface, in the calling thread
                         and no other; each body digested there as it arrives */
    AGG_HYBRID,     /**< bonus: fetches as AGG_EVENT_LOOP, each body digested in a child
                         process (at most `workers` at once) while the loop goes on fetching */
};

/** Bonus: called once per source as soon as it is done (fetched and digested, failed, or
 *  taken from the cache), in the calling process, never twice at once: done counts 1, 2, ...
 *  up to total, the number of sources; @p source is the one just done, its fields set. */
typedef void agg_progress_fn(void *data, size_t done, size_t total,
                             const struct agg_source *source);

struct agg_cache;

/** How to run. Zero-initialise, then set what you need. */
struct agg_options {
    int workers;               /**< threads or processes at once; 0: one per source */
    uint64_t rounds;           /**< the digest's CPU work per source (see agg_digest) */
    double timeout;            /**< seconds one attempt may take; 0: 10 s */
    int retries;               /**< bonus: retries after a failure worth retrying (5xx, or
                                   no answer: the list of exercise 05) */
    double backoff;            /**< bonus: seconds before a source's first retry, doubled for
                                   each next one */
    agg_progress_fn *progress; /**< bonus: NULL for none */
    void *progress_data;       /**< passed to progress as is */
    struct agg_cache *cache;   /**< bonus: NULL for none */
};

/** Fetch and digest the @p count sources with @p method. Every source has its fields set when
 *  it returns, every thread it started has been joined, every child process reaped, and every
 *  descriptor closed. Returns how many sources are not ok (0: all are), or -1 with errno set
 *  when it could not run at all (EINVAL; ENOMEM; ENOSYS: that method is not written yet). */
int aggregate(enum agg_method method, struct agg_source sources[], size_t count,
              const struct agg_options *options);

/** The statistics of a run, over its ok sources only (the others only counted as failed). */
struct agg_stats {
    size_t ok, failed;
    uint64_t total_bytes;           /**< the sum of digest.chars */
    uint64_t total_words;           /**< the sum of digest.words */
    double mean_bytes;              /**< total_bytes / ok */
    size_t largest;                 /**< index of the source with the most bytes (the first on
                                        a tie) */
    double total_fetch_seconds;     /**< the sum of fetch_seconds */
    double mean_fetch_seconds;      /**< total_fetch_seconds / ok */
    double stddev_fetch_seconds;    /**< population standard deviation of fetch_seconds: the
                                        square root of the mean squared distance to the mean */
    size_t slowest;                 /**< index of the source with the longest fetch (the first
                                        on a tie) */
    double total_process_seconds;   /**< the sum of process_seconds */
    double mean_seconds_per_source; /**< (total fetch + total process) / ok: the seed's
                                         "average time per source" */
};

/** Compute @p stats over @p sources. With no ok source, the means and the deviation are 0 and
 *  largest and slowest are @p count. */
void agg_statistics(const struct agg_source sources[], size_t count, struct agg_stats *stats);

/** The seed's process_data(): the digest of @p size bytes at @p body, with @p rounds rounds of
 *  CPU work (given, in lib/digest.c). */
void agg_digest_compute(const char *body, size_t size, uint64_t rounds, struct agg_digest *digest);

/** Bonus: an empty cache, or NULL with errno set (ENOMEM; ENOSYS: not written yet). A source
 *  that aggregate() finds in the cache (the same url and the same rounds) is not fetched: its
 *  ok, status, digest and processed_by are the cached ones, from_cache is true, attempts and
 *  the seconds 0. Every ok source aggregate() fetched goes into the cache; a failed one not. */
struct agg_cache *agg_cache_new(void);

/** Bonus: free the cache and everything in it (NULL: nothing to do). */
void agg_cache_free(struct agg_cache *cache);

#endif /* AGGREGATOR_H */
