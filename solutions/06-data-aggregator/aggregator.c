/**
 * @file aggregator.c
 * @brief Exercise 06's program: the seed's data aggregator, compared across four methods.
 *
 * What to look for: the seed's five sources (/json, /uuid, /user-agent, /headers, /ip), a
 * slow one (/delay/0.3) and a larger one (/numbers/20000), fetched from the kit's local server
 * and digested (CPU work, --rounds) by each method of lib/aggregator.h in turn: threads,
 * processes, the event loop, and the hybrid (bonus). Each method prints a bar per source
 * (`=` fetching, `#` digesting), its statistics, and the most requests the server had in
 * flight at once (its /stats). Then one table compares the wall times, with a bar each, and
 * names the winner. Every method fetches all at once, so each takes about the slowest fetch
 * plus the digests: the event loop digests one body after another in its one thread, the
 * others on every CPU, so it loses as --rounds grows; the hybrid keeps the loop's fetching and
 * the processes' digesting. Run it with --rounds=0 and the methods tie: the fetches dominate.
 *
 * Usage: aggregator [-s URL] [-r ROUNDS] [-w N] [-d SECONDS] [-R N] [-p]
 */
#include "lib/aggregator.h"
#include "../../harness/loopback/local_server.h"
#include "../../harness/loopback/loopback_get.h"
#include "kit.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: aggregator [options]\n"
    "Fetches and digests 7 sources of the local server with threads, processes, the event\n"
    "loop and the hybrid, and compares them.\n"
    "  -s, --server=URL      a running local server (default: start one on a free port)\n"
    "  -r, --rounds=N        the digest's CPU work per source (default 10000000, at most 2e8)\n"
    "  -w, --workers=N       threads or processes at once, 0: one per source (default 0,\n"
    "                        at most 64)\n"
    "  -d, --delay=SECONDS   how long the slow source takes (default 0.3, at most 5)\n"
    "  -R, --retries=N       retries after a failure worth retrying (default 2, at most 5)\n"
    "  -p, --progress        a line for each source as it is done\n"
    "  -h, --help            show this help and exit\n";

enum { SOURCES = 7, METHODS = 4, BAR = 40 };
static const char *const method_names[METHODS] = {"threads", "processes", "event-loop", "hybrid"};

struct method_run {
    int status; /* aggregate()'s: failures, or -1 */
    int error;  /* errno when -1 */
    double wall;
    long max_in_flight; /* the server's count; -1 if unknown */
    struct agg_source sources[SOURCES];
    struct agg_stats stats;
};

static void show_progress(void *data, size_t done, size_t total, const struct agg_source *source)
{
    printf("  [%zu/%zu] %s %s\n", done, total, (const char *)data, source->url);
}

/* The last part of a URL's path: "json" for http://127.0.0.1:8080/json. */
static const char *short_name(const char *url)
{
    const char *path = strchr(strstr(url, "://") ? strstr(url, "://") + 3 : url, '/');
    return path != NULL ? path + 1 : url;
}

/* A bar of @p count copies of @p mark. */
static void print_bar(char mark, long count)
{
    for (long i = 0; i < count; i++)
        putchar(mark);
}

/* The seed's analyze_results(): a bar per source, then the statistics. */
static void print_method(const char *name, const struct method_run *m)
{
    const struct agg_stats *s = &m->stats;
    printf("== %s: %zu of %d sources ok in %.3f s; ", name, s->ok, SOURCES, m->wall);
    if (m->max_in_flight >= 0)
        printf("the server saw %ld in flight at once\n", m->max_in_flight);
    else
        printf("the server has no /stats to say how many were in flight\n");
    for (int i = 0; i < SOURCES; i++) {
        const struct agg_source *src = &m->sources[i];
        printf("  %-16.16s %3ld  %6.3f s fetch  %6.3f s digest  ", short_name(src->url),
               src->status, src->fetch_seconds, src->process_seconds);
        print_bar('=', lround(src->fetch_seconds * 50)); /* 20 ms a mark */
        print_bar('#', lround(src->process_seconds * 50));
        printf("\n");
    }
    printf("  %llu bytes, %llu words; fetch %.3f s in all (%.3f +- %.3f s each, slowest %s); "
           "digest %.3f s in all; %.3f s per source on average\n",
           (unsigned long long)s->total_bytes, (unsigned long long)s->total_words,
           s->total_fetch_seconds, s->mean_fetch_seconds, s->stddev_fetch_seconds,
           s->slowest < SOURCES ? short_name(m->sources[s->slowest].url) : "none",
           s->total_process_seconds, s->mean_seconds_per_source);
}

