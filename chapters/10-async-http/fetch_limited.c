/**
 * @file fetch_limited.c
 * @brief At most K transfers in flight, a timeout each, retries with exponential backoff.
 *
 * What to look for: the program starts K transfers on a curl multi handle and, each time one
 * ends, starts the next (curl's 10-at-a-time.c example), so never more than K are in flight:
 * what `asyncio.Semaphore(K)` around each `session.get()` does. A server, or a site you scrape,
 * sees at most K of your requests at once; the local server's /stats proves it
 * (`max_in_flight`).
 *
 * A failure worth retrying (connection refused, a timeout, the server hanging up, a 5xx status)
 * is tried again after a delay that doubles each time: 0.1 s, 0.2 s, 0.4 s (exponential
 * backoff, so a struggling server gets room). A failure that will not change (a 404, a name that
 * does not resolve) is not retried. Each retry prints a `retry` line; each URL ends with one
 * line saying what happened in the end and how many attempts it took.
 *
 * This loop is curl's classic one, multi-app.c: curl_multi_perform() moves every transfer on,
 * curl_multi_info_read() says which ended, curl_multi_poll() sleeps until a socket is ready or
 * the next retry is due. curl_multi_poll() uses poll(), with no FD_SETSIZE limit; for thousands
 * of transfers, fetch_async.c hands curl's sockets to an epoll loop instead.
 *
 * With no URL, it starts the kit's local server (chapter 09) and fetches /delay/0.2 eight times
 * and /flaky/2 (fails twice, then succeeds) once, 3 at a time.
 *
 * Usage: fetch_limited [-k K] [-r RETRIES] [-b SECONDS] [-n N] [-t SECONDS] [-q] [URL...]
 */
#include "../../harness/fetch/fetch.h"
#include "kit.h"

#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

struct settings {
    long max_in_flight, retries;
    double backoff, timeout;
    bool quiet;
};

/* Worth another try: the server was not there, too slow, hung up, or said "my fault" (5xx).
 * Not a 4xx ("your fault": asking again gets the same answer) nor a name that does not resolve. */
static bool worth_retrying(const struct fetch_result *result)
{
    switch (result->code) {
    case CURLE_OK: return result->status >= 500;
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR: return true;
    default: return false;
    }
}

/* The URLs, what happened to each, and when each waiting one may be retried. */
struct transfers {
    struct fetch_result *results;
    double *retry_at; /* per URL: when its next attempt may start (kit_now()); 0: not waiting */
    size_t count;
};

static void start_attempt(CURLM *multi, struct transfers *transfers, size_t i, double timeout);
static long collect_ended(CURLM *multi, struct transfers *transfers,
                          const struct settings *settings, size_t *finished);
static size_t next_retry(const struct transfers *transfers);

/* The lesson: curl's multi loop with at most K transfers in flight. Each round refills the free
 * slots, lets curl move every transfer on, collects those that ended, then sleeps until
 * something can change. Prints the summary and returns the exit status. */
static int fetch_k_at_a_time(struct transfers *transfers, const struct settings *settings)
{
    CURLM *multi = curl_multi_init();
    if (multi == NULL)
        kit_die("curl_multi_init failed (out of memory?)");
    double wall_start = kit_now(), cpu_start = fetch_cpu_seconds();
    size_t started = 0, finished = 0; /* started: fresh URLs begun (retries not counted) */
    long in_flight = 0;
    while (finished < transfers->count) {
        /* Refill up to K: a retry that is due first, then fresh URLs. */
        size_t retry;
        while (in_flight < settings->max_in_flight) {
            retry = next_retry(transfers);
            if (retry != SIZE_MAX && transfers->retry_at[retry] <= kit_now())
                start_attempt(multi, transfers, retry, settings->timeout);
            else if (started < transfers->count)
                start_attempt(multi, transfers, started++, settings->timeout);
            else
                break;
            in_flight++;
        }
        int running;
        FETCH_CHECK_MULTI(curl_multi_perform(multi, &running)); /* moves every transfer on */
        long ended = collect_ended(multi, transfers, settings, &finished);
        in_flight -= ended;
        if (ended > 0)
            continue; /* refill the freed slots before sleeping */
        /* Sleep until a socket is ready, a transfer's own timer (curl lowers the wait for
         * those), or, with a free slot, the next retry's due time. With no free slot, only the
         * end of a transfer can change anything. */
        int wait_ms = 1000;
        if (in_flight < settings->max_in_flight && (retry = next_retry(transfers)) != SIZE_MAX) {
            double until_due = transfers->retry_at[retry] - kit_now();
            wait_ms = (int)fmax(0, fmin(1000, ceil(until_due * 1e3)));
        }
        if (wait_ms > 0)
            FETCH_CHECK_MULTI(curl_multi_poll(multi, NULL, 0, wait_ms, NULL));
    }
    int status = fetch_report(transfers->results, transfers->count, wall_start, cpu_start);
    FETCH_CHECK_MULTI(curl_multi_cleanup(multi)); /* every easy handle was removed already */
    return status;
}

/* Start URL @p i's next attempt: a new easy handle on the multi handle. */
static void start_attempt(CURLM *multi, struct transfers *transfers, size_t i, double timeout)
{
    transfers->retry_at[i] = 0;
    transfers->results[i].attempts++;
    CURL *easy = fetch_easy_new(&transfers->results[i], timeout);
    FETCH_CHECK_MULTI(curl_multi_add_handle(multi, easy));
}

