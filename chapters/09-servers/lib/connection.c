/**
 * @file connection.c
 * @brief The per-connection state machine of connection.h, one small function per step.
 *
 * A rule that every function here follows: a call that may close the connection (and free it)
 * returns false when it did, and its caller then stops touching the struct conn. Closing is
 * conn_close(), the only place that frees a connection, so the counters in /stats are updated
 * in exactly one place too.
 */
#define _GNU_SOURCE /* accept4 */
#include "connection.h"

#include "../../../harness/loopback/net.h"
#include "endpoints.h"
#include "http_parser.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
    INITIAL_INPUT = 1024,  /* bytes of input buffer a new connection starts with */
    ACCEPTS_PER_ROUND = 64 /* accept() calls per readable event: others get a turn */
};
static const double LINGER_S = 1.0;       /* longest wait for a closing client's end of file */
static const double ACCEPT_PAUSE_S = 0.1; /* after EMFILE: time for descriptors to free up */

enum conn_state { READING, WAITING, STALLED, WRITING, LINGERING };

struct conn {
    struct server *server;
    int fd;
    enum conn_state state;
    unsigned watching; /* what the loop watches fd for now: EV_READ, EV_WRITE, 0 */
    char client[32];   /* "127.0.0.1:54321", for log lines */
    char client_ip[INET_ADDRSTRLEN];
    char *in; /* bytes received and not yet parsed */
    size_t in_len, in_cap;
    struct http_response response; /* the answer being waited on or written */
    char head[HTTP_RESPONSE_HEAD_MAX];
    size_t head_len, sent; /* sent counts head bytes first, then body bytes */
    int version_minor;
    bool keep_alive; /* after this response */
    bool in_flight;  /* counted in /stats' in_flight right now */
    double deadline; /* READING, WRITING, LINGERING: when to give up */
    struct ev_timer *timeout_timer, *delay_timer;
    struct conn *prev, *next; /* the server's list, to close them all at the end */
};

struct server {
    struct ev_loop *loop;
    int listen_fd;
    struct server_options options;
    struct server_state state; /* /stats counters and /flaky memory */
    struct conn *conns;
    struct ev_timer *resume_timer; /* set while accept() is paused after EMFILE */
    double last_pause_logged;
};

static void on_conn_event(struct ev_loop *loop, int fd, unsigned events, void *data);
static void on_timeout(struct ev_loop *loop, void *data);
static void on_accept(struct ev_loop *loop, int fd, unsigned events, void *data);

static void conn_log(const struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void conn_log(const struct conn *c, const char *fmt, ...)
{
    if (c->server->options.quiet)
        return;
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "%s: %s: ", c->server->options.program, c->client);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
}

/* The only way a connection ends: it leaves flight, its timers and watch go, it is freed. */
static void conn_close(struct conn *c)
{
    struct server *s = c->server;
    if (c->in_flight)
        stats_request_leaves(&s->state.stats, false);
    ev_cancel(s->loop, c->timeout_timer);
    ev_cancel(s->loop, c->delay_timer);
    ev_unwatch(s->loop, c->fd);
    close(c->fd);
    *(c->prev ? &c->prev->next : &s->conns) = c->next;
    if (c->next)
        c->next->prev = c->prev;
    http_response_free(&c->response);
    free(c->in);
    free(c);
    stats_connection_closed(&s->state.stats);
}

/* Watch fd for @p events (0: not at all), with a system call only when that changes. */
static bool conn_watch(struct conn *c, unsigned events)
{
    if (events == c->watching)
        return true;
    if (events == 0) {
        ev_unwatch(c->server->loop, c->fd);
    } else if (ev_watch(c->server->loop, c->fd, events, on_conn_event, c) == -1) {
        conn_log(c, "ev_watch: %s", strerror(errno));
        conn_close(c);
        return false;
    }
    c->watching = events;
    return true;
}

/* Receive into the input buffer, growing it up to HTTP_MAX_HEAD. Returns bytes read, 0 at end
 * of file, -1 on error (errno; EAGAIN: nothing there now), or -2 when the buffer is full. */
