/**
 * @file fetch_async.c
 * @brief Every transfer in one thread: libcurl's multi_socket interface on chapter 08's epoll loop.
 *
 * What to look for: all the transfers start at once and overlap, like `asyncio.gather()` of
 * aiohttp requests, yet there is one thread. 1,000 requests to /delay/0.5 take about 0.5 s of
 * wall time and a small fraction of a second of CPU time; `-n 5000` works too. Compare the
 * summary's peak memory with fetch_threads.c, which pays a thread per concurrent transfer.
 *
 * How: curl does the HTTP, the event loop does the waiting. curl tells us, through two
 * callbacks, what it waits for:
 * - CURLMOPT_SOCKETFUNCTION, on_curl_socket(): "watch this socket for reading/writing", or
 *   "forget it" (CURL_POLL_REMOVE). We pass that on to ev_watch() / ev_unwatch().
 * - CURLMOPT_TIMERFUNCTION, on_curl_timer(): "call me back in N ms" (a timeout, a retry of a
 *   connect, or 0: start the transfers just added). One ev_after() timer, replaced each time.
 * When the loop sees a socket ready or the timer due, it tells curl with
 * curl_multi_socket_action(), and curl moves on the transfers concerned, and only those; then
 * curl_multi_info_read() says which transfers ended. This is curl's docs/examples/ephiperfifo.c
 * on the kit's own loop. Nothing here calls select() (limited to FD_SETSIZE = 1024 descriptors)
 * or even poll() on every socket: epoll scales to thousands, which is why curl offers this API.
 *
 * With no URL, it starts the kit's local server (chapter 09) and fetches /delay/0.2 ten times.
 * See also fetch_limited.c: the simpler multi loop, with at most K in flight.
 *
 * Usage: fetch_async [-n N] [-t SECONDS] [-q] [URL...]
 */
#include "../08-event-loop/lib/event_loop.h"
#include "kit.h"
#include "lib/fetch.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static const char usage[] =
    "Usage: fetch_async [options] [URL...]\n"
    "Fetch all URLs at once in one thread: libcurl's multi_socket API on an epoll loop.\n"
    "With no URL, start the local server and fetch its /delay/0.2.\n"
    "  -n, --repeat=N        fetch each URL N times (default 1; 10 with no URL; at most 20000)\n"
    "  -t, --timeout=SECONDS give up on a transfer after this long (default 5)\n"
    "  -q, --quiet           print a line only for transfers that failed\n"
    "  -h, --help            show this help and exit\n"
    "Exit status: 0 if every transfer succeeded, 1 if any failed, 2 on a usage error.\n";

/* What the callbacks share: the multi handle, the loop, curl's one timer, the progress. */
struct async {
    CURLM *multi;
    struct ev_loop *loop;
    struct ev_timer *timer; /* curl's pending timeout, or NULL */
    size_t finished, count;
    bool quiet;
};

/* Ask curl for the transfers that ended; record, print, remove and free each one. */
static void collect_finished(struct async *async)
{
    int left;
    for (CURLMsg *msg; (msg = curl_multi_info_read(async->multi, &left)) != NULL;) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result; /* read before remove: msg is freed with the handle */
        struct fetch_result *result;
        FETCH_CHECK_EASY(curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&result));
        fetch_record(easy, result, code);
        FETCH_CHECK_MULTI(curl_multi_remove_handle(async->multi, easy));
        curl_easy_cleanup(easy);
        fetch_print(result, async->quiet);
        if (++async->finished == async->count) {
            if (async->timer != NULL) /* nothing left to time out */
                ev_cancel(async->loop, async->timer);
            async->timer = NULL;
            ev_stop(async->loop); /* idle kept-alive connections would keep the loop going */
        }
    }
}

/* The loop says: fd is ready. Tell curl, which moves on the transfer(s) on that socket. */
static void on_socket_ready(struct ev_loop *loop, int fd, unsigned events, void *data)
{
    (void)loop;
    struct async *async = data;
    int flags = (events & EV_READ ? CURL_CSELECT_IN : 0) |
                (events & EV_WRITE ? CURL_CSELECT_OUT : 0) |
                (events & EV_ERROR ? CURL_CSELECT_ERR : 0);
    int running;
    FETCH_CHECK_MULTI(curl_multi_socket_action(async->multi, fd, flags, &running));
    collect_finished(async);
}

/* curl's timer is due: let curl handle its timeouts (and start newly added transfers). */
static void on_timeout(struct ev_loop *loop, void *data)
{
    (void)loop;
    struct async *async = data;
    async->timer = NULL; /* gone once its callback starts; curl may set a new one just below */
    int running;
    FETCH_CHECK_MULTI(curl_multi_socket_action(async->multi, CURL_SOCKET_TIMEOUT, 0, &running));
    collect_finished(async);
}

