/**
 * @file fetch.h
 * @brief The kit's fetch plumbing: the URLs to fetch, curl's checks, one line per URL, the report.
 *
 * Chapter 10's four fetchers differ only in how they run their transfers (one after another,
 * on threads, all in one thread on the event loop, K at a time): that is the lesson, in each
 * program. What they share with each other and with chapters 11 and 12 is here, once:
 * - The plan: fetch_plan_urls() takes the URLs given on the command line;
 *   fetch_plan_start_local_server() starts the kit's local server (chapter 09's loop_server) on
 *   a free port instead, and fetch_plan_free() stops it. The caller owns that process: it calls
 *   kit_own_children() first, so that Ctrl-C, SIGTERM and an error exit stop and reap it.
 * - fetch_prepare() sets the options every transfer gets: a timeout (nothing hangs), an error
 *   buffer for curl's own words, a write callback that counts the body instead of storing it
 *   (fetch_keep_body() keeps it instead, for a program that reads what it fetched).
 * - fetch_record() reads what happened; fetch_print() writes the URL's line, telling a transport
 *   error (no HTTP answer at all) from an HTTP error status (an answer that says "failed").
 * - fetch_report() prints the summary and the verdict and returns the exit status.
 * - Running out of a resource is named as such, not as what curl makes of it: the limit on
 *   descriptors is checked up front (fetch_need_descriptors()), and a transfer whose socket,
 *   body or local port could not be had says which ran out and what the limit is.
 *
 * A folder whose code includes this declares `uses_code := harness/fetch` in its uses.mk (and
 * libcurl in uses_packages if it includes <curl/curl.h> itself).
 */
#ifndef FETCH_H
#define FETCH_H

#include "../loopback/local_server.h"
#include "kit.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

/** Exit (status 1) with curl's own message if an easy-interface call failed. Used for calls
 *  that fail only when something is badly wrong (out of memory, an option this libcurl lacks),
 *  never for a transfer's result: that is recorded per URL with fetch_record(). */
