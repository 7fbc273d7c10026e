/**
 * @file fetch_sequential.c
 * @brief One URL after another with libcurl's easy interface: the "blocking requests" baseline.
 *
 * What to look for: curl_easy_perform() does the whole transfer (connect, send, wait, read)
 * and returns only when it is over, like `requests.get(url)` in Python. While it waits, the
 * program does nothing else, so the times add up: 5 requests to /delay/0.2 take 1 s, and 50
 * take 10 s. Each line shows one transfer's own time; the summary shows the wall time, which is
 * their sum. The CPU time is tiny: the program spends nearly all its time waiting.
 *
 * One easy handle is reused for every URL, as a requests.Session is: curl keeps the connection
 * open and sends the next request on it, so only the first request pays for a connect.
 *
 * With no URL, it starts the kit's local server (chapter 09) and fetches /delay/0.2 five times.
 * See also fetch_threads.c (the same transfers on threads) and fetch_async.c (all in one thread).
 *
 * Usage: fetch_sequential [-n N] [-t SECONDS] [-q] [URL...]
 */
#include "../../harness/fetch/fetch.h"
#include "kit.h"

#include <getopt.h>
#include <stdlib.h>

/* The lesson: one easy handle, one transfer after another. Each curl_easy_perform() returns
 * only when its transfer is over, so the times add up. */
static void fetch_one_after_another(struct fetch_result results[], size_t count, double timeout,
                                    bool quiet)
{
    CURL *easy = curl_easy_init();
    if (easy == NULL)
        kit_die("curl_easy_init failed (out of memory?)");
    for (size_t i = 0; i < count; i++) {
        fetch_prepare(easy, &results[i], timeout); /* the same handle: its connection is kept */
        CURLcode code = curl_easy_perform(easy);   /* blocks until this transfer is over */
        fetch_record(easy, &results[i], code);
        fetch_print(&results[i], quiet);
    }
    curl_easy_cleanup(easy);
}

static const char usage[] =
    "Usage: fetch_sequential [options] [URL...]\n"
    "Fetch URLs one after another with libcurl's easy interface (the blocking baseline).\n"
    "With no URL, start the local server and fetch its /delay/0.2.\n"
    "  -n, --repeat=N        fetch each URL N times (default 1; 5 with no URL; at most 200)\n"
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
        case 'n': repeat = kit_parse_long("--repeat", optarg, 1, 200); break;
        case 't': timeout = kit_parse_double("--timeout", optarg, 0.01, 600); break;
        case 'q': quiet = true; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    if (repeat == 0)
        repeat = optind == argc ? 5 : 1;

    /* Once per program, before any other curl call (and before any thread, see fetch_threads). */
    FETCH_CHECK_EASY(curl_global_init(CURL_GLOBAL_DEFAULT));
    struct fetch_plan plan;
    if (optind < argc) {
        fetch_plan_urls(&plan, argv + optind, (size_t)(argc - optind), repeat);
    } else { /* ours to stop and reap on every exit, Ctrl-C and SIGTERM included */
        kit_own_children();
        fetch_plan_start_local_server(&plan, repeat, "/delay/0.2");
    }
    fetch_need_descriptors(1, 0);
    struct fetch_result *results = calloc(plan.count, sizeof results[0]);
    if (results == NULL)
        kit_die_errno("calloc %zu results", plan.count);
    for (size_t i = 0; i < plan.count; i++)
        results[i] = (struct fetch_result){.url = plan.urls[i], .attempts = 1};

    double wall_start = kit_now(), cpu_start = fetch_cpu_seconds();
    fetch_one_after_another(results, plan.count, timeout, quiet);
    int status = fetch_report(results, plan.count, wall_start, cpu_start);

    free(results);
    fetch_plan_free(&plan);
    curl_global_cleanup();
    return status;
}
