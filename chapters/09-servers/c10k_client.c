/**
 * @file c10k_client.c
 * @brief The C10K problem, measured: thousands of idle connections, a newcomer, many slow requests.
 *
 * What to look for: in 1999 Dan Kegel asked how a server could handle ten thousand clients at
 * once (the "C10K problem"). A thread per client costs a stack and a kernel task each; an event
 * loop costs a small struct. This client starts chapter 09's loop_server (or thread_server with
 * --server=thread, or uses --url), then:
 *
 * 1. opens --connections idle connections and checks, through /stats, that the server holds
 *    them all, and how many threads and how much memory that costs the server;
 * 2. times one fresh request (GET /json on a new connection) while they are all open: an event
 *    loop answers in well under a millisecond, because idle connections cost it nothing;
 * 3. fires --delays requests for /delay/S all at once and times them: one loop thread finishes
 *    them in about S seconds, not delays x S, and /stats shows them all in flight at once.
 *
 * It prints `OK: ...` when every step held, `FAILED: ...` with the step that did not.
 * Run `c10k_client --connections=10000` for the real thing, and `--server=thread` to see the
 * price of a thread per connection (a thread and its stack for every idle client).
 *
 * See also: loop_server.c (the server under test), thread_server.c (the other design),
 * harness/loopback/loopback_get.c (this client's HTTP: a plain blocking GET on loopback).
 *
 * Usage: c10k_client [--connections=N] [--delays=N] [--delay=S] [--server=loop|thread]
 *                    [--url=http://127.0.0.1:PORT]
 */
#include "kit.h"

#include "../../harness/loopback/local_server.h"
#include "../../harness/loopback/loopback_get.h"
#include "../../harness/loopback/net.h"
#include "../../harness/proc-figures/proc_figures.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] =
    "Usage: c10k_client [options]\n"
    "Hold many idle connections on the local server, time a fresh request, then fire many\n"
    "/delay requests at once: the C10K problem, measured.\n"
    "  -c, --connections=N  idle connections to open and hold (default 1000, up to 30000)\n"
    "  -n, --delays=N       /delay requests to fire at once afterwards (default 500)\n"
    "  -s, --delay=S        seconds each of them waits on the server (default 0.5)\n"
    "      --server=NAME    start loop_server (loop, the default) or thread_server (thread)\n"
    "  -u, --url=URL        use the server already running at http://127.0.0.1:PORT\n"
    "  -h, --help           show this help and exit\n";

static const double WAIT_LIMIT_S = 10; /* the longest the server may take to catch up */

/* Open @p count connections to @p port into @p fds. Exits on failure, saying which one. */
static void open_connections(int port, int *fds, long count)
{
    for (long i = 0; i < count; i++) {
        fds[i] = connect_loopback(port);
        const char *out_of = fds[i] == -1 ? out_of_what(errno) : NULL;
        if (fds[i] == -1)
            kit_die_errno("connection %ld of %ld to 127.0.0.1:%d%s%s", i + 1, count, port,
                          out_of ? ": " : "", out_of ? out_of : "");
    }
}

/* Zero the server's counters, or exit saying why not. */
static void reset_stats(int port)
{
    char response[1024];
    int status = loopback_get(port, "/stats/reset", response, sizeof response);
    if (status == -1)
        kit_die_errno("GET /stats/reset from 127.0.0.1:%d", port);
    if (status != 200)
        kit_die("GET /stats/reset from 127.0.0.1:%d: HTTP %d", port, status);
}

/* 1. Hold @p count idle connections; wait (bounded) until the server has accepted them all.
 * Returns how many the server holds, or -1 if it did not answer /stats. */
static long hold_idle_connections(int port, int *fds, long count, pid_t server_pid)
{
    double start = kit_now();
    open_connections(port, fds, count);
    double opened_s = kit_seconds_since(start);
    long open_now; /* /stats counts its own connection too */
    while ((open_now = loopback_stat(port, "/stats", "connections")) != count + 1 &&
           open_now >= 0 && kit_seconds_since(start) < WAIT_LIMIT_S)
        kit_sleep(0.01);
    char cost[128] = ""; /* what holding them costs a server this program started */
    if (server_pid > 0) {
        char status[64];
        snprintf(status, sizeof status, "/proc/%ld/status", (long)server_pid);
        long threads = (long)proc_number(status, "Threads:");
        snprintf(cost, sizeof cost, ": %ld thread%s, %.1f MB resident", threads,
                 threads == 1 ? "" : "s", proc_number(status, "VmRSS:") / 1024);
    }
    char held[64] = "the server did not answer GET /stats";
    if (open_now >= 0)
        snprintf(held, sizeof held, "the server holds %ld", open_now - 1);
    printf("1. opened %ld idle connections in %.2f s; %s%s\n", count, opened_s, held, cost);
    return open_now < 0 ? -1 : open_now - 1;
}

/* 3. Send GET /delay/S on @p count connections of their own at once, then wait for every
 * answer. Prints the step's line; the time they took into @p seconds. Returns what failed, or
 * NULL. /stats must have seen them all in flight at once, unless they cannot have been: when
 * an answer came back before the last request was sent, or the answers came back spread over
 * more than half the delay (the server did not start them all within one delay: a busy
 * machine, or a thread created per connection, one after another). A note says which. */
