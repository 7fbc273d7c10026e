/**
 * @file thread_server.c
 * @brief The other design: a thread per connection, blocking calls, the same endpoints.
 *
 * What to look for: serve_client() reads like a recipe, read the request, route it, sleep for
 * /delay, write the answer, and that is the appeal of threads: blocking code, top to bottom,
 * and the kernel switches between clients. The price is one thread (a kernel task and a
 * stack, 256 KiB reserved here) for every connection, busy or idle. Put it next to
 * loop_server under load and compare (the chapter's README has figures):
 *
 *     c10k_client --server=thread --connections=1000   # 1001 threads held by idle clients
 *     c10k_client --server=loop   --connections=1000   # 1 thread
 *
 * It shares the parser (lib/http_parser.c), the endpoints (lib/endpoints.c) and the /stats
 * counters (atomics, lib/server_stats.c) with loop_server, so the two differ only in how they
 * wait. Shutdown is the hard part with threads: on SIGINT/SIGTERM the main thread shuts down
 * every client socket (a blocked recv() returns at once) and wakes every /delay sleeper, then
 * waits (at most a second) for the threads to leave.
 *
 * With no --port or --port-file it is a demo: it listens on a free port for --duration seconds.
 *
 * Usage: thread_server [--port=N] [--port-file=PATH] [--timeout=S] [--duration=S]
 *                      [--max-threads=N] [--quiet]
 */
#define _GNU_SOURCE /* accept4, signalfd */
#include "kit.h"

#include "lib/endpoints.h"
#include "lib/net.h"
#include "lib/server_setup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

static const char usage[] =
    "Usage: thread_server [options]\n"
    "The local server's endpoints on 127.0.0.1 with a thread per connection.\n"
    "  -p, --port=N          listen on port N, 0 for a free one; serve until SIGINT/SIGTERM\n"
    "      --port-file=PATH  also write the port to PATH once listening (implies serving)\n"
    "  -t, --timeout=S       close a connection idle or stuck for S seconds (default 10)\n"
    "  -d, --duration=S      stop after S seconds (default: 2 without --port, else never)\n"
    "  -m, --max-threads=N   most connections at once; more get 503 (default 10000)\n"
    "  -q, --quiet           do not log bad requests and timed-out connections\n"
    "  -h, --help            show this help and exit\n";

enum { STACK_SIZE = 256 * 1024 };

/* One client's thread. */
struct client {
    int fd;
    char name[32]; /* "127.0.0.1:54321" for log lines */
    char ip[INET_ADDRSTRLEN];
    struct client *prev, *next;
};

/* What every thread shares. */
static struct server_state state;
static double timeout_s = 10;
static bool quiet;
static pthread_mutex_t clients_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t clients_changed = PTHREAD_COND_INITIALIZER; /* a client left, or stop */
static struct client *clients; /* guarded by clients_lock, like the two below */
static long client_count;
static bool stopping;

static void client_log(const struct client *c, const char *what, const char *why)
{
    if (!quiet)
        fprintf(stderr, "thread_server: %s: %s%s%s\n", c->name, what, why ? ": " : "",
                why ? why : "");
}

/* Wait @p seconds, or less if the server is stopping. The wait is on the same condition
 * variable as shutdown, so a /delay sleeper never holds up the exit. */
static void delay_unless_stopping(double seconds)
{
    struct timespec deadline = kit_deadline(CLOCK_REALTIME, seconds);
    KIT_CHECK_EN(pthread_mutex_lock(&clients_lock));
    int en = 0;
    while (!stopping && en != ETIMEDOUT)
        en = pthread_cond_timedwait(&clients_changed, &clients_lock, &deadline);
    KIT_CHECK_EN(pthread_mutex_unlock(&clients_lock));
}

/* /stall: hold the connection until the client (or shutdown) closes it. */
static void stall(int fd)
{
    char scratch[1024];
    ssize_t got;
    while ((got = recv(fd, scratch, sizeof scratch, 0)) > 0 ||
           (got == -1 && (errno == EAGAIN || errno == EINTR)))
        ;
}

/* Send the head and body of @p response together, with one sendmsg() while it all fits: two
 * separate small writes would meet Nagle's algorithm and the client's delayed ACK, and each
 * response would wait some 40 ms for nothing. */
static int send_response(int fd, const struct http_response *response, bool keep_alive,
                         int version_minor)
{
    char head[HTTP_RESPONSE_HEAD_MAX];
    size_t head_len = http_render_head(response, keep_alive, version_minor, head);
    size_t body_len = http_body_to_send(response), sent = 0;
    while (sent < head_len + body_len) {
        struct iovec parts[2];
        int count = 0;
        if (sent < head_len)
            parts[count++] = (struct iovec){head + sent, head_len - sent};
        size_t body_sent = sent > head_len ? sent - head_len : 0;
        if (body_len > body_sent)
            parts[count++] =
                (struct iovec){(char *)response->body + body_sent, body_len - body_sent};
        struct msghdr message = {.msg_iov = parts, .msg_iovlen = (size_t)count};
        ssize_t n = sendmsg(fd, &message, MSG_NOSIGNAL);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            return -1; /* EAGAIN here is SO_SNDTIMEO: the client stopped reading */
        sent += (size_t)n;
    }
    return 0;
}