/* The comparison: one row per method that ran, a bar scaled to the slowest, the winner. */
static void print_comparison(const struct method_run runs[])
{
    double slowest = 0;
    int winner = -1;
    for (int m = 0; m < METHODS; m++)
        if (runs[m].status >= 0) {
            slowest = fmax(slowest, runs[m].wall);
            if (winner == -1 || runs[m].wall < runs[winner].wall)
                winner = m;
        }
    printf("\n%-12s %8s %9s %9s\n", "method", "wall s", "fetch s", "digest s");
    for (int m = 0; m < METHODS; m++) {
        if (runs[m].status < 0) {
            printf("%-12s %s\n", method_names[m], strerror(runs[m].error));
            continue;
        }
        printf("%-12s %8.3f %9.3f %9.3f  ", method_names[m], runs[m].wall,
               runs[m].stats.total_fetch_seconds, runs[m].stats.total_process_seconds);
        print_bar('#', lround(fmax(1, BAR * runs[m].wall / slowest)));
        printf("\n");
    }
    if (winner == -1)
        return;
    char ratio[32];
    printf("winner: %s (%s than the slowest)\n", method_names[winner],
           kit_ratio_text(slowest / runs[winner].wall, ratio));
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"server", required_argument, NULL, 's'},  {"rounds", required_argument, NULL, 'r'},
        {"workers", required_argument, NULL, 'w'}, {"delay", required_argument, NULL, 'd'},
        {"retries", required_argument, NULL, 'R'}, {"progress", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    struct agg_options settings = {.rounds = 10000000, .timeout = 5, .retries = 2, .backoff = 0.1};
    const char *server_url = NULL;
    double delay = 0.3;
    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "s:r:w:d:R:ph", options, NULL)) != -1;) {
        switch (opt) {
        case 's': server_url = optarg; break;
        case 'r':
            settings.rounds = (uint64_t)kit_parse_long("--rounds", optarg, 0, 200000000);
            break;
        case 'w': settings.workers = (int)kit_parse_long("--workers", optarg, 0, 64); break;
        case 'd': delay = kit_parse_double("--delay", optarg, 0, 5); break;
        case 'R': settings.retries = (int)kit_parse_long("--retries", optarg, 0, 5); break;
        case 'p': settings.progress = show_progress; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        kit_die("curl_global_init failed");
    kit_own_children(); /* the processes and the hybrid fork; Ctrl-C stops every child */
    struct local_server server = {0};
    if (server_url == NULL) {
        if (local_server_start(&server) != 0)
            kit_die("could not start the local server (give one with --server=URL)");
        server_url = server.url;
    }
    char urls[SOURCES][256], slow[32];
    snprintf(slow, sizeof slow, "/delay/%g", delay);
    const char *const paths[SOURCES] = {"/json", "/uuid", "/user-agent",   "/headers",
                                        "/ip",   slow,    "/numbers/20000"};
    for (int i = 0; i < SOURCES; i++)
        snprintf(urls[i], sizeof urls[i], "%s%s", server_url, paths[i]);

    static struct method_run runs[METHODS];
    int failed = 0, ran = 0;
    for (int m = 0; m < METHODS; m++) {
        struct method_run *run = &runs[m];
        for (int i = 0; i < SOURCES; i++)
            run->sources[i] = (struct agg_source){.url = urls[i]};
        settings.progress_data = (void *)method_names[m];
        loopback_stat(loopback_port_of_url(server_url), "/stats/reset", "max_in_flight");
        double start = kit_now();
        run->status = aggregate((enum agg_method)m, run->sources, SOURCES, &settings);
        run->error = errno;
        run->wall = kit_seconds_since(start);
        run->max_in_flight =
            loopback_stat(loopback_port_of_url(server_url), "/stats", "max_in_flight");
        if (run->status < 0) {
            printf("== %s: %s%s\n", method_names[m], strerror(run->error),
                   run->error == ENOSYS ? " (not written yet)" : "");
            failed += m < 3 || run->error != ENOSYS; /* the hybrid is a bonus */
            continue;
        }
        ran++;
        agg_statistics(run->sources, SOURCES, &run->stats);
        print_method(method_names[m], run);
        failed += run->status > 0;
    }
    print_comparison(runs);
    local_server_stop(&server);
    curl_global_cleanup();
    if (failed > 0) {
        printf("FAILED: %d method%s did not get every source\n", failed, failed == 1 ? "" : "s");
        return 1;
    }
    printf("OK: %d methods fetched and digested all %d sources\n", ran, SOURCES);
    return 0;
}
