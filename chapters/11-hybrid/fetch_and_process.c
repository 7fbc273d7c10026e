/**
 * @file fetch_and_process.c
 * @brief The hybrid: one event loop fetches JSON lists of numbers with libcurl, a process pool
 *        computes their statistics, and the loop never waits for a computation.
 *
 * What to look for: the lines, in time order. Lists arrive (`fetched`) and go to a free worker
 * or wait in line; results come back (`computed`): count, exact sum of squares, mean, standard
 * deviation. `fetched` lines come in while workers compute, and the loop's ticker (a timer every
 * 5 ms) stays within a few ms of its time while each computation takes tens of ms. At the end the
 * parent computes every list again with the same compiled function: the results must be
 * identical, and that time is how long a loop computing them itself would have stalled.
 *
 * How: curl runs on the loop as in chapter 10's fetch_async.c (its lib/curl_loop.c). A good body
 * goes whole to the executor (lib/executor.h), which writes it into a worker's pipe as the pipe
 * has room; the worker parses it with cJSON and computes (lib/list_stats.c: parsing a megabyte
 * of JSON is CPU work too). The result pipe and each worker's pidfd are watched like sockets.
 *
 * With no URL it starts the kit's local server (chapter 09) and fetches /numbers/N?seed=K for
 * K = 1 to --lists. Ctrl-C or SIGTERM stops and reaps the workers and the server; a worker that
 * dies is named, the others are stopped, and the program exits 1.
 * See also: run_in_executor.c (the mechanism alone, and the stall it avoids).
 *
 * Usage: fetch_and_process [--lists=N] [--numbers=N] [--workers=N] [--timeout=SECONDS] [URL...]
 */
#include "../../harness/fetch/fetch.h"
#include "../08-event-loop/lib/event_loop.h"
#include "../10-async-http/lib/curl_loop.h"
#include "kit.h"
#include "lib/executor.h"
#include "lib/list_stats.h"
#include "lib/ticker.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const double tick = 0.005;                /* the ticker's interval, seconds */
static const size_t max_body = (size_t)64 << 20; /* a longer answer is refused */

struct list {
    struct fetch_result fetch; /* first: CURLINFO_PRIVATE points here (chapter 10's record) */
    struct fetch_body body;
    struct ex_job job;
    struct list_stats stats; /* from the worker */
    bool computed;
};

/* What the callbacks share: one per program. */
static struct {
    struct ev_loop *loop;
    struct curl_loop curl;
    struct executor ex;
    struct ticker ticker;
    struct list *lists;
    size_t count, transfers_done, submitted, computed, arrived_while_computing;
    double start, longest_cpu, workers_cpu;
} h;

static double elapsed(void)
{
    return kit_seconds_since(h.start);
}

/* Everything fetched and computed: stop the ticker and the loop (idle kept-alive connections
 * and the pool's descriptors would keep it going). */
static void finish_if_done(void)
{
    if (h.transfers_done < h.count || h.computed < h.submitted)
        return;
    ticker_stop(&h.ticker);
    ev_stop(h.loop);
}

static void on_computed(void *data, const void *output, const struct ex_info *info);

/* curl_loop's callback: a transfer ended. A good body goes to the pool, and the loop goes on:
 * the C for `result = await loop.run_in_executor(pool, cpu_intensive_task, data)`. */
static void on_transfer_done(CURL *easy, CURLcode code, void *data)
{
    (void)data;
    struct list *list;
    FETCH_CHECK_EASY(curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&list));
    fetch_record(easy, &list->fetch, code);
    curl_easy_cleanup(easy);
    h.transfers_done++;
    if (!fetch_succeeded(&list->fetch)) { /* chapter 10's line: transport error or HTTP status */
        printf("%7.3f s  ", elapsed());
        fetch_print(&list->fetch, false);
        finish_if_done();
        return;
    }
    h.arrived_while_computing += executor_busy_workers(&h.ex) > 0;
    h.submitted++;
    int worker =
        executor_submit(&h.ex, &list->job, list->body.data, list->body.size, on_computed, list);
    char to[40] = "queued: every worker is busy";
    if (worker >= 0)
        snprintf(to, sizeof to, "worker %d", worker);
    printf("%7.3f s  fetched   list %zu, %.1f KiB in %.3f s: %s  -> %s\n", elapsed(),
           (size_t)(list - h.lists) + 1, (double)list->body.size / 1024, list->fetch.seconds,
           list->fetch.url, to);
}

