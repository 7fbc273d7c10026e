/**
 * @file fetch_async.c
 * @brief Every transfer in one thread: libcurl's multi_socket interface on chapter 08's epoll loop.
 *
 * What to look for: all the transfers start at once and overlap, like `asyncio.gather()` of
 * aiohttp requests, yet there is one thread. 1,000 requests to /delay/0.5 take about 0.5 s of
 * wall time and a small fraction of a second of CPU time; `-n 5000` works too. Compare the
 * summary's peak memory with fetch_threads.c, which pays a thread per concurrent transfer.
 *
 * How: curl does the HTTP, the event loop does the waiting. lib/curl_loop.c is the bridge
 * between them, four small callbacks; read it next to this file. curl says which sockets to
 * watch and when to wake it (ev_watch, ev_after); the loop says which socket is ready
 * (curl_multi_socket_action); on_transfer_done() below hears of each transfer that ended. No
 * select() and no FD_SETSIZE limit: epoll scales to thousands of transfers.
 *
 * With no URL, it starts the kit's local server (chapter 09) and fetches /delay/0.2 ten times.
 * See also fetch_limited.c: the simpler multi loop, with at most K in flight.
 *
 * Usage: fetch_async [-n N] [-t SECONDS] [-q] [URL...]
 */
#include "../../harness/fetch/fetch.h"
#include "../08-event-loop/lib/event_loop.h"
#include "kit.h"
#include "lib/curl_loop.h"

#include <getopt.h>
#include <stdlib.h>

/* What on_transfer_done() needs: the loop to stop, the progress. */
struct async {
    struct ev_loop *loop;
    size_t finished, count;
    bool quiet;
};

/* curl_loop's callback: a transfer ended. Record and print it, free its handle; after the last
 * one, stop the loop (idle kept-alive connections would keep it going). */
static void on_transfer_done(CURL *easy, CURLcode code, void *data)
{
    struct async *async = data;
    struct fetch_result *result;
    FETCH_CHECK_EASY(curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&result));
    fetch_record(easy, result, code);
    curl_easy_cleanup(easy);
    fetch_print(result, async->quiet);
    if (++async->finished == async->count)
        ev_stop(async->loop);
}

/* The lesson: every transfer added at once to a multi handle whose sockets and timer live on
 * the event loop (lib/curl_loop.c); the loop runs until the last one has ended. Prints the
 * summary and returns the exit status. */
static int fetch_all_at_once(struct fetch_result results[], size_t count, double timeout,
                             bool quiet)
{
    struct async async = {.count = count, .quiet = quiet};
    if ((async.loop = ev_loop_create()) == NULL)
        kit_die_errno("ev_loop_create");
    struct curl_loop curl;
    curl_loop_init(&curl, async.loop, on_transfer_done, &async);
    double wall_start = kit_now(), cpu_start = fetch_cpu_seconds();
    for (size_t i = 0; i < count; i++) /* curl starts them on the loop's first round */
        curl_loop_add(&curl, fetch_easy_new(&results[i], timeout));
    if (ev_run(async.loop) != 0)
        kit_die_errno("ev_run");
    if (async.finished != count) /* ev_run ran out of work with transfers unfinished */
        kit_die("the event loop stopped with %zu of %zu transfers unfinished",
                count - async.finished, count);
    /* The summary first: closing a thousand kept-alive connections takes a while, and that is
     * not the transfers' time. */
    int status = fetch_report(results, count, wall_start, cpu_start);
    curl_loop_cleanup(&curl);
    ev_loop_free(async.loop);
    return status;
}

static const char usage[] =
    "Usage: fetch_async [options] [URL...]\n"
    "Fetch all URLs at once in one thread: libcurl's multi_socket API on an epoll loop.\n"
    "With no URL, start the local server and fetch its /delay/0.2.\n"
    "  -n, --repeat=N        fetch each URL N times (default 1; 10 with no URL; at most 20000)\n"
    "  -t, --timeout=SECONDS give up on a transfer after this long (default 5)\n"
    "  -q, --quiet           print a line only for transfers that failed\n"
    "  -h, --help            show this help and exit\n"
    "Exit status: 0 if every transfer succeeded, 1 if any failed, 2 on a usage error.\n";

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
    bool quiet = false;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "n:t:qh", options, NULL)) != -1;) {
        switch (opt) {
        case 'n': repeat = kit_parse_long("--repeat", optarg, 1, 20000); break;
        case 't': timeout = kit_parse_double("--timeout", optarg, 0.01, 600); break;
        case 'q': quiet = true; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    if (repeat == 0)
        repeat = optind == argc ? 10 : 1;

    FETCH_CHECK_EASY(curl_global_init(CURL_GLOBAL_DEFAULT));
    struct fetch_plan plan;
    if (optind < argc) {
        fetch_plan_urls(&plan, argv + optind, (size_t)(argc - optind), repeat);
    } else { /* ours to stop and reap on every exit, Ctrl-C and SIGTERM included */
        kit_own_children();
        fetch_plan_start_local_server(&plan, repeat, "/delay/0.2");
    }
    /* Every transfer at once, each with its socket: refused up front, in one line, if the
     * descriptors cannot all be had (fetch_limited fetches K at a time). */
    fetch_need_descriptors(plan.count, 0);
    struct fetch_result *results = calloc(plan.count, sizeof results[0]);
    if (results == NULL)
        kit_die_errno("calloc %zu results", plan.count);
    for (size_t i = 0; i < plan.count; i++)
        results[i] = (struct fetch_result){.url = plan.urls[i], .attempts = 1};
    int status = fetch_all_at_once(results, plan.count, timeout, quiet);

    free(results);
    fetch_plan_free(&plan);
    curl_global_cleanup();
    return status;
}