static ssize_t conn_receive(struct conn *c)
{
    if (c->in_len == c->in_cap) {
        if (c->in_cap >= HTTP_MAX_HEAD)
            return -2;
        char *grown = realloc(c->in, HTTP_MAX_HEAD);
        if (grown == NULL)
            return -1; /* errno is ENOMEM */
        c->in = grown;
        c->in_cap = HTTP_MAX_HEAD;
    }
    ssize_t got;
    do
        got = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
    while (got == -1 && errno == EINTR);
    if (got > 0)
        c->in_len += (size_t)got;
    return got;
}

/* The client is done with this connection: shut our side, discard what it still sends. */
static bool conn_linger(struct conn *c)
{
    shutdown(c->fd, SHUT_WR);
    c->state = LINGERING;
    c->in_len = 0;
    c->deadline = ev_now(c->server->loop) + LINGER_S;
    return conn_watch(c, EV_READ);
}

/* The whole response is out: count it, then wait for the next request or close. */
static bool response_done(struct conn *c)
{
    if (c->in_flight) {
        stats_request_leaves(&c->server->state.stats, true);
        c->in_flight = false;
    }
    http_response_free(&c->response);
    if (!c->keep_alive)
        return conn_linger(c);
    c->state = READING;
    c->deadline = ev_now(c->server->loop) + c->server->options.timeout;
    /* Pipelined bytes already buffered wait for their turn: the socket being writable (it
     * is, unless the client does not read) brings the loop back on its next round. */
    return conn_watch(c, c->in_len > 0 ? EV_READ | EV_WRITE : EV_READ);
}

/* Send what is left of head + body, one piece (HTTP_BODY_PIECE bytes) a turn: the fairness
 * rule, so a 10 MiB answer to a fast reader does not hold the loop while others wait. Returns
 * false if the connection was closed. */