/* The executor's done callback: a worker's figures for one list are in. */
static void on_computed(void *data, const void *output, const struct ex_info *info)
{
    struct list *list = data;
    size_t index = (size_t)(list - h.lists) + 1;
    memcpy(&list->stats, output, sizeof list->stats); /* output: bytes, maybe not aligned */
    list->computed = true;
    h.computed++;
    h.workers_cpu += info->cpu_seconds;
    if (info->cpu_seconds > h.longest_cpu)
        h.longest_cpu = info->cpu_seconds;
    const struct list_stats *s = &list->stats;
    char text[40];
    if (s->error[0] != '\0')
        printf("%7.3f s  computed  list %zu by worker %d: not a list of numbers: %s\n", elapsed(),
               index, info->worker, s->error);
    else
        printf("%7.3f s  computed  list %zu by worker %d in %.1f ms: %llu numbers, sum of squares "
               "%s, mean %.3f, std %.3f\n",
               elapsed(), index, info->worker, info->cpu_seconds * 1000,
               (unsigned long long)s->count, u128_text(s->sum_of_squares, text), s->mean, s->std);
    finish_if_done();
}

/* Print the run's figures, then check every result against the same function run here, one
 * list after another: that time is how long a loop computing them itself would have stalled.
 * The verdict is on what the program controls (exact results, every list computed, workers
 * reaped); the ticker's lateness beside the longest computation is judged by the tests and make
 * bench. Returns the exit status. */
static int report(double wall, double loop_cpu, int workers, int clean_exits)
{
    size_t identical = 0, good = 0;
    double check_start = kit_now();
    for (size_t i = 0; i < h.count; i++) {
        struct list *list = &h.lists[i];
        if (!list->computed)
            continue;
        struct list_stats again;
        list_stats_from_json(list->body.data, list->body.size, &again);
        identical += memcmp(&again, &list->stats, sizeof again) == 0;
        good += list->stats.error[0] == '\0';
    }
    double check_seconds = kit_seconds_since(check_start);
    printf("ticker: fired %ld times; at most %.1f ms late, %.1f ms of it without the time the "
           "loop's thread waited for a CPU\n",
           h.ticker.ticks, h.ticker.worst_late * 1000, h.ticker.worst_own * 1000);
    printf("overlap: %zu of %zu lists arrived while workers were computing; the longest "
           "computation took %.1f ms of CPU\n",
           h.arrived_while_computing, h.submitted, h.longest_cpu * 1000);
    printf("check: the same function in this process, one list after another: %zu of %zu results "
           "identical, in %.3f s (a loop computing them itself would have stalled that long)\n",
           identical, h.computed, check_seconds);
    printf("summary: %zu lists: %zu computed, %zu failed (%zu transfers, %zu not lists of "
           "numbers); wall %.3f s; CPU %.3f s in the workers, %.3f s in the loop's process\n",
           h.count, good, h.count - good, h.count - h.submitted, h.computed - good, wall,
           h.workers_cpu, loop_cpu);
    if (identical != h.computed || clean_exits != workers) {
        printf("FAILED: %zu of %zu results differ from the sequential computation; %d of %d "
               "workers exited cleanly\n",
               h.computed - identical, h.computed, clean_exits, workers);
        return 1;
    }
    if (good < h.count) {
        printf("FAILED: %zu of %zu lists failed\n", h.count - good, h.count);
        return 1;
    }
    printf("OK: %zu lists fetched and computed by %d worker process%s, identical to the "
           "sequential computation\n",
           h.count, workers, workers == 1 ? "" : "es");
    return 0;
}

