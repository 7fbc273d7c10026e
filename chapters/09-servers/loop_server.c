/**
 * @file loop_server.c
 * @brief The kit's local HTTP server: one thread, one event loop, thousands of connections.
 *
 * What to look for: there is no thread per client and no call that blocks. Every connection is
 * a small struct with a state (reading its request, waiting on a /delay timer, writing the
 * answer, lingering before close) and chapter 08's loop calls back into it when its socket is
 * ready or its timer is due; each callback does what it can without waiting and returns. So
 * 500 clients each waiting on /delay/0.5 cost 500 timers, not 500 threads, and all finish in
 * about half a second. Run it, then try from another terminal:
 *
 *     loop_server --port 8080 &
 *     curl -s localhost:8080/json; curl -s localhost:8080/stats; kill %1
 *
 * Hard to break, on purpose (it is the fixture of every networked lesson and test): bad input
 * gets 400/414/431/505 and a log line; a client idle or stuck for --timeout seconds is closed
 * (408 if it was mid-request); a client that vanishes closes its own connection only; SIGPIPE
 * is ignored; running out of descriptors pauses accept() instead of spinning; SIGINT/SIGTERM
 * end it at once with status 0. The request parser (lib/http_parser.c) and the endpoints
 * (lib/endpoints.c) are shared with thread_server.c, the thread-per-connection design.
 *
 * With --port 0 it prints `listening on http://127.0.0.1:PORT` once it accepts; tests and
 * lessons read that line (harness/loopback/local_server.c does). With no --port or --port-file
 * it is a demo on a free port: a client of its own (lib/demo_client.c, a thread beside the
 * server's one) GETs a few paths, four of them at once, and then the server stops.
 *
 * Usage: loop_server [--port=N] [--port-file=PATH] [--timeout=S] [--duration=S] [--quiet]
 */
#define _GNU_SOURCE /* signalfd_siginfo */
#include "kit.h"

#include "../../harness/loopback/net.h"
#include "../08-event-loop/lib/event_loop.h"
#include "lib/connection.h"
#include "lib/demo_client.h"
#include "lib/server_setup.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h> /* struct signalfd_siginfo */
#include <unistd.h>

static const char usage[] =
    "Usage: loop_server [options]\n"
    "The kit's local HTTP server on 127.0.0.1: one thread, an event loop, every endpoint of\n"
    "chapter 09 (GET / lists them).\n"
    "  -p, --port=N          listen on port N, 0 for a free one; serve until SIGINT/SIGTERM\n"
    "      --port-file=PATH  also write the port to PATH once listening (implies serving)\n"
    "  -t, --timeout=S       close a connection idle or stuck for S seconds (default 10)\n"
    "  -d, --duration=S      stop after S seconds (default: never; the demo, without --port,\n"
    "                        stops when its client is done)\n"
    "  -q, --quiet           do not log bad requests and timed-out connections\n"
    "  -h, --help            show this help and exit\n";

/* SIGINT or SIGTERM arrived on the signalfd: stop the loop after this round. */
static void on_signal(struct ev_loop *loop, int fd, unsigned events, void *data)
{
    (void)events;
    struct signalfd_siginfo info;
    if (read(fd, &info, sizeof info) == (ssize_t)sizeof info)
        *(int *)data = (int)info.ssi_signo;
    ev_stop(loop);
}

/* --duration ran out. */
static void on_duration_over(struct ev_loop *loop, void *data)
{
    (void)data;
    ev_stop(loop);
}

/* The demo's client is done. */
static void on_demo_done(struct ev_loop *loop, int fd, unsigned events, void *data)
{
    (void)fd, (void)events, (void)data;
    ev_stop(loop);
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"port", required_argument, NULL, 'p'},
        {"port-file", required_argument, NULL, 'f'},
        {"timeout", required_argument, NULL, 't'},
        {"duration", required_argument, NULL, 'd'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct server_options config = {.timeout = 10, .quiet = false, .program = "loop_server"};
    long port = 0;
    const char *port_file = NULL;
    bool serve = false;
    double duration = -1;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "p:t:d:qh", options, NULL)) != -1;) {
        switch (opt) {
        case 'p':
            port = kit_parse_long("--port", optarg, 0, 65535);
            serve = true;
            break;
        case 'f':
            port_file = optarg;
            serve = true;
            break;
        case 't': config.timeout = kit_parse_double("--timeout", optarg, 0.05, 3600); break;
        case 'd': duration = kit_parse_double("--duration", optarg, 0.01, 1e6); break;
        case 'q': config.quiet = true; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    raise_open_files_limit(config.program, 10100); /* 10,000 clients and some spare */
    int stop_fd = stop_signals_fd();
    struct ev_loop *loop = ev_loop_create();
    if (loop == NULL)
        kit_die_errno("ev_loop_create");
    int bound_port;
    int listen_fd = listen_loopback((int)port, true, &bound_port);
    if (listen_fd == -1)
        kit_die_errno("listen on 127.0.0.1:%ld", port);
    struct server *server = server_create(loop, listen_fd, &config);
    if (server == NULL)
        kit_die_errno("server_create");
    int stopped_by = 0;
    if (ev_watch(loop, stop_fd, EV_READ, on_signal, &stopped_by) == -1)
        kit_die_errno("ev_watch signalfd");
    if (duration > 0 && ev_after(loop, duration, on_duration_over, NULL) == NULL)
        kit_die_errno("ev_after");

    announce_listening(bound_port, port_file);
    struct demo_client *demo = serve ? NULL : demo_client_start(config.program, bound_port);
    if (demo != NULL &&
        ev_watch(loop, demo_client_done_fd(demo), EV_READ, on_demo_done, NULL) == -1)
        kit_die_errno("ev_watch the demo's client");

    int loop_status = ev_run(loop);
    int loop_errno = errno;
    bool demo_done = demo != NULL && demo_client_done(demo);
    if (demo != NULL)
        ev_unwatch(loop, demo_client_done_fd(demo));
    struct server_stats *stats = server_get_stats(server);
    long served = atomic_load(&stats->requests), most = atomic_load(&stats->max_in_flight);
    server_free(server); /* closes every connection and the listening socket */
    ev_unwatch(loop, stop_fd);
    close(stop_fd);
    ev_loop_free(loop);
    if (loop_status == -1) {
        errno = loop_errno;
        kit_die_errno("the event loop failed (epoll_wait)");
    }
    if (stopped_by != 0 && !config.quiet)
        fprintf(stderr, "loop_server: %s: stopped after serving %ld requests\n",
                strsignal(stopped_by), served);
    return demo != NULL ? demo_client_finish(demo, demo_done, served, most) : 0;
}
