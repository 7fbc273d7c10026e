/**
 * @file curl_loop.h
 * @brief libcurl's multi_socket interface on chapter 08's event loop: chapter 10's fetch_async
 *        bridge, as a few calls, so that a program that also does other things on the loop
 *        keeps only those things in view.
 *
 * curl does the HTTP, the loop does the waiting. curl says through two callbacks what it waits
 * for (CURLMOPT_SOCKETFUNCTION: watch this socket, or forget it; CURLMOPT_TIMERFUNCTION: wake
 * me in N ms); the loop tells curl what is ready (curl_multi_socket_action), and
 * curl_multi_info_read() says which transfers ended. chapters/10-async-http/fetch_async.c
 * explains every line of it; this is the same bridge, with one callback for a finished
 * transfer:
 * - curl_loop_init(cl, loop, on_done, data), then curl_loop_add(cl, easy) for each transfer;
 * - the loop runs; for each transfer that ends, on_done(easy, code, data) is called (the handle
 *   is already out of the multi handle, and is cleaned up when on_done returns);
 * - curl_loop_stop_timer(cl) when nothing is left to fetch, curl_loop_cleanup(cl) at the end;
 * - curl_loop_keep_body(easy, body, limit) keeps a transfer's body in memory.
 * Every CURLMcode is checked: a failure of the multi interface itself exits 1.
 */
#ifndef CURL_LOOP_H
#define CURL_LOOP_H

#include "../../08-event-loop/lib/event_loop.h"

#include <curl/curl.h>

/** Called from the loop when a transfer has ended with @p code (CURLE_OK or why not). */
typedef void curl_loop_done_fn(CURL *easy, CURLcode code, void *data);

/** A multi handle driven by an event loop. */
struct curl_loop {
    CURLM *multi;
    struct ev_loop *loop;
    struct ev_timer *timer; /**< curl's pending timeout, or NULL */
    curl_loop_done_fn *on_done;
    void *data;
};

/** A multi handle whose sockets and timer live on @p loop. */
void curl_loop_init(struct curl_loop *cl, struct ev_loop *loop, curl_loop_done_fn *on_done,
                    void *data);

/** Start a transfer (curl begins it on the next round of the loop). */
void curl_loop_add(struct curl_loop *cl, CURL *easy);

/** Cancel curl's pending timer: call when every transfer has ended. */
void curl_loop_stop_timer(struct curl_loop *cl);

/** Close kept-alive connections and free the multi handle. */
void curl_loop_cleanup(struct curl_loop *cl);

/** A response body kept in memory (chapter 10's fetchers only counted theirs). */
struct curl_body {
    char *data; /**< malloc'ed, not NUL-terminated; free() it */
    size_t size, capacity, limit;
};

/** Keep what @p easy receives in @p body (zeroed by the caller), up to @p limit bytes: a longer
 *  answer stops the transfer (CURLE_WRITE_ERROR), saying why on stderr. */
void curl_loop_keep_body(CURL *easy, struct curl_body *body, size_t limit);

#endif /* CURL_LOOP_H */
