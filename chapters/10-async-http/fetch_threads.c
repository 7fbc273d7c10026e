/**
 * @file fetch_threads.c
 * @brief The same transfers on a small pool of threads, one easy handle each (ThreadPoolExecutor).
 *
 * What to look for: each worker thread runs the blocking curl_easy_perform() of
 * fetch_sequential.c, but W of them wait at the same time, so W transfers overlap: 10 requests
 * to /delay/0.2 on 10 workers take about 0.2 s, not 2 s. This is what
 * `ThreadPoolExecutor(max_workers=W).map(requests.get, urls)` does in Python. The lines come in
 * the order transfers finish, not the order of the URLs.
 *
 * The rules curl sets for threads (libcurl-thread(3)):
 * - curl_global_init() once, in main, before any thread starts: it is not thread-safe.
 * - An easy handle belongs to one thread at a time. Here each worker owns one and reuses it for
 *   every URL it takes, keeping its connection open (one requests.Session per thread).
 * - CURLOPT_NOSIGNAL (set by fetch_prepare): no signals for timeouts, which threads cannot share.
 *
 * The cost shows in the summary: a thread per concurrent transfer, each with its own stack and
 * its own connection. Compare the peak memory with fetch_async.c, which runs them all in one.
 *
 * With no URL, it starts the kit's local server (chapter 09) and fetches /delay/0.2 ten times.
 *
 * Usage: fetch_threads [-w WORKERS] [-n N] [-t SECONDS] [-q] [URL...]
 */
#include "../../harness/fetch/fetch.h"
#include "kit.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

/* What every worker shares: the work list, read-only, and the index of the next URL to take. */
struct work {
    struct fetch_result *results; /* one per URL; a worker writes only the ones it took */
    size_t count;
    atomic_size_t next; /* each worker takes the next index with one atomic add: no lock */
    double timeout;
    bool quiet;
};

/* A worker thread: fetch_sequential's loop on a handle of its own, taking the next URL until
 * none is left. */
static void *worker(void *arg)
{
    struct work *work = arg;
    CURL *easy = curl_easy_init(); /* this thread's own handle, used by no other thread */
    if (easy == NULL)
        kit_die("curl_easy_init failed (out of memory?)");
    for (size_t i; (i = atomic_fetch_add(&work->next, 1)) < work->count;) {
        struct fetch_result *result = &work->results[i];
        fetch_prepare(easy, result, work->timeout);
        CURLcode code = curl_easy_perform(easy); /* blocks this thread only */
        fetch_record(easy, result, code);
        fetch_print(result, work->quiet); /* one printf: stdio locks the stream around it */
    }
    curl_easy_cleanup(easy);
    return NULL;
}

/* RLIMIT_NPROC as `ulimit -u` shows it: a number, or "unlimited". */
static const char *process_limit_text(void)
{
    static char text[32];
    struct rlimit limit;
    if (getrlimit(RLIMIT_NPROC, &limit) != 0)
        kit_die_errno("getrlimit RLIMIT_NPROC");
    if (limit.rlim_cur == RLIM_INFINITY)
        return "unlimited";
    snprintf(text, sizeof text, "%ju", (uintmax_t)limit.rlim_cur);
    return text;
}

/* Start @p threads workers and wait for them all to finish; returns how many ran. */
static size_t run_workers(struct work *work, size_t threads)
{
    pthread_t *pool = calloc(threads, sizeof pool[0]);
    if (pool == NULL)
        kit_die_errno("calloc %zu threads", threads);
    size_t started = 0;
    for (int en; started < threads; started++) {
        if ((en = pthread_create(&pool[started], NULL, worker, work)) == 0)
            continue;
        /* EAGAIN: out of threads (ulimit -u counts a user's threads and processes together).
         * The workers take URLs from one counter, so those started do the whole job. */
        if (en != EAGAIN || started == 0)
            kit_die_en(en, "pthread_create worker %zu of %zu", started + 1, threads);
        printf("note: out of threads or processes after %zu of %zu workers (ulimit -u: %s): "
               "the %zu started fetch every URL\n",
               started, threads, process_limit_text(), started);
        break;
    }
    for (size_t i = 0; i < started; i++)
        KIT_CHECK_EN(pthread_join(pool[i], NULL)); /* orders the workers' results before ours */
    free(pool);
    return started;
}

static const char usage[] =
    "Usage: fetch_threads [options] [URL...]\n"
    "Fetch URLs on a pool of threads, one libcurl easy handle per thread.\n"
    "With no URL, start the local server and fetch its /delay/0.2.\n"
    "  -w, --workers=N       threads in the pool (default 10, at most 1000)\n"
    "  -n, --repeat=N        fetch each URL N times (default 1; 10 with no URL; at most 10000)\n"
    "  -t, --timeout=SECONDS give up on a transfer after this long (default 5)\n"
    "  -q, --quiet           print a line only for transfers that failed\n"
    "  -h, --help            show this help and exit\n"
    "Exit status: 0 if every transfer succeeded, 1 if any failed, 2 on a usage error.\n";

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"workers", required_argument, NULL, 'w'}, {"repeat", required_argument, NULL, 'n'},
        {"timeout", required_argument, NULL, 't'}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    long workers = 10, repeat = 0; /* repeat 0: not given */
    struct work work = {.timeout = 5};

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "w:n:t:qh", options, NULL)) != -1;) {
        switch (opt) {
        case 'w': workers = kit_parse_long("--workers", optarg, 1, 1000); break;
        case 'n': repeat = kit_parse_long("--repeat", optarg, 1, 10000); break;
        case 't': work.timeout = kit_parse_double("--timeout", optarg, 0.01, 600); break;
        case 'q': work.quiet = true; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    if (repeat == 0)
        repeat = optind == argc ? 10 : 1;

    /* Before any thread exists: curl_global_init is not thread-safe. */
    FETCH_CHECK_EASY(curl_global_init(CURL_GLOBAL_DEFAULT));
    struct fetch_plan plan;
    if (optind < argc) {
        fetch_plan_urls(&plan, argv + optind, (size_t)(argc - optind), repeat);
    } else { /* ours to stop and reap on every exit, Ctrl-C and SIGTERM included */
        kit_own_children();
        fetch_plan_start_local_server(&plan, repeat, "/delay/0.2");
    }
    work.count = plan.count;
    work.results = calloc(plan.count, sizeof work.results[0]);
    if (work.results == NULL)
        kit_die_errno("calloc %zu results", plan.count);
    for (size_t i = 0; i < plan.count; i++)
        work.results[i] = (struct fetch_result){.url = plan.urls[i], .attempts = 1};
    atomic_init(&work.next, 0);

    size_t threads = (size_t)workers < plan.count ? (size_t)workers : plan.count;
    fetch_need_descriptors(threads, 0); /* a connection each */
    double wall_start = kit_now(), cpu_start = fetch_cpu_seconds();
    size_t started = run_workers(&work, threads);
    printf("%zu worker threads\n", started);
    int status = fetch_report(work.results, plan.count, wall_start, cpu_start);

    free(work.results);
    fetch_plan_free(&plan);
    curl_global_cleanup();
    return status;
}
