/**
 * @file fetch_demo.c
 * @brief Exercise 05's try-it program: your fetch_all() against the local server, and what the
 *        server saw.
 *
 * What to look for: N requests to /delay/0.2 and one to /flaky/2 (it fails twice with 503,
 * then answers 200) go through your lib/fetch_all.c, K at a time. Each URL gets a line with
 * its status, bytes and attempts; then the server's own count, from its /stats: the most
 * requests it ever had in flight at once. A right fetch_all() makes that exactly K (or N + 1
 * when there are fewer URLs than K), the flaky URL succeeds on its third attempt, and the run
 * takes about (N + 1) / K x 0.2 s. With the stub as given, fetch_all() returns ENOSYS: not
 * written yet.
 *
 * This program is yours to change and experiment with; the grader does not use it (it has its
 * own, stricter program: see README.md).
 *
 * Usage: fetch_demo [-k K] [-n N] [-r RETRIES] [-b SECONDS] [-t SECONDS] [-s URL]
 */
#define _GNU_SOURCE /* asprintf */
#include "../../harness/loopback/local_server.h"
#include "../../harness/loopback/loopback_get.h"
#include "kit.h"
#include "lib/fetch_all.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "Usage: fetch_demo [options]\n"
    "Fetches the local server's /delay/0.2 N times and /flaky/2 once with your fetch_all(),\n"
    "K at a time, then shows the most requests the server had in flight at once.\n"
    "  -k, --max-in-flight=K  transfers in flight at once, at most (default 3, at most 100)\n"
    "  -n, --urls=N           /delay/0.2 URLs (default 8, at most 200)\n"
    "  -r, --retries=N        retries after a failure worth retrying (default 3, at most 5)\n"
    "  -b, --backoff=SECONDS  delay before a first retry, doubled for each next (default 0.1,\n"
    "                         at most 2)\n"
    "  -t, --timeout=SECONDS  give up on an attempt after this long (default 5, at most 60)\n"
    "  -s, --server=URL       a running local server, e.g. http://127.0.0.1:8080 (default:\n"
    "                         start one on a free port)\n"
    "  -h, --help             show this help and exit\n";

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"max-in-flight", required_argument, NULL, 'k'},
        {"urls", required_argument, NULL, 'n'},
        {"retries", required_argument, NULL, 'r'},
        {"backoff", required_argument, NULL, 'b'},
        {"timeout", required_argument, NULL, 't'},
        {"server", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct fetch_settings settings = {
        .max_in_flight = 3, .retries = 3, .backoff = 0.1, .timeout = 5};
    long urls_wanted = 8;
    const char *server_url = NULL;
    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "k:n:r:b:t:s:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'k':
            settings.max_in_flight = (int)kit_parse_long("--max-in-flight", optarg, 1, 100);
            break;
        case 'n': urls_wanted = kit_parse_long("--urls", optarg, 1, 200); break;
        case 'r': settings.retries = (int)kit_parse_long("--retries", optarg, 0, 5); break;
        case 'b': settings.backoff = kit_parse_double("--backoff", optarg, 0, 2); break;
        case 't': settings.timeout = kit_parse_double("--timeout", optarg, 0.01, 60); break;
        case 's': server_url = optarg; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        kit_die("curl_global_init failed");
    struct local_server server = {0};
    if (server_url == NULL) {
        kit_own_children(); /* Ctrl-C or an error exit stops the server too */
        if (local_server_start(&server) != 0)
            kit_die("could not start the local server (give one with --server=URL)");
        server_url = server.url;
    }
    size_t count = (size_t)urls_wanted + 1;
    const char **urls = calloc(count, sizeof urls[0]);
    char **texts = calloc(count, sizeof texts[0]);
    struct fetch_outcome *outcomes = calloc(count, sizeof outcomes[0]);
    if (urls == NULL || texts == NULL || outcomes == NULL)
        kit_die_errno("calloc %zu URLs", count);
    for (size_t i = 0; i < count; i++) {
        int len = i + 1 < count ? asprintf(&texts[i], "%s/delay/0.2", server_url)
                                : asprintf(&texts[i], "%s/flaky/2?id=fetch_demo-%ld-%ld",
                                           server_url, (long)getpid(), (long)(kit_now() * 1e6));
        if (len < 0)
            kit_die_errno("asprintf");
        urls[i] = texts[i];
    }

    loopback_stat(loopback_port_of_url(server_url), "/stats/reset", "max_in_flight");
    double start = kit_now();
    int failed = fetch_all(urls, count, &settings, outcomes);
    int error = errno; /* the /stats request below may change errno */
    double elapsed = kit_seconds_since(start);
    long seen = loopback_stat(loopback_port_of_url(server_url), "/stats", "max_in_flight");
    int status = 1;
    if (failed == -1) {
        printf("FAILED: fetch_all: %s%s\n", strerror(error),
               error == ENOSYS ? " (not written yet: lib/fetch_all.c)" : "");
    } else {
        for (size_t i = 0; i < count; i++)
            printf("%-5s %3ld  %6ld bytes  %d attempt%s  %s%s%s\n",
                   outcomes[i].code != CURLE_OK ? "error"
                   : outcomes[i].status >= 400  ? "http"
                                                : "ok",
                   outcomes[i].status, outcomes[i].bytes, outcomes[i].attempts,
                   outcomes[i].attempts == 1 ? "" : "s", urls[i],
                   outcomes[i].code != CURLE_OK ? ": " : "",
                   outcomes[i].code != CURLE_OK ? curl_easy_strerror(outcomes[i].code) : "");
        long expected = (long)count < settings.max_in_flight ? (long)count : settings.max_in_flight;
        if (seen >= 0)
            printf("%zu URLs in %.2f s; the server saw at most %ld requests in flight at once "
                   "(K = %d)\n",
                   count, elapsed, seen, settings.max_in_flight);
        if (failed > 0)
            printf("FAILED: %d of %zu URLs failed\n", failed, count);
        else if (seen < 0) {
            printf("note: %s has no /stats (not the kit's local server?): the URLs were "
                   "fetched, but how many were in flight at once is not known\n",
                   server_url);
            status = 0;
        } else if (seen > settings.max_in_flight)
            printf("FAILED: more than K = %d in flight at once\n", settings.max_in_flight);
        else if (seen < expected)
            printf("FAILED: only %ld in flight at once, %ld could have been\n", seen, expected);
        else {
            printf("OK: %zu URLs fetched, at most %ld in flight at once, as K allows\n", count,
                   seen);
            status = 0;
        }
    }
    for (size_t i = 0; i < count; i++)
        free(texts[i]);
    free(texts);
    free(urls);
    free(outcomes);
    local_server_stop(&server);
    curl_global_cleanup();
    return status;
}
