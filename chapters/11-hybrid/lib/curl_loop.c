/**
 * @file curl_loop.c
 * @brief curl_loop.h: the four callbacks between libcurl's multi_socket API and the loop.
 */
#include "curl_loop.h"

#include "../../10-async-http/lib/fetch.h" /* FETCH_CHECK_MULTI */
#include "kit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ask curl which transfers ended; take each out, report it, free it. */
static void collect_finished(struct curl_loop *cl)
{
    int left;
    for (CURLMsg *msg; (msg = curl_multi_info_read(cl->multi, &left)) != NULL;) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result; /* read before remove: msg is freed with the handle */
        FETCH_CHECK_MULTI(curl_multi_remove_handle(cl->multi, easy));
        cl->on_done(easy, code, cl->data);
        curl_easy_cleanup(easy);
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
        /* Returning -1 makes curl fail the transfers in progress: each gets its own line. */
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
    curl_loop_stop_timer(cl);
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
}

void curl_loop_stop_timer(struct curl_loop *cl)
{
    if (cl->timer != NULL)
        ev_cancel(cl->loop, cl->timer);
    cl->timer = NULL;
}

void curl_loop_cleanup(struct curl_loop *cl)
{
    FETCH_CHECK_MULTI(curl_multi_cleanup(cl->multi)); /* closes the kept-alive connections */
    cl->multi = NULL;
}

/* CURLOPT_WRITEFUNCTION: append what arrived to the body, doubling its room as needed. */
static size_t append_to_body(char *data, size_t size, size_t count, void *userdata)
{
    struct curl_body *body = userdata;
    size_t bytes = size * count, needed = body->size + bytes;
    if (needed > body->limit) {
        fprintf(stderr, "curl_loop: a body over %zu bytes: transfer stopped\n", body->limit);
        return 0; /* anything but `bytes` makes curl stop the transfer: CURLE_WRITE_ERROR */
    }
    if (needed > body->capacity) {
        size_t capacity = body->capacity > 0 ? 2 * body->capacity : 64 * 1024;
        capacity = capacity < needed ? needed : capacity;
        char *grown = realloc(body->data, capacity);
        if (grown == NULL)
            return 0;
        body->data = grown;
        body->capacity = capacity;
    }
    memcpy(body->data + body->size, data, bytes);
    body->size = needed;
    return bytes;
}

void curl_loop_keep_body(CURL *easy, struct curl_body *body, size_t limit)
{
    body->limit = limit;
    FETCH_CHECK_EASY(curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_to_body));
    FETCH_CHECK_EASY(curl_easy_setopt(easy, CURLOPT_WRITEDATA, body));
}