#define FETCH_CHECK_EASY(call)                                                                     \
    do {                                                                                           \
        CURLcode fetch_code_ = (call);                                                             \
        if (fetch_code_ != CURLE_OK)                                                               \
            kit_die("%s: %s", #call, curl_easy_strerror(fetch_code_));                             \
    } while (0)

/** The same for the multi interface: CURLMcode, told by curl_multi_strerror(). */
#define FETCH_CHECK_MULTI(call)                                                                    \
    do {                                                                                           \
        CURLMcode fetch_mcode_ = (call);                                                           \
        if (fetch_mcode_ != CURLM_OK)                                                              \
            kit_die("%s: %s", #call, curl_multi_strerror(fetch_mcode_));                           \
    } while (0)

/** What happened to one URL. */
struct fetch_result {
    const char *url;
    CURLcode code;               /**< CURLE_OK, or the transport error that ended it */
    long status;                 /**< the HTTP status received, 0 if none */
    curl_off_t bytes;            /**< body bytes received */
    double seconds;              /**< the transfer's own time (CURLINFO_TOTAL_TIME) */
    int attempts;                /**< 1, or more after retries (fetch_limited) */
    int resource_errno;          /**< a failed socket()'s errno (EMFILE: out of descriptors),
                                      ENOMEM for a body that could not grow, EADDRNOTAVAIL from
                                      connect() (out of ports), else 0; fetch_print() names
                                      what ran out */
    char error[CURL_ERROR_SIZE]; /**< CURLOPT_ERRORBUFFER: curl's detail about the error */
};

/** A response body kept in memory, for a program that reads what it fetched (chapter 10's
 *  fetchers only count the bytes; chapters 11 and 12 parse JSON and HTML). */
struct fetch_body {
    char *data;      /**< malloc'ed and NUL-terminated (NULL until something arrived); free() it */
    size_t size;     /**< bytes received, the NUL not counted */
    size_t capacity; /**< bytes allocated */
    size_t limit;    /**< a longer body stops its transfer (CURLE_WRITE_ERROR) */
    struct fetch_result *result; /**< where the bytes are counted too */
};

/** The URLs to fetch, and the local server when the plan started one. */
struct fetch_plan {
    const char **urls;
    size_t count;
    char **local_urls; /**< the local server's URLs in urls, owned (none when URLs were given) */
    size_t local_count;
    bool own_server;
    struct local_server server;
};

/** Make room for @p at_once transfers in flight, each with a socket, beside
 *  @p other_descriptors the program will open (pipes, pidfds): raise the soft limit on open
 *  descriptors to the hard one, and if that is still too few for them, the descriptors open now
 *  and a few for curl itself, say so in one line and exit 1:
 *  `out of file descriptors: 64 allowed (ulimit -n), 500 transfers at once need about 510`.
 *  Past the limit socket() fails with EMFILE, which curl reports in words of its own
 *  ("Failed to connect", or a queued transfer's "Failed to resolve host ... timeout"), once
 *  per transfer. Call it once the plan is made: the local server's pipe counts too. */
void fetch_need_descriptors(size_t at_once, size_t other_descriptors);

/** Plan the @p given URLs of @p urls (command-line operands: not copied, they must outlive
 *  the plan), each @p repeat times, one after another. */
void fetch_plan_urls(struct fetch_plan *plan, char *const urls[], size_t given, long repeat);

/** Start the kit's local server as a child process, on a free port, and plan its @p path
 *  @p repeat times (0: none yet, then @p path may be NULL; fetch_plan_add_local() adds more).
 *  The caller owns the server: it calls kit_own_children() before this (checked: exits 1 if
 *  not), so that Ctrl-C, SIGTERM, SIGHUP and an error exit stop and reap it.
 *  fetch_plan_free() stops it. Exits 1 if the server cannot start. */
void fetch_plan_start_local_server(struct fetch_plan *plan, long repeat, const char *path);

/** Add the local server's @p path (a server the plan started) to the plan's URLs, once. */
void fetch_plan_add_local(struct fetch_plan *plan, const char *path);

/** Stop the local server (if the plan started it) and free the plan. */
void fetch_plan_free(struct fetch_plan *plan);

/** Set what every transfer gets on @p easy: the URL, @p timeout seconds for the
 *  whole transfer, the error buffer and byte counter in @p result, CURLOPT_PRIVATE = @p result.
 *  Resets result's fields (keeps url and attempts). An easy handle may be prepared again and
 *  reused for the next URL: it keeps its connections open (what requests.Session does). */
void fetch_prepare(CURL *easy, struct fetch_result *result, double timeout);

/** A new easy handle, prepared for @p result (exits 1 if curl_easy_init fails). */
CURL *fetch_easy_new(struct fetch_result *result, double timeout);

/** Keep what @p easy receives in @p body (zeroed by the caller), at most @p limit bytes, and
 *  count it in @p result as fetch_prepare()'s counting callback does. Call after
 *  fetch_prepare(), whose callback this replaces. */
void fetch_keep_body(CURL *easy, struct fetch_result *result, struct fetch_body *body,
                     size_t limit);

/** Record how the transfer on @p easy ended (@p code from curl_easy_perform or the multi's
 *  CURLMSG_DONE message): the HTTP status and the time. */
void fetch_record(CURL *easy, struct fetch_result *result, CURLcode code);

/** True when the transfer got an answer and the answer was not an HTTP error (status < 400). */
bool fetch_succeeded(const struct fetch_result *result);

/** Print the URL's line (only failures when @p quiet), e.g.
 *  `ok     200    4096 bytes  0.203 s  http://127.0.0.1:8080/bytes/4096` or
 *  `error  ---       0 bytes  0.001 s  http://127.0.0.1:9/: transport error: ...`. */
void fetch_print(const struct fetch_result *result, bool quiet);

/** User plus system CPU seconds this process has used so far (all its threads). */
double fetch_cpu_seconds(void);

/** Print the summary (counts, wall and CPU time since @p wall_start and @p cpu_start, peak
 *  memory) and the verdict line; exits 1 if stdout could not be written. Returns the exit
 *  status: 0 if every transfer succeeded, 1 otherwise. */
int fetch_report(const struct fetch_result *results, size_t count, double wall_start,
                 double cpu_start);

#endif /* FETCH_H */