static const char usage[] =
    "Usage: fetch_and_process [options] [URL...]\n"
    "Fetch JSON lists of numbers ({\"data\": [...]}) on an event loop; a process pool computes\n"
    "each list's count, sum of squares, mean and standard deviation meanwhile.\n"
    "With no URL, start the local server and fetch /numbers/N?seed=K for K = 1 to LISTS.\n"
    "  -l, --lists=N          lists from the local server, 1 to 100 (default 8)\n"
    "  -n, --numbers=N        numbers per list, 1 to 1000000 (default 200000); lists x numbers\n"
    "                         at most 2e7\n"
    "  -w, --workers=N        worker processes (default: one per CPU)\n"
    "  -t, --timeout=SECONDS  give up on a transfer after this long (default 30)\n"
    "  -h, --help             show this help and exit\n"
    "Exit status: 0 if every list was fetched and computed, 1 if not, 2 on a usage error.\n";

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"lists", required_argument, NULL, 'l'},   {"numbers", required_argument, NULL, 'n'},
        {"workers", required_argument, NULL, 'w'}, {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    long lists = 0, numbers = 0; /* 0: not given */
    int workers = kit_cpu_count() < PP_MAX_WORKERS ? kit_cpu_count() : PP_MAX_WORKERS;
    double timeout = 30;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "l:n:w:t:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'l': lists = kit_parse_long("--lists", optarg, 1, 100); break;
        case 'n': numbers = kit_parse_long("--numbers", optarg, 1, 1000000); break;
        case 'w': workers = (int)kit_parse_long("--workers", optarg, 1, PP_MAX_WORKERS); break;
        case 't': timeout = kit_parse_double("--timeout", optarg, 0.01, 600); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    bool local = optind == argc;
    if (!local && (lists > 0 || numbers > 0))
        kit_usage_error("--lists and --numbers choose the local server's lists: not with URLs");
    lists = lists > 0 ? lists : 8;
    numbers = numbers > 0 ? numbers : 200000;
    if (local && lists * numbers > 20000000)
        kit_usage_error("--lists x --numbers is %ld: at most 2e7 numbers in all", lists * numbers);

    FETCH_CHECK_EASY(curl_global_init(CURL_GLOBAL_DEFAULT));
    kit_own_children(); /* Ctrl-C, SIGTERM, an error exit: the server and the workers reaped */
    struct fetch_plan plan;
    if (local)
        fetch_plan_start_local_server(&plan, 0, NULL);
    else
        fetch_plan_urls(&plan, argv + optind, (size_t)(argc - optind), 1);
    for (long seed = 1; local && seed <= lists; seed++) {
        char path[64];
        snprintf(path, sizeof path, "/numbers/%ld?seed=%ld", numbers, seed);
        fetch_plan_add_local(&plan, path);
    }
    /* Every list fetched at once, a socket each; each worker's task pipe, and its pidfd, and the
     * pool's result pipe: refused up front in one line if the descriptors cannot all be had. */
    fetch_need_descriptors(plan.count, 2 * (size_t)workers + 1);
    if ((h.loop = ev_loop_create()) == NULL)
        kit_die_errno("ev_loop_create");
    /* The workers before any socket: a fork holds a copy of every descriptor open then. */
    executor_start(&h.ex, h.loop, workers, list_stats_work, sizeof(struct list_stats));
    curl_loop_init(&h.curl, h.loop, on_transfer_done, NULL);
    h.count = plan.count;
    if ((h.lists = calloc(h.count, sizeof h.lists[0])) == NULL)
        kit_die_errno("calloc %zu lists", h.count);
    printf("fetch_and_process: %zu lists, %d worker process%s; the loop's ticker fires every "
           "%.0f ms\n",
           h.count, workers, workers == 1 ? "" : "es", tick * 1000);

    h.start = kit_now();
    double loop_cpu_start = kit_cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
    ticker_start(&h.ticker, h.loop, tick);
    for (size_t i = 0; i < h.count; i++) {
        h.lists[i].fetch = (struct fetch_result){.url = plan.urls[i], .attempts = 1};
        CURL *easy = fetch_easy_new(&h.lists[i].fetch, timeout);
        fetch_keep_body(easy, &h.lists[i].fetch, &h.lists[i].body, max_body);
        curl_loop_add(&h.curl, easy);
    }
    if (ev_run(h.loop) != 0)
        kit_die_errno("ev_run");
    double wall = elapsed(), loop_cpu = kit_cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - loop_cpu_start;
    if (h.transfers_done < h.count || h.computed < h.submitted)
        kit_die("the event loop stopped with work unfinished");
    int status = report(wall, loop_cpu, workers, executor_shutdown(&h.ex));

    for (size_t i = 0; i < h.count; i++)
        free(h.lists[i].body.data);
    free(h.lists);
    curl_loop_cleanup(&h.curl);
    ev_loop_free(h.loop);
    fetch_plan_free(&plan);
    curl_global_cleanup();
    return status;
}