static bool conn_write(struct conn *c)
{
    size_t total = c->head_len + http_body_to_send(&c->response);
    size_t turn_over = c->sent + HTTP_BODY_PIECE;
    while (c->sent < total) {
        if (c->sent >= turn_over)
            return conn_watch(c, EV_WRITE); /* the next piece on the loop's next round */
        ssize_t sent = http_send_from(c->fd, c->head, c->head_len, &c->response, c->sent);
        if (sent == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return conn_watch(c, EV_WRITE); /* the rest when the socket has room */
        if (sent == -1) {
            conn_log(c, "client gone mid-response: %s", strerror(errno));
            conn_close(c);
            return false;
        }
        c->sent += (size_t)sent;
        c->deadline = ev_now(c->server->loop) + c->server->options.timeout;
    }
    return response_done(c);
}

/* The answer in c->response is due: render its head and start writing. */
static bool start_response(struct conn *c)
{
    c->head_len = http_render_head(&c->response, c->keep_alive, c->version_minor, c->head);
    c->sent = 0;
    c->state = WRITING;
    c->deadline = ev_now(c->server->loop) + c->server->options.timeout;
    return conn_write(c);
}

/* A request that will never parse: answer its error and close. */
static bool reject(struct conn *c, int status, const char *reason)
{
    conn_log(c, "%d %s", status, reason);
    error_response(&c->response, status, reason);
    c->keep_alive = false;
    c->version_minor = 1;
    c->in_len = 0;
    return start_response(c);
}

static void on_delay_over(struct ev_loop *loop, void *data)
{
    (void)loop;
    struct conn *c = data;
    c->delay_timer = NULL; /* gone before this callback ran */
    start_response(c);
}

/* Route the request parsed from the start of the buffer, then drop its head from the buffer. */
static bool dispatch(struct conn *c, const struct http_request *request)
{
    struct server *s = c->server;
    if (route_request(&s->state, request, c->client_ip, &c->response) == -1)
        conn_log(c, "500: %s", strerror(errno));
    if (c->response.counted) {
        stats_request_enters(&s->state.stats);
        c->in_flight = true;
    }
    c->keep_alive = request->keep_alive && !c->response.close;
    c->version_minor = request->version_minor;
    c->in_len -= request->head_len;
    memmove(c->in, c->in + request->head_len, c->in_len); /* request points there no more */
    if (c->response.stall) {
        c->state = STALLED;
        return true;
    }
    if (!c->response.delayed)
        return start_response(c);
    c->state = WAITING;
    c->delay_timer = ev_after(s->loop, c->response.delay_seconds, on_delay_over, c);
    if (c->delay_timer == NULL) {
        conn_log(c, "ev_after: %s", strerror(errno));
        conn_close(c);
        return false;
    }
    return true;
}

/* Read what the socket has. Returns false if nothing came (or the connection was closed). */
static bool conn_read(struct conn *c)
{
    ssize_t got = conn_receive(c);
    if (got > 0)
        return true;
    if (got == -2) { /* cannot happen: the parser rejects a full buffer; but never spin */
        reject(c, 431, "request head too long");
    } else if (got == 0) {
        if (c->in_len > 0)
            conn_log(c, "client closed mid-request");
        conn_close(c);
    } else if (errno != EAGAIN && errno != EINTR) {
        conn_log(c, "recv: %s", strerror(errno));
        conn_close(c);
    } else {
        conn_watch(c, EV_READ); /* woken for a turn, but what is buffered is not whole yet */
    }
    return false;
}

/* READING, one turn: answer the next request if the buffer holds it whole, else read and try.
 * One request a turn is the fairness rule: a client that pipelines 200 requests gets one
 * answered, then everyone else has their turn before its next. */
static void serve_next(struct conn *c)
{
    struct http_request request;
    enum http_parse_result result = http_parse_request(c->in, c->in_len, &request);
    if (result == HTTP_INCOMPLETE) {
        if (!conn_read(c))
            return;
        result = http_parse_request(c->in, c->in_len, &request);
    }
    if (result == HTTP_ERROR)
        reject(c, request.error_status, request.error_reason);
    else if (result == HTTP_COMPLETE)
        dispatch(c, &request);
    else
        conn_watch(c, EV_READ); /* the rest of the head, whenever the client sends it */
}

/* Bytes while the answer is not due (WAITING, STALLED) or after it (LINGERING). End of file
 * while waiting is taken as "the client left": HTTP clients do not half-close a connection
 * on which they still expect an answer. */
static void read_meanwhile(struct conn *c)
{
    char scratch[4096];
    ssize_t got = c->state == WAITING ? conn_receive(c) : recv(c->fd, scratch, sizeof scratch, 0);
    if (got == -2) {
        conn_watch(c, 0); /* pipelined requests fill the buffer: read on when the delay ends */
    } else if (got == 0 || (got == -1 && errno != EAGAIN && errno != EINTR)) {
        conn_close(c); /* the client left, or lingering is over */
    }
}

static void on_conn_event(struct ev_loop *loop, int fd, unsigned events, void *data)
{
    (void)loop, (void)fd, (void)events; /* EV_ERROR shows up as recv() failing or returning 0 */
    struct conn *c = data;
    if (c->state == WRITING)
        conn_write(c);
    else if (c->state == READING)
        serve_next(c);
    else
        read_meanwhile(c);
}

/* The connection's watchdog: due at its deadline, or re-armed while the deadline moved. */
static void on_timeout(struct ev_loop *loop, void *data)
{
    struct conn *c = data;
    c->timeout_timer = NULL;
    double now = ev_now(loop);
    bool has_deadline = c->state == READING || c->state == WRITING || c->state == LINGERING;
    if (has_deadline && now >= c->deadline) {
        /* READING and waiting for room to answer what is buffered: a client that stopped
         * reading, like WRITING. */
        bool not_reading = c->state == WRITING || (c->watching & EV_WRITE) != 0;
        if (c->state != READING || c->in_len == 0 || not_reading) {
            if (not_reading)
                conn_log(c, "timed out: the client does not read its response");
            conn_close(c); /* an idle keep-alive connection is closed without a word */
            return;
        }
        if (!reject(c, 408, "timed out waiting for the rest of the request"))
            return;
        has_deadline = true; /* LINGERING now, or WRITING the 408 */
    }
    double wait =
        has_deadline && c->deadline > now ? c->deadline - now : c->server->options.timeout;
    c->timeout_timer = ev_after(loop, wait, on_timeout, c);
    if (c->timeout_timer == NULL) {
        conn_log(c, "ev_after: %s", strerror(errno));
        conn_close(c);
    }
}

/* A new client: its struct, its buffer, its watchdog, READING. Closes fd on failure. */
static void conn_open(struct server *s, int fd, const struct sockaddr_in *address)
{
    struct conn *c = calloc(1, sizeof *c);
    char *in = malloc(INITIAL_INPUT);
    int on = 1; /* answers go out at once, not held back to be merged (Nagle's algorithm) */
    if (c == NULL || in == NULL || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on)) {
        fprintf(stderr, "%s: new connection: %s: %s\n", s->options.program,
                out_of_what(errno) ? out_of_what(errno) : "setsockopt", strerror(errno));
        free(c), free(in), close(fd);
        return;
    }
    *c = (struct conn){.server = s,
                       .fd = fd,
                       .state = READING,
                       .in = in,
                       .in_cap = INITIAL_INPUT,
                       .next = s->conns};
    inet_ntop(AF_INET, &address->sin_addr, c->client_ip, sizeof c->client_ip);
    snprintf(c->client, sizeof c->client, "%s:%d", c->client_ip, ntohs(address->sin_port));
    if (c->next)
        c->next->prev = c;
    s->conns = c;
    stats_connection_opened(&s->state.stats);
    c->deadline = ev_now(s->loop) + s->options.timeout;
    c->timeout_timer = ev_after(s->loop, s->options.timeout, on_timeout, c);
    if (c->timeout_timer == NULL) {
        conn_log(c, "ev_after: %s", strerror(errno));
        conn_close(c);
        return;
    }
    conn_watch(c, EV_READ);
}

