/**
 * @file curl_loop.c
 * @brief curl_loop.h: the four callbacks between libcurl's multi_socket API and the event loop.
 */
#include "curl_loop.h"

#include "../../../harness/fetch/fetch.h" /* FETCH_CHECK_MULTI, fetch_need_descriptors */
#include "kit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void cancel_curl_timer(struct curl_loop *cl)
{
    if (cl->timer != NULL)
        ev_cancel(cl->loop, cl->timer);
    cl->timer = NULL;
}

/* Ask curl which transfers ended; take each out of the multi handle and hand it back. */
static void collect_finished(struct curl_loop *cl)
{
    int left;
    for (CURLMsg *msg; (msg = curl_multi_info_read(cl->multi, &left)) != NULL;) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result; /* read before remove: msg is freed with the handle */
        FETCH_CHECK_MULTI(curl_multi_remove_handle(cl->multi, easy));
        if (--cl->running == 0)
            cancel_curl_timer(cl); /* nothing left to time out */
        cl->on_done(easy, code, cl->data);
    }
}

/* The loop says: fd is ready. Tell curl, which moves on the transfer(s) on that socket. */
static void on_socket_ready(struct ev_loop *loop, int fd, unsigned events, void *data)
{
    (void)loop;
    struct curl_loop *cl = data;
    int flags = (events & EV_READ ? CURL_CSELECT_IN : 0) |
                (events & EV_WRITE ? CURL_CSELECT_OUT : 0) |
                (events & EV_ERROR ? CURL_CSELECT_ERR : 0);
    int running;
    FETCH_CHECK_MULTI(curl_multi_socket_action(cl->multi, fd, flags, &running));
    collect_finished(cl);
}

/* curl's timer is due: let curl handle its timeouts (and start newly added transfers). */
static void on_timeout(struct ev_loop *loop, void *data)
{
    (void)loop;
    struct curl_loop *cl = data;
    cl->timer = NULL; /* gone once its callback starts; curl may set a new one just below */
    int running;
    FETCH_CHECK_MULTI(curl_multi_socket_action(cl->multi, CURL_SOCKET_TIMEOUT, 0, &running));
    collect_finished(cl);
}

/* CURLMOPT_SOCKETFUNCTION: curl says what to wait for on one of its sockets. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy, (void)socketp;
    struct curl_loop *cl = userp;
    if (what == CURL_POLL_REMOVE) { /* curl is done with fd (and may close it next) */
        ev_unwatch(cl->loop, fd);
        return 0;
    }
    unsigned events = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    if (ev_watch(cl->loop, fd, events, on_socket_ready, cl) != 0) {
        /* Returning -1 makes curl fail the transfers on it: each reaches on_done. */
        fprintf(stderr, "curl_loop: ev_watch fd %d: %s\n", fd, strerror(errno));
        return -1;
    }
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl wants on_timeout() in timeout_ms (-1: no timer needed). */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct curl_loop *cl = userp;
    cancel_curl_timer(cl);
    if (timeout_ms >= 0) { /* never call socket_action from here: curl is not reentrant */
        cl->timer = ev_after(cl->loop, (double)timeout_ms / 1000, on_timeout, cl);
        if (cl->timer == NULL) {
            fprintf(stderr, "curl_loop: ev_after: %s\n", strerror(errno));
            return -1;
        }
    }
    return 0;
}

void curl_loop_init(struct curl_loop *cl, struct ev_loop *loop, curl_loop_done_fn *on_done,
                    void *data)
{
    *cl = (struct curl_loop){.loop = loop, .on_done = on_done, .data = data};
    if ((cl->multi = curl_multi_init()) == NULL)
        kit_die("curl_multi_init failed (out of memory?)");
    FETCH_CHECK_MULTI(curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket));
    FETCH_CHECK_MULTI(curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl));
    FETCH_CHECK_MULTI(curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer));
    FETCH_CHECK_MULTI(curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl));
}

void curl_loop_add(struct curl_loop *cl, CURL *easy)
{
    FETCH_CHECK_MULTI(curl_multi_add_handle(cl->multi, easy)); /* sets curl's timer to 0: start */
    cl->running++;
}

void curl_loop_cleanup(struct curl_loop *cl)
{
    cancel_curl_timer(cl);
    FETCH_CHECK_MULTI(curl_multi_cleanup(cl->multi)); /* closes the kept-alive connections */
    cl->multi = NULL;
}

/* curl_loop_run_all's own callback data: the caller's callback, and the loop to stop. */
struct gather {
    struct curl_loop cl;
    curl_loop_done_fn *on_done;
    void *data;
};

static void gather_done(CURL *easy, CURLcode code, void *data)
{
    struct gather *gather = data;
    gather->on_done(easy, code, gather->data);
    if (gather->cl.running == 0)
        ev_stop(gather->cl.loop); /* idle kept-alive connections would keep the loop going */
}

void curl_loop_run_all(CURL *const easies[], size_t count, curl_loop_done_fn *on_done, void *data)
{
    if (count == 0)
        return;
    fetch_need_descriptors(count, 0); /* all at once: a socket each */
    struct ev_loop *loop = ev_loop_create();
    if (loop == NULL)
        kit_die_errno("ev_loop_create");
    struct gather gather = {.on_done = on_done, .data = data};
    curl_loop_init(&gather.cl, loop, gather_done, &gather);
    for (size_t i = 0; i < count; i++)
        curl_loop_add(&gather.cl, easies[i]);
    if (ev_run(loop) != 0)
        kit_die_errno("ev_run");
    if (gather.cl.running != 0) /* the loop ran out of things to watch with transfers unfinished */
        kit_die("the event loop stopped with %zu of %zu transfers unfinished", gather.cl.running,
                count);
    curl_loop_cleanup(&gather.cl);
    ev_loop_free(loop);
}
