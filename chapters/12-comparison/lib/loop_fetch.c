/**
 * @file loop_fetch.c
 * @brief loop_fetch.h: curl's multi_socket interface on chapter 08's loop, as one function.
 *
 * curl does the HTTP; the loop does the waiting. curl says what it waits for through two
 * callbacks (a socket to watch, a timer to set), the loop says what is ready through
 * curl_multi_socket_action(), and curl_multi_info_read() says which transfers ended.
 */
#include "loop_fetch.h"

#include "../../08-event-loop/lib/event_loop.h"
#include "../../10-async-http/lib/fetch.h"
#include "kit.h"

#include <errno.h>
#include <string.h>

/* What the callbacks share for one loop_fetch_all() call. */
struct gather {
    CURLM *multi;
    struct ev_loop *loop;
    struct ev_timer *timer; /* curl's pending timeout, or NULL */
    size_t left;            /* transfers not ended yet */
    loop_fetch_done_fn *done;
    void *data;
};

/* Hand every transfer that has ended to the caller; stop the loop after the last one. */
static void collect_ended(struct gather *gather)
{
    int queued;
    for (CURLMsg *msg; (msg = curl_multi_info_read(gather->multi, &queued)) != NULL;) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result; /* read it before the remove frees msg */
        FETCH_CHECK_MULTI(curl_multi_remove_handle(gather->multi, easy));
        gather->done(easy, code, gather->data);
        if (--gather->left == 0) {
            if (gather->timer != NULL)
                ev_cancel(gather->loop, gather->timer);
            gather->timer = NULL;
            ev_stop(gather->loop); /* kept-alive idle connections would keep it running */
        }
    }
}

/* The loop: fd is ready. curl moves on the transfer(s) using that socket, and only those. */
static void on_socket_ready(struct ev_loop *loop, int fd, unsigned events, void *data)
{
    (void)loop;
    struct gather *gather = data;
    int flags = (events & EV_READ ? CURL_CSELECT_IN : 0) |
                (events & EV_WRITE ? CURL_CSELECT_OUT : 0) |
                (events & EV_ERROR ? CURL_CSELECT_ERR : 0);
    int running;
    FETCH_CHECK_MULTI(curl_multi_socket_action(gather->multi, fd, flags, &running));
    collect_ended(gather);
}

/* The loop: curl's timer is due (a timeout, or 0 ms: start the transfers just added). */
static void on_timer_due(struct ev_loop *loop, void *data)
{
    (void)loop;
    struct gather *gather = data;
    gather->timer = NULL; /* gone once its callback runs; curl may ask for a new one below */
    int running;
    FETCH_CHECK_MULTI(curl_multi_socket_action(gather->multi, CURL_SOCKET_TIMEOUT, 0, &running));
    collect_ended(gather);
}

/* CURLMOPT_SOCKETFUNCTION: curl says what to wait for on one of its sockets. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy, (void)socketp;
    struct gather *gather = userp;
    if (what == CURL_POLL_REMOVE) { /* curl is done with fd and may close it next */
        ev_unwatch(gather->loop, fd);
        return 0;
    }
    unsigned events = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    if (ev_watch(gather->loop, fd, events, on_socket_ready, gather) != 0) {
        /* -1 makes curl fail the transfers on this socket: each is reported through done. */
        fprintf(stderr, "loop_fetch: ev_watch fd %d: %s\n", fd, strerror(errno));
        return -1;
    }
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl wants on_timer_due() in timeout_ms (-1: no timer). It only arms
 * a loop timer: curl is not reentrant, so socket_action is never called from in here. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct gather *gather = userp;
    if (gather->timer != NULL)
        ev_cancel(gather->loop, gather->timer);
    gather->timer = NULL;
    if (timeout_ms >= 0) {
        gather->timer = ev_after(gather->loop, (double)timeout_ms / 1000, on_timer_due, gather);
        if (gather->timer == NULL) {
            fprintf(stderr, "loop_fetch: ev_after: %s\n", strerror(errno));
            return -1;
        }
    }
    return 0;
}

void loop_fetch_all(CURL *const easies[], size_t count, loop_fetch_done_fn *done, void *data)
{
    if (count == 0)
        return;
    struct gather gather = {.left = count, .done = done, .data = data};
    if ((gather.loop = ev_loop_create()) == NULL)
        kit_die_errno("ev_loop_create");
    if ((gather.multi = curl_multi_init()) == NULL)
        kit_die("curl_multi_init failed (out of memory?)");
    FETCH_CHECK_MULTI(curl_multi_setopt(gather.multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket));
    FETCH_CHECK_MULTI(curl_multi_setopt(gather.multi, CURLMOPT_SOCKETDATA, &gather));
    FETCH_CHECK_MULTI(curl_multi_setopt(gather.multi, CURLMOPT_TIMERFUNCTION, on_curl_timer));
    FETCH_CHECK_MULTI(curl_multi_setopt(gather.multi, CURLMOPT_TIMERDATA, &gather));
    for (size_t i = 0; i < count; i++) /* each add sets curl's timer to 0 ms: start them */
        FETCH_CHECK_MULTI(curl_multi_add_handle(gather.multi, easies[i]));
    if (ev_run(gather.loop) != 0)
        kit_die_errno("ev_run");
    if (gather.left != 0) /* the loop ran out of things to watch with transfers unfinished */
        kit_die("the event loop stopped with %zu of %zu transfers unfinished", gather.left, count);
    FETCH_CHECK_MULTI(curl_multi_cleanup(gather.multi)); /* closes the kept-alive connections */
    ev_loop_free(gather.loop);
}
