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
 * wait. The blocking calls are lib/blocking_io.c: timeouts on every call, a whole response
 * sent, a gentle close. Shutdown is the hard part with threads, and lib/client_threads.c does
 * it: on SIGINT/SIGTERM it shuts down every client socket (a blocked recv() returns at once),
 * wakes every /delay sleeper, then waits (at most a second) for the threads to leave.
 *
 * With no --port or --port-file it is a demo on a free port: a client of its own
 * (lib/demo_client.c) GETs a few paths, four of them at once, and then the server stops.
 *
 * Usage: thread_server [--port=N] [--port-file=PATH] [--timeout=S] [--duration=S]
 *                      [--max-threads=N] [--quiet]
 */
#define _GNU_SOURCE /* accept4 */
#include "kit.h"

#include "../../harness/loopback/net.h"
#include "lib/blocking_io.h"
#include "lib/client_threads.h"
#include "lib/demo_client.h"
#include "lib/endpoints.h"
#include "lib/server_setup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] =
    "Usage: thread_server [options]\n"
    "The local server's endpoints on 127.0.0.1 with a thread per connection.\n"
    "  -p, --port=N          listen on port N, 0 for a free one; serve until SIGINT/SIGTERM\n"
    "      --port-file=PATH  also write the port to PATH once listening (implies serving)\n"
    "  -t, --timeout=S       close a connection idle or stuck for S seconds (default 10)\n"
    "  -d, --duration=S      stop after S seconds (default: never; the demo, without --port,\n"
    "                        stops when its client is done)\n"
    "  -m, --max-threads=N   most connections at once; more get 503 (default 10000)\n"
    "  -q, --quiet           do not log bad requests and timed-out connections\n"
    "  -h, --help            show this help and exit\n";

enum { STACK_SIZE = 256 * 1024 };

/* One client's connection, served by a thread of its own. */
struct client {
    int fd;
    char name[32]; /* "127.0.0.1:54321" for log lines */
    char ip[INET_ADDRSTRLEN];
};

/* What every thread shares: the endpoints' state (/stats counters, /flaky ids), the threads. */
static struct server_state state;
static struct client_threads *threads;
static double timeout_s = 10;
static bool quiet;

static void client_log(const struct client *c, const char *what, const char *why)
{
    if (!quiet)
        fprintf(stderr, "thread_server: %s: %s%s%s\n", c->name, what, why ? ": " : "",
                why ? why : "");
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
        stall_until_closed(c->fd);
    else if (response.delayed)
        client_threads_sleep(threads, response.delay_seconds); /* cut short by a stop */
    bool sent = !response.stall &&
                send_whole_response(c->fd, &response, keep_alive, request->version_minor) == 0;
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
    send_whole_response(c->fd, &response, false, 1);
    http_response_free(&response);
}

/* The whole life of one connection, blocking all the way: read, parse, answer, repeat. */
static void serve_client(struct client *c)
{
    char in[HTTP_MAX_HEAD];
    size_t in_len = 0;
    double deadline = kit_now() + timeout_s; /* for the whole head, however slowly it comes */
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
            deadline = kit_now() + timeout_s;
            continue;
        }
        ssize_t got = recv_before(c->fd, in + in_len, sizeof in - in_len, deadline);
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

/* What a client's thread runs (lib/client_threads.c closes the socket after). */
static void run_client(int fd, void *data)
{
    struct client *c = data;
    serve_client(c);
    linger_before_close(fd);
    stats_connection_closed(&state.stats);
    free(c);
}

/* A new connection gets a thread of its own, or a 503 when there are too many. */
static void start_client(int fd, const struct sockaddr_in *address)
{
    struct client *c = calloc(1, sizeof *c);
    if (c == NULL || set_socket_timeouts(fd, timeout_s) == -1) {
        fprintf(stderr, "thread_server: new connection: %s\n", strerror(errno));
        free(c), close(fd);
        return;
    }
    c->fd = fd;
    inet_ntop(AF_INET, &address->sin_addr, c->ip, sizeof c->ip);
    snprintf(c->name, sizeof c->name, "%s:%d", c->ip, ntohs(address->sin_port));
    stats_connection_opened(&state.stats);
    int en = client_threads_start(threads, fd, run_client, c);
    if (en != 0) {
        client_log(c,
                   en == EAGAIN ? "no thread for this client: out of threads (--max-threads, or "
                                  "the system's: ulimit -u, kernel.threads-max, memory for stacks)"
                                : "no thread for this client",
                   strerror(en));
        reject(c, 503, "too many connections");
        linger_before_close(fd);
        close(fd);
        stats_connection_closed(&state.stats);
        free(c);
    }
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

    raise_open_files_limit("thread_server", max_threads + 100);
    int stop_fd = stop_signals_fd();
    if (server_state_init(&state) == -1)
        kit_die_errno("server_state_init");
    threads = client_threads_create(max_threads, STACK_SIZE);
    if (threads == NULL)
        kit_die_errno("client_threads_create");
    int bound_port;
    int listen_fd = listen_loopback((int)port, false, &bound_port);
    if (listen_fd == -1)
        kit_die_errno("listen on 127.0.0.1:%ld", port);
    announce_listening(bound_port, port_file);
    struct demo_client *demo = serve ? NULL : demo_client_start("thread_server", bound_port);

    /* The main thread only accepts; each connection gets a thread of its own (start_client). */
    accept_until_stopped(listen_fd, stop_fd, demo ? demo_client_done_fd(demo) : -1, duration,
                         start_client);
    bool demo_done = demo != NULL && demo_client_done(demo);
    close(listen_fd);
    long left = client_threads_stop(threads, 1.0);
    long served = atomic_load(&state.stats.requests),
         most = atomic_load(&state.stats.max_in_flight);
    if (left > 0) { /* they are detached: exit() ends them; their memory goes with the process */
        fprintf(stderr, "thread_server: %ld threads still busy 1 s after the stop\n", left);
    } else {
        client_threads_free(threads);
        server_state_destroy(&state);
    }
    close(stop_fd);
    if (serve && !quiet)
        fprintf(stderr, "thread_server: stopped after serving %ld requests\n", served);
    return demo != NULL ? demo_client_finish(demo, demo_done, served, most) : 0;
}