/* The line of an attempt that failed and will be tried again. */
static void print_retry(const struct fetch_result *result, double delay)
{
    if (result->code != CURLE_OK)
        printf("retry  %s: attempt %d failed (transport error: %s), next attempt in %.3f s\n",
               result->url, result->attempts, curl_easy_strerror(result->code), delay);
    else
        printf("retry  %s: attempt %d failed (HTTP error status %ld), next attempt in %.3f s\n",
               result->url, result->attempts, result->status, delay);
}

/* Read the transfers that ended: print and count the finished, schedule retries. Returns how
 * many ended (finished or waiting for a retry), so the caller can start as many new ones. */
static long collect_ended(CURLM *multi, struct transfers *transfers,
                          const struct settings *settings, size_t *finished)
{
    long ended = 0;
    int left;
    for (CURLMsg *msg; (msg = curl_multi_info_read(multi, &left)) != NULL;) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result; /* read before remove: msg is freed with the handle */
        struct fetch_result *result;
        FETCH_CHECK_EASY(curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&result));
        fetch_record(easy, result, code);
        FETCH_CHECK_MULTI(curl_multi_remove_handle(multi, easy));
        curl_easy_cleanup(easy);
        ended++;

        if (worth_retrying(result) && result->attempts <= settings->retries) {
            double delay = settings->backoff * pow(2, result->attempts - 1);
            transfers->retry_at[result - transfers->results] = kit_now() + delay;
            if (!settings->quiet)
                print_retry(result, delay);
        } else {
            fetch_print(result, settings->quiet);
            ++*finished;
        }
    }
    return ended;
}

/* The URL whose retry is due first, or SIZE_MAX if none is waiting. O(n), fine for a lesson;
 * a heap of due times (chapter 08's timers) would make it O(log n). */
static size_t next_retry(const struct transfers *transfers)
{
    size_t first = SIZE_MAX;
    for (size_t i = 0; i < transfers->count; i++)
        if (transfers->retry_at[i] > 0 &&
            (first == SIZE_MAX || transfers->retry_at[i] < transfers->retry_at[first]))
            first = i;
    return first;
}

static const char usage[] =
    "Usage: fetch_limited [options] [URL...]\n"
    "Fetch URLs at most K at a time, retrying failures worth retrying with backoff.\n"
    "With no URL, start the local server and fetch its /delay/0.2 and /flaky/2.\n"
    "  -k, --max-in-flight=K transfers in flight at once, at most (default 3, at most 1000)\n"
    "  -r, --retries=N       retries after a first failure worth retrying (default 3, at most 5)\n"
    "  -b, --backoff=SECONDS delay before the first retry, doubled for each next (default 0.1,\n"
    "                        at most 2)\n"
    "  -n, --repeat=N        fetch each URL N times (default 1; 8 with no URL; at most 10000)\n"
    "  -t, --timeout=SECONDS give up on an attempt after this long (default 5)\n"
    "  -q, --quiet           print a line only for transfers that failed\n"
    "  -h, --help            show this help and exit\n"
    "Exit status: 0 if every transfer succeeded, 1 if any failed, 2 on a usage error.\n";

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"max-in-flight", required_argument, NULL, 'k'},
        {"retries", required_argument, NULL, 'r'},
        {"backoff", required_argument, NULL, 'b'},
        {"repeat", required_argument, NULL, 'n'},
        {"timeout", required_argument, NULL, 't'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct settings settings = {.max_in_flight = 3, .retries = 3, .backoff = 0.1, .timeout = 5};
    long repeat = 0; /* 0: not given */

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "k:r:b:n:t:qh", options, NULL)) != -1;) {
        switch (opt) {
        case 'k':
            settings.max_in_flight = kit_parse_long("--max-in-flight", optarg, 1, 1000);
            break;
        case 'r': settings.retries = kit_parse_long("--retries", optarg, 0, 5); break;
        case 'b': settings.backoff = kit_parse_double("--backoff", optarg, 0, 2); break;
        case 'n': repeat = kit_parse_long("--repeat", optarg, 1, 10000); break;
        case 't': settings.timeout = kit_parse_double("--timeout", optarg, 0.01, 600); break;
        case 'q': settings.quiet = true; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    if (repeat == 0)
        repeat = optind == argc ? 8 : 1;

    FETCH_CHECK_EASY(curl_global_init(CURL_GLOBAL_DEFAULT));
    struct fetch_plan plan;
    if (optind < argc) {
        fetch_plan_urls(&plan, argv + optind, (size_t)(argc - optind), repeat);
    } else { /* ours to stop and reap on every exit, Ctrl-C and SIGTERM included */
        kit_own_children();
        fetch_plan_start_local_server(&plan, repeat, "/delay/0.2");
        char flaky[64]; /* fails twice (5xx), then succeeds: two retries to watch */
        snprintf(flaky, sizeof flaky, "/flaky/2?id=fetch_limited-%ld", (long)getpid());
        fetch_plan_add_local(&plan, flaky);
    }
    /* K connections at once (fewer if there are fewer URLs) */
    fetch_need_descriptors(
        (size_t)settings.max_in_flight < plan.count ? (size_t)settings.max_in_flight : plan.count,
        0);
    struct transfers transfers = {
        .results = calloc(plan.count, sizeof transfers.results[0]),
        .retry_at = calloc(plan.count, sizeof transfers.retry_at[0]),
        .count = plan.count,
    };
    if (transfers.results == NULL || transfers.retry_at == NULL)
        kit_die_errno("calloc %zu transfers", plan.count);
    for (size_t i = 0; i < plan.count; i++)
        transfers.results[i].url = plan.urls[i];

    int status = fetch_k_at_a_time(&transfers, &settings);
    free(transfers.results);
    free(transfers.retry_at);
    fetch_plan_free(&plan);
    curl_global_cleanup();
    return status;
}