static const char *slow_requests(int port, int *fds, long count, double delay, double *seconds)
{
    char request[128];
    int len =
        snprintf(request, sizeof request,
                 "GET /delay/%g HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", delay);
    struct pollfd *waiting = calloc((size_t)count, sizeof *waiting);
    if (waiting == NULL)
        kit_die_errno("calloc %ld pollfds", count);
    reset_stats(port);
    open_connections(port, fds, count);
    double start = kit_now();
    for (long i = 0; i < count; i++) {
        if (send_all(fds[i], request, (size_t)len) == -1)
            kit_die_errno("send /delay request %ld", i + 1);
        waiting[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    }
    double all_sent = kit_now(), first_answer = 0, last_answer = 0;
    long answered = 0, ok = 0;
    while (answered < count && kit_seconds_since(start) < delay + WAIT_LIMIT_S) {
        int ready = poll(waiting, (nfds_t)count, 100);
        if (ready == -1 && errno != EINTR)
            kit_die_errno("poll");
        for (long i = 0; i < count && ready > 0; i++) {
            if (waiting[i].revents == 0)
                continue;
            char head[512];
            ssize_t got = recv(waiting[i].fd, head, sizeof head - 1, 0);
            head[got > 0 ? got : 0] = '\0';
            ok += strncmp(head, "HTTP/1.1 200", 12) == 0;
            last_answer = kit_now();
            first_answer = answered++ == 0 ? last_answer : first_answer;
            waiting[i].fd = -1; /* the first bytes hold the status: done with this one */
        }
    }
    *seconds = kit_seconds_since(start);
    free(waiting);
    long most = loopback_stat(port, "/stats", "max_in_flight");
    printf("3. %ld x /delay/%g at once: %ld answered 200 in %.2f s (x%.2f the time of one; one "
           "after another would take %.0f s); the server saw %ld in flight at once\n",
           count, delay, ok, *seconds, delay > 0 ? *seconds / delay : 0, count * delay, most);
    bool sent_first = answered == 0 || first_answer > all_sent;
    bool together = sent_first && last_answer - first_answer < delay / 2;
    if (!sent_first)
        printf("note: an answer came back before the last request was sent (%ld requests, "
               "/delay/%g): they were never all in flight at once; try a longer --delay\n",
               count, delay);
    else if (!together)
        printf("note: the answers came back over %.2f s, more than half of /delay/%g: the server "
               "did not start all %ld within one delay (a busy machine, or a thread created per "
               "connection), so they were never all in flight at once; try a longer --delay\n",
               last_answer - first_answer, delay, count);
    if (ok < count)
        return "some /delay requests failed";
    return most != count && together ? "/stats did not see them all in flight" : NULL;
}

/* Start @p program, with room for @p connections if it is thread_server. Exits on failure. */
static void start_server(struct local_server *server, const char *program, long connections)
{
    char max_threads[64]; /* thread_server: a thread for every connection this run makes */
    snprintf(max_threads, sizeof max_threads, "--max-threads=%ld", connections + 16);
    const char *const thread_args[] = {max_threads, NULL};
    bool threaded = strcmp(program, "thread_server") == 0;
    if (local_server_start_program(server, program, threaded ? thread_args : NULL) == -1)
        exit(1); /* local_server_start_program() said why */
    printf("started %s at %s\n", program, server->url);
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"connections", required_argument, NULL, 'c'},
        {"delays", required_argument, NULL, 'n'},
        {"delay", required_argument, NULL, 's'},
        {"server", required_argument, NULL, 'S'},
        {"url", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long connections = 1000, delays = 500;
    double delay = 0.5;
    const char *server_program = "loop_server", *url = NULL;

    kit_cli_init(usage); /* also: stdout line by line, SIGPIPE ignored, stdout checked at exit */
    for (int opt; (opt = getopt_long(argc, argv, "c:n:s:u:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'c': connections = kit_parse_long("--connections", optarg, 0, 30000); break;
        case 'n': delays = kit_parse_long("--delays", optarg, 0, 10000); break;
        case 's': delay = kit_parse_double("--delay", optarg, 0, 10); break;
        case 'S':
            if (strcmp(optarg, "loop") != 0 && strcmp(optarg, "thread") != 0)
                kit_usage_error("--server: '%s' is neither loop nor thread", optarg);
            server_program = strcmp(optarg, "loop") == 0 ? "loop_server" : "thread_server";
            break;
        case 'u': url = optarg; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    int port = url ? loopback_port_of_url(url) : 0;
    if (port == -1)
        kit_usage_error("--url: '%s' is not http://127.0.0.1:PORT (the kit stays on loopback)",
                        url);

    raise_open_files_limit("c10k_client", connections + delays + 64);
    struct local_server server = {0};
    if (url == NULL) {
        start_server(&server, server_program, connections + delays);
        port = server.port;
    }
    int *fds = calloc((size_t)(connections + delays + 1), sizeof *fds);
    if (fds == NULL)
        kit_die_errno("calloc %ld descriptors", connections + delays);
    reset_stats(port);
    long held = hold_idle_connections(port, fds, connections, server.pid);

    /* 2. A newcomer, while they are all open. */
    char response[1024];
    double start = kit_now();
    int status = loopback_get(port, "/json", response, sizeof response);
    double fresh_ms = kit_seconds_since(start) * 1000;
    printf("2. a new client got GET /json -> %d in %.2f ms\n", status, fresh_ms);

    double delays_s = 0;
    const char *slow_failed = slow_requests(port, fds + connections, delays, delay, &delays_s);

    for (long i = 0; i < connections + delays; i++)
        close(fds[i]);
    free(fds);
    local_server_stop(&server);
    const char *failed = held < connections ? "the server did not hold every connection (a "
                                              "server out of descriptors or threads says so)"
                         : status != 200    ? "the fresh request failed"
                                            : slow_failed;
    if (failed) {
        printf("FAILED: %s\n", failed);
        return 1;
    }
    printf("OK: %ld connections held, a newcomer served in %.2f ms, %ld slow requests served "
           "together in %.2f s\n",
           connections, fresh_ms, delays, delays_s);
    return 0;
}