/* CURLMOPT_SOCKETFUNCTION: curl says what to wait for on one of its sockets. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy, (void)socketp;
    struct async *async = userp;
    if (what == CURL_POLL_REMOVE) { /* curl is done with fd (and may close it next) */
        ev_unwatch(async->loop, fd);
        return 0;
    }
    unsigned events = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    if (ev_watch(async->loop, fd, events, on_socket_ready, async) != 0) {
        /* Returning -1 makes curl fail the transfers in progress: each gets its own line. */
        fprintf(stderr, "fetch_async: ev_watch fd %d: %s\n", fd, strerror(errno));
        return -1;
    }
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl wants on_timeout() in timeout_ms (-1: no timer needed). */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct async *async = userp;
    if (async->timer != NULL)
        ev_cancel(async->loop, async->timer);
    async->timer = NULL;
    if (timeout_ms >= 0) { /* never call socket_action from here: curl is not reentrant */
        async->timer = ev_after(async->loop, (double)timeout_ms / 1000, on_timeout, async);
        if (async->timer == NULL) {
            fprintf(stderr, "fetch_async: ev_after: %s\n", strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Each transfer holds a socket: raise the soft limit on descriptors to the hard one (as the
 * local server does). Returns the limit now in force. */
static rlim_t raise_fd_limit(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        kit_die_errno("getrlimit RLIMIT_NOFILE");
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
        kit_die_errno("setrlimit RLIMIT_NOFILE to %ju", (uintmax_t)limit.rlim_max);
    return limit.rlim_cur;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"repeat", required_argument, NULL, 'n'},
        {"timeout", required_argument, NULL, 't'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long repeat = 0; /* 0: not given */
    double timeout = 5;
    struct async async = {0};

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "n:t:qh", options, NULL)) != -1;) {
        switch (opt) {
        case 'n': repeat = kit_parse_long("--repeat", optarg, 1, 20000); break;
        case 't': timeout = kit_parse_double("--timeout", optarg, 0.01, 600); break;
        case 'q': async.quiet = true; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    if (repeat == 0)
        repeat = optind == argc ? 10 : 1;

    rlim_t fd_limit = raise_fd_limit();
    FETCH_CHECK_EASY(curl_global_init(CURL_GLOBAL_DEFAULT));
    struct fetch_plan plan;
    fetch_plan_build(&plan, argc, argv, optind, repeat, "/delay/0.2");
    struct fetch_result *results = calloc(plan.count, sizeof results[0]);
    if (results == NULL)
        kit_die_errno("calloc %zu results", plan.count);
    async.count = plan.count;
    if ((async.loop = ev_loop_create()) == NULL)
        kit_die_errno("ev_loop_create");
    if ((async.multi = curl_multi_init()) == NULL)
        kit_die("curl_multi_init failed (out of memory?)");
    FETCH_CHECK_MULTI(curl_multi_setopt(async.multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket));
    FETCH_CHECK_MULTI(curl_multi_setopt(async.multi, CURLMOPT_SOCKETDATA, &async));
    FETCH_CHECK_MULTI(curl_multi_setopt(async.multi, CURLMOPT_TIMERFUNCTION, on_curl_timer));
    FETCH_CHECK_MULTI(curl_multi_setopt(async.multi, CURLMOPT_TIMERDATA, &async));
    /* Past the descriptor limit, socket() would fail: let curl queue what does not fit. */
    const rlim_t spare_fds = 64; /* stdio, the epoll fd, the local server's pipe, ... */
    if (fd_limit < plan.count + spare_fds) {
        long connections = fd_limit > 2 * spare_fds ? (long)(fd_limit - spare_fds) : 1;
        printf("note: %zu transfers but only %ju descriptors (ulimit -Hn): at most %ld "
               "connections at once, the rest wait in curl's queue\n",
               plan.count, (uintmax_t)fd_limit, connections);
        FETCH_CHECK_MULTI(
            curl_multi_setopt(async.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, connections));
    }

    double wall_start = kit_now(), cpu_start = fetch_cpu_seconds();
    for (size_t i = 0; i < plan.count; i++) { /* adding one sets curl's timer to 0: start */
        results[i] = (struct fetch_result){.url = plan.urls[i], .attempts = 1};
        FETCH_CHECK_MULTI(curl_multi_add_handle(async.multi, fetch_easy_new(&results[i], timeout)));
    }
    if (ev_run(async.loop) != 0)
        kit_die_errno("ev_run");
    if (async.finished != async.count) /* ev_run ran out of work with transfers unfinished */
        kit_die("the event loop stopped with %zu of %zu transfers unfinished",
                async.count - async.finished, async.count);
    int status = fetch_report(results, plan.count, wall_start, cpu_start);

    FETCH_CHECK_MULTI(curl_multi_cleanup(async.multi)); /* closes the kept-alive connections */
    ev_loop_free(async.loop);
    free(results);
    fetch_plan_free(&plan);
    curl_global_cleanup();
    return status;
}
