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
 * See also: loop_server.c (the server under test), thread_server.c (the other design).
 *
 * Usage: c10k_client [--connections=N] [--delays=N] [--delay=S] [--server=loop|thread]
 *                    [--url=http://127.0.0.1:PORT]
 */
#include "kit.h"

#include "lib/local_server.h"
#include "lib/net.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
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

static const double IO_TIMEOUT_S = 10; /* the longest any single read may wait */

/* GET @p path on a new connection to @p port; the response (head and body) into @p buf.
 * Returns the HTTP status, or -1 with errno set. */
static int http_get(int port, const char *path, char *buf, size_t size)
{
    int fd = connect_loopback(port);
    if (fd == -1)
        return -1;
    struct timeval timeout = {(time_t)IO_TIMEOUT_S, 0};
    char request[256];
    int len = snprintf(request, sizeof request,
                       "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    size_t got = 0;
    int status = -1;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) == 0 &&
        send_all(fd, request, (size_t)len) == 0) {
        ssize_t n;
        while (got < size - 1 && (n = recv(fd, buf + got, size - 1 - got, 0)) > 0)
            got += (size_t)n;
        buf[got] = '\0';
        if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
            errno = got ? EPROTO : (errno ? errno : ECONNRESET), status = -1;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return status;
}

/* One figure from /stats ("connections", "max_in_flight"), or -1. */
static long server_stat(int port, const char *name)
{
    char response[1024], key[64];
    if (http_get(port, "/stats", response, sizeof response) != 200)
        return -1;
    snprintf(key, sizeof key, "\"%s\": ", name);
    const char *at = strstr(response, key);
    return at ? strtol(at + strlen(key), NULL, 10) : -1;
}

/* Threads and resident memory of process @p pid, from /proc: "1 thread, 3.2 MB resident". */
static void describe_process(pid_t pid, char *text, size_t size)
{
    char path[64], line[256];
    long threads = -1, rss_kb = -1;
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *status = fopen(path, "r");
    while (status && fgets(line, sizeof line, status)) {
        sscanf(line, "Threads: %ld", &threads);
        sscanf(line, "VmRSS: %ld", &rss_kb);
    }
    if (status)
        fclose(status);
    snprintf(text, size, "%ld thread%s, %.1f MB resident", threads, threads == 1 ? "" : "s",
             rss_kb / 1024.0);
}

/* Open @p count connections to @p port into @p fds. Exits on failure, saying which one. */
static void open_connections(int port, int *fds, long count)
{
    for (long i = 0; i < count; i++) {
        fds[i] = connect_loopback(port);
        if (fds[i] == -1)
            kit_die_errno("connection %ld of %ld to 127.0.0.1:%d", i + 1, count, port);
    }
}

static void close_connections(int *fds, long count)
{
    for (long i = 0; i < count; i++)
        close(fds[i]);
}

/* Send GET /delay/S on every connection at once, then wait for every answer. Returns how
 * many came back 200; the time taken into @p seconds; whether every request was sent before
 * the first answer came back into @p all_sent_first (if not, they cannot all have been in
 * flight at once, whatever the server does). */
static long fire_delays(int *fds, long count, double delay, double *seconds, bool *all_sent_first)
{
    char request[128];
    int len =
        snprintf(request, sizeof request,
                 "GET /delay/%g HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", delay);
    struct pollfd *waiting = calloc((size_t)count, sizeof *waiting);
    if (waiting == NULL)
        kit_die_errno("calloc %ld pollfds", count);
    double start = kit_now();
    for (long i = 0; i < count; i++) {
        if (send_all(fds[i], request, (size_t)len) == -1)
            kit_die_errno("send /delay request %ld", i + 1);
        waiting[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    }
    double all_sent = kit_now(), first_answer = 0;
    long answered = 0, ok = 0;
    while (answered < count && kit_seconds_since(start) < delay + IO_TIMEOUT_S) {
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
            first_answer = answered == 0 ? kit_now() : first_answer;
            waiting[i].fd = -1; /* the first bytes hold the status: done with this one */
            answered++;
        }
    }
    *seconds = kit_seconds_since(start);
    *all_sent_first = answered == 0 || first_answer > all_sent;
    free(waiting);
    return ok;
}

/* "http://127.0.0.1:PORT" (or localhost), an optional trailing '/': the port, or a usage error. */
static int port_of_url(const char *url)
{
    int port, end = 0;
    if ((sscanf(url, "http://127.0.0.1:%d%n", &port, &end) != 1 &&
         sscanf(url, "http://localhost:%d%n", &port, &end) != 1) ||
        (url[end] != '\0' && strcmp(url + end, "/") != 0) || port <= 0 || port > 65535)
        kit_usage_error("--url: '%s' is not http://127.0.0.1:PORT (the kit stays on loopback)",
                        url);
    return port;
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

    kit_cli_init(usage);
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
    int port = url ? port_of_url(url) : 0;

    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) /* a server that drops us must not kill us */
        kit_die_errno("signal");
    raise_open_files_limit("c10k_client", connections + delays + 64);
    struct local_server server = {0};
    if (url == NULL) {
        if (local_server_start_program(&server, server_program, NULL) == -1)
            return 1;
        port = server.port;
        printf("started %s at %s\n", server_program, server.url);
    }
    int *fds = calloc((size_t)(connections + delays + 1), sizeof *fds);
    char response[1024], figures[128] = "";
    if (fds == NULL || http_get(port, "/stats/reset", response, sizeof response) != 200)
        kit_die_errno("GET /stats/reset from 127.0.0.1:%d", port);

    /* 1. Hold the idle connections, and wait (bounded) until the server has accepted them all. */
    double start = kit_now();
    open_connections(port, fds, connections);
    double opened_s = kit_seconds_since(start);
    long held = -1;
    while ((held = server_stat(port, "connections") - 1) != connections &&
           kit_seconds_since(start) < IO_TIMEOUT_S)
        kit_sleep(0.01);
    if (server.pid > 0)
        describe_process(server.pid, figures, sizeof figures);
    printf("1. opened %ld idle connections in %.2f s; the server holds %ld%s%s\n", connections,
           opened_s, held, figures[0] ? ": " : "", figures);

    /* 2. A newcomer, while they are all open. */
    start = kit_now();
    int status = http_get(port, "/json", response, sizeof response);
    double fresh_ms = kit_seconds_since(start) * 1000;
    printf("2. a new client got GET /json -> %d in %.2f ms\n", status, fresh_ms);

    /* 3. Slow requests, all at once, on connections of their own. */
    if (http_get(port, "/stats/reset", response, sizeof response) != 200)
        kit_die_errno("GET /stats/reset");
    open_connections(port, fds + connections, delays);
    double delays_s = 0;
    bool all_sent_first = true;
    long answered = fire_delays(fds + connections, delays, delay, &delays_s, &all_sent_first);
    long most = server_stat(port, "max_in_flight");
    printf("3. %ld x /delay/%g at once: %ld answered 200 in %.2f s (x%.2f the time of one; one "
           "after another would take %.0f s); the server saw %ld in flight at once\n",
           delays, delay, answered, delays_s, delay > 0 ? delays_s / delay : 0, delays * delay,
           most);

    if (!all_sent_first)
        printf("note: an answer came back before the last request was sent (%ld requests, "
               "/delay/%g): they were never all in flight at once; try a longer --delay\n",
               delays, delay);
    close_connections(fds, connections + delays);
    free(fds);
    local_server_stop(&server);
    const char *failed = held < connections  ? "the server did not hold every connection"
                         : status != 200     ? "the fresh request failed"
                         : answered < delays ? "some /delay requests failed"
                         : most != delays && all_sent_first
                             ? "/stats did not see them all in flight"
                             : NULL;
    if (failed) {
        printf("FAILED: %s\n", failed);
        return 1;
    }
    if (printf("OK: %ld connections held, a newcomer served in %.2f ms, %ld slow requests "
               "served together in %.2f s\n",
               connections, fresh_ms, delays, delays_s) < 0 ||
        fflush(stdout) == EOF)
        kit_die_errno("write to stdout");
    return 0;
}
