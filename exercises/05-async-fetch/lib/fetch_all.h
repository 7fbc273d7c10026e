/**
 * @file fetch_all.h
 * @brief Exercise 05's API: fetch N URLs, at most K in flight at once, with retries and backoff.
 *
 * What `asyncio.Semaphore(K)` around each `session.get(url)`, plus a retry loop, does in
 * Python; in C, with libcurl's multi interface, in the calling thread. Implement fetch_all()
 * in lib/fetch_all.c; keep this header as it is, because the grader's own program calls
 * exactly this function:
 *
 * - at most `max_in_flight` transfers are in flight at any moment (retries included), and as
 *   many as that whenever that many are waiting to start: a transfer that ends makes room for
 *   the next one at once;
 * - a failure worth retrying (see below) is tried again after `backoff` seconds, then twice
 *   that, four times that, ... up to `retries` retries; a URL waiting for its retry holds no
 *   slot and holds up nobody;
 * - every attempt ends within `timeout` seconds;
 * - when it returns, nothing is left: no transfer, no handle, no descriptor, no thread.
 *
 * Worth retrying (the server was not there, too slow, hung up, or said "my fault"):
 * CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE,
 * CURLE_RECV_ERROR, CURLE_SEND_ERROR, and an HTTP status of 500 or more. Anything else is
 * final: a 4xx ("your fault": asking again gets the same answer), a name that does not
 * resolve, a 2xx or 3xx (success).
 *
 * The caller has called curl_global_init() once before (the grader's program and
 * fetch_demo.c do).
 */
#ifndef FETCH_ALL_H
#define FETCH_ALL_H

#include <curl/curl.h>
#include <stddef.h>

/** How to fetch. */
struct fetch_settings {
    int max_in_flight; /**< K: transfers in flight at once, at most (1 or more) */
    int retries;       /**< retries after a first failure worth retrying (0: none) */
    double backoff;    /**< seconds before a URL's first retry, doubled for each next one */
    double timeout;    /**< seconds one attempt may take, connecting to last byte (> 0) */
};

/** What happened to one URL, in the end: its last attempt. */
struct fetch_outcome {
    CURLcode code; /**< CURLE_OK (an HTTP answer came, whatever its status) or the
                        transport error that ended the last attempt */
    long status;   /**< the HTTP status of the last attempt; 0 when no answer came */
    long bytes;    /**< body bytes received in the last attempt */
    int attempts;  /**< attempts made: 1, plus the retries used */
};

/** Fetch the @p count URLs in @p urls as @p settings says, and store what happened to urls[i]
 *  in outcomes[i]. Every transfer has ended, and everything it used is released, when it
 *  returns. A URL failed when its last attempt got no answer (code != CURLE_OK) or an HTTP
 *  status of 400 or more. Returns how many URLs failed (0: all succeeded), or -1 with errno set
 *  when it could not run at all (ENOMEM; ENOSYS: not written yet). */
int fetch_all(const char *const urls[], size_t count, const struct fetch_settings *settings,
              struct fetch_outcome outcomes[]);

#endif /* FETCH_ALL_H */