static void on_resume_accept(struct ev_loop *loop, void *data)
{
    struct server *s = data;
    s->resume_timer = NULL;
    if (ev_watch(loop, s->listen_fd, EV_READ, on_accept, s) == -1)
        fprintf(stderr, "%s: ev_watch listening socket: %s\n", s->options.program, strerror(errno));
}

/* Out of descriptors (or memory): stop accepting for a moment. The pending connections stay
 * in the kernel's queue; watching the listening socket meanwhile would spin, since it stays
 * readable and every accept() fails again. */
static void pause_accept(struct server *s, int error)
{
    double now = ev_now(s->loop);
    if (now - s->last_pause_logged >= 1) {
        fprintf(stderr, "%s: accept: %s: %s; pausing new connections for %g s\n",
                s->options.program, strerror(error), out_of_what(error), ACCEPT_PAUSE_S);
        s->last_pause_logged = now;
    }
    s->resume_timer = ev_after(s->loop, ACCEPT_PAUSE_S, on_resume_accept, s);
    if (s->resume_timer != NULL)
        ev_unwatch(s->loop, s->listen_fd);
}

static void on_accept(struct ev_loop *loop, int fd, unsigned events, void *data)
{
    (void)loop, (void)events;
    struct server *s = data;
    for (int i = 0; i < ACCEPTS_PER_ROUND; i++) {
        struct sockaddr_in address;
        socklen_t length = sizeof address;
        int client =
            accept4(fd, (struct sockaddr *)&address, &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (client >= 0) {
            conn_open(s, client, &address);
        } else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            pause_accept(s, errno);
            return;
        } else if (errno != EINTR && errno != ECONNABORTED && errno != EPROTO) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                fprintf(stderr, "%s: accept: %s\n", s->options.program, strerror(errno));
            return;
        }
    }
}

struct server *server_create(struct ev_loop *loop, int listen_fd,
                             const struct server_options *options)
{
    struct server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->loop = loop;
    s->listen_fd = listen_fd;
    s->options = *options;
    s->last_pause_logged = -1e9;
    if (server_state_init(&s->state) == -1) {
        free(s);
        return NULL;
    }
    if (ev_watch(loop, listen_fd, EV_READ, on_accept, s) == -1) {
        int saved = errno;
        server_state_destroy(&s->state);
        free(s);
        errno = saved;
        return NULL;
    }
    return s;
}

struct server_stats *server_get_stats(struct server *server)
{
    return &server->state.stats;
}

void server_free(struct server *server)
{
    while (server->conns != NULL)
        conn_close(server->conns);
    ev_cancel(server->loop, server->resume_timer);
    ev_unwatch(server->loop, server->listen_fd);
    close(server->listen_fd);
    server_state_destroy(&server->state);
    free(server);
}