/* Answer one parsed request. Returns true if the connection stays open for another. */
static bool answer(struct client *c, const struct http_request *request)
{
    struct http_response response;
    if (route_request(&state, request, c->ip, &response) == -1)
        client_log(c, "500", strerror(errno));
    bool keep_alive = request->keep_alive && !response.close;
    if (response.counted)
        stats_request_enters(&state.stats);
    if (response.stall)
        stall(c->fd);
    else if (response.delayed)
        delay_unless_stopping(response.delay_seconds);
    bool sent =
        !response.stall && send_response(c->fd, &response, keep_alive, request->version_minor) == 0;
    if (!sent && !response.stall)
        client_log(c, "client gone mid-response", strerror(errno));
    if (response.counted)
        stats_request_leaves(&state.stats, sent);
    http_response_free(&response);
    return sent && keep_alive;
}

/* Send an error answer for a request that will never parse (the connection closes after). */
static void reject(struct client *c, int status, const char *reason)
{
    client_log(c, reason, NULL);
    struct http_response response = {0};
    error_response(&response, status, reason);
    send_response(c->fd, &response, false, 1);
    http_response_free(&response);
}

/* The whole life of one connection, blocking all the way: read, parse, answer, repeat. */
static void serve_client(struct client *c)
{
    char in[HTTP_MAX_HEAD];
    size_t in_len = 0;
    for (;;) {
        struct http_request request;
        enum http_parse_result result = http_parse_request(in, in_len, &request);
        if (result == HTTP_ERROR) {
            reject(c, request.error_status, request.error_reason);
            return;
        }
        if (result == HTTP_COMPLETE) {
            if (!answer(c, &request))
                return;
            in_len -= request.head_len;
            memmove(in, in + request.head_len, in_len);
            continue;
        }
        ssize_t got = recv(c->fd, in + in_len, sizeof in - in_len, 0);
        if (got > 0) {
            in_len += (size_t)got;
        } else if (got == -1 && errno == EINTR) {
            continue;
        } else if (got == -1 && (errno == EAGAIN || errno == EWOULDBLOCK) && in_len > 0) {
            reject(c, 408, "timed out waiting for the rest of the request");
            return;
        } else {
            if (in_len > 0)
                client_log(c, "client closed mid-request", got ? strerror(errno) : NULL);
            return; /* end of file, an idle timeout, or shutdown */
        }
    }
}

/* Close gently: shut our side, then read what the client still sends until it closes too,
 * for at most about a second. Closing with unread bytes would send a reset, which can destroy
 * the answer (a 414, say) before the client has read it. */
static void linger(int fd)
{
    static const struct timeval linger_limit = {0, 200 * 1000};
    char scratch[4096];
    double start = kit_now();
    if (shutdown(fd, SHUT_WR) == 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &linger_limit, sizeof linger_limit) == 0)
        while (recv(fd, scratch, sizeof scratch, 0) > 0 && kit_seconds_since(start) < 1)
            ;
}

static void *client_thread(void *arg)
{
    struct client *c = arg;
    serve_client(c);
    linger(c->fd);
    KIT_CHECK_EN(pthread_mutex_lock(&clients_lock));
    *(c->prev ? &c->prev->next : &clients) = c->next;
    if (c->next)
        c->next->prev = c->prev;
    client_count--;
    close(c->fd); /* under the lock: shutdown_clients() never touches a reused fd number */
    KIT_CHECK_EN(pthread_cond_broadcast(&clients_changed));
    KIT_CHECK_EN(pthread_mutex_unlock(&clients_lock));
    stats_connection_closed(&state.stats);
    free(c);
    return NULL;
}

/* A new connection gets a thread of its own, or a 503 when there are too many. */
static void start_client(int fd, const struct sockaddr_in *address, long max_threads,
                         const pthread_attr_t *attr)
{
    struct timeval limit = {(time_t)timeout_s,
                            (suseconds_t)((timeout_s - (time_t)timeout_s) * 1e6)};
    struct client *c = calloc(1, sizeof *c);
    if (c == NULL || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) == -1) {
        fprintf(stderr, "thread_server: new connection: %s\n", strerror(errno));
        free(c), close(fd);
        return;
    }
    c->fd = fd;
    inet_ntop(AF_INET, &address->sin_addr, c->ip, sizeof c->ip);
    snprintf(c->name, sizeof c->name, "%s:%d", c->ip, ntohs(address->sin_port));
    stats_connection_opened(&state.stats);
    KIT_CHECK_EN(pthread_mutex_lock(&clients_lock));
    pthread_t thread;
    int en = client_count < max_threads ? pthread_create(&thread, attr, client_thread, c) : EAGAIN;
    if (en == 0) {
        c->next = clients;
        if (clients)
            clients->prev = c;
        clients = c;
        client_count++;
    }
    KIT_CHECK_EN(pthread_mutex_unlock(&clients_lock));
    if (en != 0) {
        client_log(c, "no thread for this client", strerror(en));
        reject(c, 503, "too many connections");
        linger(fd);
        close(fd);
        stats_connection_closed(&state.stats);
        free(c);
    }
}

