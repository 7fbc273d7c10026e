/**
 * @file curl_loop.h
 * @brief libcurl's multi_socket interface on chapter 08's event loop: every transfer in one thread.
 *
 * curl does the HTTP, the loop does the waiting. curl tells us through two callbacks what it
 * waits for:
 * - CURLMOPT_SOCKETFUNCTION: "watch this socket for reading/writing", or "forget it"
 *   (CURL_POLL_REMOVE). We pass that on to ev_watch() / ev_unwatch().
 * - CURLMOPT_TIMERFUNCTION: "call me back in N ms" (a timeout, a retry of a connect, or 0:
 *   start the transfers just added). One ev_after() timer, replaced each time.
 * When the loop sees a socket ready or the timer due, it tells curl with
 * curl_multi_socket_action(), and curl moves on the transfers concerned, and only those; then
 * curl_multi_info_read() says which transfers ended. This is curl's docs/examples/ephiperfifo.c
 * on the kit's own loop. Nothing calls select() (limited to FD_SETSIZE = 1024 descriptors) or
 * even poll() on every socket: epoll scales to thousands, which is why curl offers this API.
 *
 * Two ways to use it:
 * - curl_loop_run_all(): `asyncio.gather()` of transfers: a loop of its own, every transfer at
 *   once, back when all have ended (chapter 12).
 * - curl_loop_init() on a loop the program runs itself, curl_loop_add() for each transfer, and
 *   the program's other work on the same loop (chapter 10's fetch_async, chapter 11's pool).
 * Either way, on_done(easy, code, data) is called in the loop's thread as each transfer ends,
 * its handle already out of the multi handle and still the caller's to clean up. Every
 * CURLMcode is checked: a failure of the multi interface itself exits 1; a transfer's own
 * failure only ever reaches on_done.
 */
#ifndef CURL_LOOP_H
#define CURL_LOOP_H

#include "../../08-event-loop/lib/event_loop.h"

#include <curl/curl.h>
#include <stddef.h>

/** Called in the loop's thread when a transfer has ended with @p code (CURLE_OK or why not). */
typedef void curl_loop_done_fn(CURL *easy, CURLcode code, void *data);

/** A multi handle driven by an event loop. */
struct curl_loop {
    CURLM *multi;
    struct ev_loop *loop;
    struct ev_timer *timer; /**< curl's pending timeout, or NULL */
    size_t running;         /**< transfers added and not ended yet */
    curl_loop_done_fn *on_done;
    void *data;
};

/** A multi handle whose sockets and timer live on @p loop. */
void curl_loop_init(struct curl_loop *cl, struct ev_loop *loop, curl_loop_done_fn *on_done,
                    void *data);

/** Start a transfer: curl begins it on the loop's next round. */
void curl_loop_add(struct curl_loop *cl, CURL *easy);

/** Close kept-alive connections, cancel curl's timer and free the multi handle. */
void curl_loop_cleanup(struct curl_loop *cl);

/** Run the @p count transfers of @p easies at once on a loop of their own; call @p on_done
 *  (with @p data) for each as it ends; return when all have ended. */
void curl_loop_run_all(CURL *const easies[], size_t count, curl_loop_done_fn *on_done, void *data);

#endif /* CURL_LOOP_H */