/* Wake every thread (sockets shut down, sleepers signalled) and wait up to @p seconds. */
static long stop_clients(double seconds)
{
    struct timespec deadline = kit_deadline(CLOCK_REALTIME, seconds);
    KIT_CHECK_EN(pthread_mutex_lock(&clients_lock));
    stopping = true;
    for (struct client *c = clients; c; c = c->next)
        shutdown(c->fd, SHUT_RDWR);
    KIT_CHECK_EN(pthread_cond_broadcast(&clients_changed));
    int en = 0;
    while (client_count > 0 && en != ETIMEDOUT)
        en = pthread_cond_timedwait(&clients_changed, &clients_lock, &deadline);
    long left = client_count;
    KIT_CHECK_EN(pthread_mutex_unlock(&clients_lock));
    return left;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"port", required_argument, NULL, 'p'},
        {"port-file", required_argument, NULL, 'f'},
        {"timeout", required_argument, NULL, 't'},
        {"duration", required_argument, NULL, 'd'},
        {"max-threads", required_argument, NULL, 'm'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long port = 0, max_threads = 10000;
    const char *port_file = NULL;
    double duration = -1;
    bool serve = false;
    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "p:t:d:m:qh", options, NULL)) != -1;) {
        switch (opt) {
        case 'p':
            port = kit_parse_long("--port", optarg, 0, 65535);
            serve = true;
            break;
        case 'f':
            port_file = optarg;
            serve = true;
            break;
        case 't': timeout_s = kit_parse_double("--timeout", optarg, 0.05, 3600); break;
        case 'd': duration = kit_parse_double("--duration", optarg, 0.01, 1e6); break;
        case 'm': max_threads = kit_parse_long("--max-threads", optarg, 1, 100000); break;
        case 'q': quiet = true; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (duration < 0 && !serve)
        duration = 2;

    raise_open_files_limit("thread_server", max_threads + 100);
    int stop_fd = stop_signals_fd();
    if (server_state_init(&state) == -1)
        kit_die_errno("server_state_init");
    pthread_attr_t attr;
    KIT_CHECK_EN(pthread_attr_init(&attr));
    KIT_CHECK_EN(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
    KIT_CHECK_EN(pthread_attr_setstacksize(&attr, STACK_SIZE));
    int bound_port;
    int listen_fd = listen_loopback((int)port, false, &bound_port);
    if (listen_fd == -1)
        kit_die_errno("listen on 127.0.0.1:%ld", port);
    if (port_file != NULL)
        write_port_file(port_file, bound_port);
    if (printf("listening on http://127.0.0.1:%d\n", bound_port) < 0 ||
        (!serve && printf("demo: serving for %g s; for a server that stays, run `thread_server "
                          "--port 8080` and `curl localhost:8080/json`\n",
                          duration) < 0) ||
        fflush(stdout) == EOF)
        kit_die_errno("write to stdout");

    /* The main thread only accepts: poll the listening socket and the signalfd. */
    double start = kit_now();
    for (;;) {
        double left = duration < 0 ? -1 : duration - kit_seconds_since(start);
        if (duration >= 0 && left <= 0)
            break;
        struct pollfd watched[2] = {{.fd = listen_fd, .events = POLLIN},
                                    {.fd = stop_fd, .events = POLLIN}};
        int ready = poll(watched, 2, left < 0 ? -1 : (int)(left * 1000) + 1);
        if (ready == -1 && errno != EINTR)
            kit_die_errno("poll");
        if (ready > 0 && watched[1].revents)
            break;
        if (ready <= 0 || !watched[0].revents)
            continue;
        struct sockaddr_in address;
        socklen_t length = sizeof address;
        int fd = accept4(listen_fd, (struct sockaddr *)&address, &length, SOCK_CLOEXEC);
        if (fd >= 0)
            start_client(fd, &address, max_threads, &attr);
        else if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS)
            kit_sleep(0.1); /* out of descriptors: let some clients leave first */
        else if (errno != EINTR && errno != ECONNABORTED && errno != EPROTO)
            fprintf(stderr, "thread_server: accept: %s\n", strerror(errno));
    }
    close(listen_fd);
    long left = stop_clients(1.0);
    long served = atomic_load(&state.stats.requests),
         most = atomic_load(&state.stats.max_in_flight);
    if (left > 0) { /* they are detached: exit() ends them; their memory goes with the process */
        fprintf(stderr, "thread_server: %ld threads still busy 1 s after the stop\n", left);
    } else {
        KIT_CHECK_EN(pthread_attr_destroy(&attr));
        server_state_destroy(&state);
    }
    close(stop_fd);
    if (serve && !quiet)
        fprintf(stderr, "thread_server: stopped after serving %ld requests\n", served);
    if (!serve && printf("OK: served %ld requests in %g s, at most %ld at once; give --port to "
                         "serve until Ctrl-C\n",
                         served, duration, most) < 0)
        kit_die_errno("write to stdout");
    return 0;
}
