/**
 * @file news_scraper.c
 * @brief News titles read with threads, with processes and with an event loop; a winner.
 *
 * What it shows: one real little task done the three ways, side by side. Each page is fetched
 * (the URLs given, like chapter 10's fetchers take them; with none, the kit's local server's
 * `/news/1` .. `/news/N`) and its title read with libxml2's HTML parser, the C counterpart of
 * BeautifulSoup's `soup.head.title`: the document's own html/head/title, not a `<title>` inside
 * an inline SVG of its body. A page with no title in its head is named, not counted as a
 * failure:
 * - threads: chapter 06's thread pool, a thread per page (the seed's thread per URL);
 * - processes: P forked workers (one per CPU, as multiprocessing.Pool()), each fetching its
 *   share of the pages one after another and sending the titles back over one pipe
 *   (lib/page_workers.c);
 * - the event loop: every transfer at once in one thread (libcurl multi on chapter 08's loop,
 *   chapter 10's lib/curl_loop.c), each title read as its page arrives.
 * Every way runs the same compiled page_scrape() (fetch, then page_read_title(), in
 * lib/news_page.c) or, on the loop, the same page_read_title(): only the waiting differs.
 *
 * What to look for: the titles are printed once, then the table: each way's wall time (best of
 * --rounds), CPU time, pages in flight on average, and how it compares with the winner. The
 * verdict checks that the three ways fetched every page and found the same titles (or the same
 * lack of one). Which way wins is a measurement, not a check: on loopback a page comes back in
 * microseconds, so what is timed is each way's own cost (threads to start, processes to fork
 * and to fetch their share in turn, one loop to drive every socket). Try --pages=200, and
 * --processes=1.
 *
 * Processes are owned on every path: Ctrl-C or SIGTERM stops and reaps the workers and the
 * local server (kit_own_children); a worker that dies is named and its pages counted as lost.
 *
 * See also: perf_compare.c (the table for I/O-bound and CPU-bound work), chapter 10's fetchers.
 *
 * Usage: news_scraper [--pages=N] [--threads=N] [--processes=N] [--rounds=N] [--timeout=S]
 *                     [--url=URL] [URL...]
 */
#define _GNU_SOURCE /* asprintf */
#include "../../harness/fetch/fetch.h"
#include "../../harness/report/report.h"
#include "../06-pools/lib/thread_pool.h"
#include "../10-async-http/lib/curl_loop.h"
#include "kit.h"
#include "lib/news_page.h"
#include "lib/page_workers.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_PAGES = 500, SHOWN = 3, WAYS = 3 };
enum way { THREADS, PROCESSES, LOOP };

/* ---- the three ways ------------------------------------------------------------------------ */
/* Threads and processes run the same blocking page_scrape() per page (fetch, then read the
 * title); the processes' way, forked workers and their pipe, is lib/page_workers.c. */

/* ThreadPoolExecutor(max_workers=threads).map(scrape_site, urls) */
static void scrape_with_threads(struct page pages[], size_t count, int threads)
{
    static long unused[MAX_PAGES];
    struct tp_pool *pool = tp_create(threads);
    if (tp_map(pool, page_scrape, pages, sizeof pages[0], count, unused) != 0)
        kit_die("tp_map: a page task failed"); /* page_scrape reports through the page */
    tp_shutdown(pool);
}

/* The event loop's way: called as each page's transfer ends. */
static void on_page_done(CURL *easy, CURLcode code, void *data)
{
    (void)data;
    struct page *page;
    FETCH_CHECK_EASY(curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&page));
    fetch_record(easy, &page->result, code);
    page_read_title(page); /* in the loop's thread: a few microseconds, never a wait */
}

/* asyncio.gather() of every page: all transfers at once on one thread. */
static void scrape_on_loop(struct page pages[], size_t count)
{
    static CURL *easies[MAX_PAGES];
    for (size_t i = 0; i < count; i++)
        easies[i] = page_easy_new(&pages[i]);
    curl_loop_run_all(easies, count, on_page_done, NULL);
    for (size_t i = 0; i < count; i++)
        curl_easy_cleanup(easies[i]);
}

/* ---- one round of one way, checked ---------------------------------------------------------- */

static struct page scraped[MAX_PAGES];
static char first_titles[MAX_PAGES][TITLE_SIZE]; /* the first title found for each page */
static bool first_seen[MAX_PAGES];               /* a way has read the page */
static bool first_had_title[MAX_PAGES];          /* ... and found a title in its head */

/* What went wrong with a page, or NULL: "" for a failed transfer (fetch_print says why). */
static const char *check_page(size_t i)
{
    const struct page *page = &scraped[i];
    if (page->lost)
        return "lost: its worker process died";
    if (!fetch_succeeded(&page->result))
        return "";
    if (!first_seen[i]) {
        first_seen[i] = true;
        first_had_title[i] = page->has_title;
        if (page->has_title)
            strcpy(first_titles[i], page->title);
    } else if (first_had_title[i] != page->has_title) {
        return page->has_title ? "a title where another way found none"
                               : "no title where another way found one";
    } else if (page->has_title && strcmp(first_titles[i], page->title) != 0) {
        return "a different title from the first one found";
    }
    return NULL;
}

/* Run one way over every page; keep its fastest round; count (and show a few) pages that went
 * wrong. */
static void run_way(enum way way, struct report_row *row, const char *const urls[], size_t count,
                    int threads, int workers, double timeout, size_t *problems)
{
    for (size_t i = 0; i < count; i++)
        scraped[i] = (struct page){.result = {.url = urls[i], .attempts = 1}, .timeout = timeout};
    double wall = kit_now(), cpu = report_cpu_seconds();
    if (way == THREADS)
        scrape_with_threads(scraped, count, threads);
    else if (way == PROCESSES)
        page_workers_run(scraped, count, workers);
    else
        scrape_on_loop(scraped, count);
    struct report_row figure = {.wall = kit_seconds_since(wall), .cpu = report_cpu_seconds() - cpu};
    size_t wrong = 0;
    for (size_t i = 0; i < count; i++) {
        figure.at_once += scraped[i].result.seconds / figure.wall;
        const char *why = check_page(i);
        if (why == NULL || wrong++ >= SHOWN)
            continue;
        printf("%s: ", row->csv_name);
        if (*why == '\0')
            fetch_print(&scraped[i].result, false);
        else if (scraped[i].has_title && !scraped[i].lost)
            printf("%s: %s: \"%s\"\n", urls[i], why, scraped[i].title);
        else
            printf("%s: %s\n", urls[i], why);
    }
    if (wrong > SHOWN)
        printf("%s: ... and %zu more pages went wrong\n", row->csv_name, wrong - SHOWN);
    *problems += wrong;
    report_keep_fastest(row, &figure);
}

static const char usage[] =
    "Usage: news_scraper [options] [URL...]\n"
    "Read the title of each page (html/head/title) with threads, with processes and with an\n"
    "event loop. With no URL (at most 500), read a server's /news/1 .. /news/N.\n"
    "  -n, --pages=N       no URL given: pages /news/1 .. /news/N, 1 to 500 (default 12)\n"
    "  -t, --threads=N     threads, 1 to 500 (default: one per page)\n"
    "  -p, --processes=N   worker processes, 1 to 64 (default: one per CPU)\n"
    "  -r, --rounds=N      rounds, 1 to 20; each way's fastest counts (default 3)\n"
    "  -T, --timeout=S     give up on a page after S seconds, 0.1 to 60 (default 5)\n"
    "  -u, --url=URL       no URL given: a server with /news/N (default: start the kit's\n"
    "                      local server)\n"
    "  -h, --help          show this help and exit\n";

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"pages", required_argument, NULL, 'n'},
        {"threads", required_argument, NULL, 't'},
        {"processes", required_argument, NULL, 'p'},
        {"rounds", required_argument, NULL, 'r'},
        {"timeout", required_argument, NULL, 'T'},
        {"url", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long pages = 12, threads = 0, rounds = 3; /* threads 0: one per page */
    bool pages_given = false;
    int workers = kit_cpu_count() > PAGE_WORKERS_MAX ? PAGE_WORKERS_MAX : kit_cpu_count();
    double timeout = 5;
    const char *url = NULL;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "n:t:p:r:T:u:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'n':
            pages = kit_parse_long("--pages", optarg, 1, MAX_PAGES);
            pages_given = true;
            break;
        case 't': threads = kit_parse_long("--threads", optarg, 1, MAX_PAGES); break;
        case 'p': workers = (int)kit_parse_long("--processes", optarg, 1, PAGE_WORKERS_MAX); break;
        case 'r': rounds = kit_parse_long("--rounds", optarg, 1, 20); break;
        case 'T': timeout = kit_parse_double("--timeout", optarg, 0.1, 60); break;
        case 'u': url = optarg; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    if (url != NULL && *url == '\0')
        kit_usage_error("--url needs a value");
    long given = argc - optind; /* page URLs on the command line */
    if (given > 0 && (url != NULL || pages_given))
        kit_usage_error("give page URLs, or --url and --pages for a server's /news/N, not both");
    if (given > MAX_PAGES)
        kit_usage_error("%ld page URLs: at most %d", given, MAX_PAGES);
    if (given > 0)
        pages = given;
    if (threads == 0 || threads > pages)
        threads = pages;
    if (workers > pages)
        workers = (int)pages;

    FETCH_CHECK_EASY(curl_global_init(CURL_GLOBAL_DEFAULT)); /* before any thread or fork */
    page_parser_init(); /* likewise: libxml2 sets up its globals once, here */
    kit_own_children(); /* Ctrl-C, SIGTERM, an error exit: workers and server stopped, reaped */
    struct fetch_plan plan = {0};
    if (url == NULL && given == 0) { /* the kit's local server, started on a free port */
        fetch_plan_start_local_server(&plan, 0, NULL);
        url = plan.server.url;
    }
    const char *urls[MAX_PAGES] = {NULL};
    char *news_urls[MAX_PAGES] = {NULL}; /* /news/N of the server, when no URL was given */
    for (long i = 0; i < pages; i++) {
        if (given > 0)
            urls[i] = argv[optind + i];
        else if (asprintf(&news_urls[i], "%s/news/%ld", url, i + 1) < 0)
            kit_die_errno("asprintf");
        else
            urls[i] = news_urls[i];
    }

    if (given > 0)
        printf("%ld page%s given, %s first", pages, pages == 1 ? "" : "s", urls[0]);
    else
        printf("%ld pages, %s .. /news/%ld", pages, urls[0], pages);
    printf("; %d CPU(s), load average %.2f; best of %ld round(s)\n", kit_cpu_count(),
           report_load_average(), rounds);
    char labels[WAYS][48];
    snprintf(labels[THREADS], sizeof labels[0], "threads (%ld)", threads);
    snprintf(labels[PROCESSES], sizeof labels[0], "processes (%d)", workers);
    snprintf(labels[LOOP], sizeof labels[0], "event loop (1 thread)");
    struct report_row rows[WAYS] = {{labels[THREADS], "threads", 0, 0, 0},
                                    {labels[PROCESSES], "processes", 0, 0, 0},
                                    {labels[LOOP], "event_loop", 0, 0, 0}};
    size_t problems = 0;
    for (long round = 0; round < rounds && problems == 0; round++) /* no rounds after a failure */
        for (int way = 0; way < WAYS; way++)
            run_way((enum way)way, &rows[way], urls, (size_t)pages, (int)threads, workers, timeout,
                    &problems);

    printf("\ntitles:\n");
    long untitled = 0;
    for (long i = 0; i < pages; i++) {
        if (!first_seen[i]) {
            printf("  %3ld  (not read) %s\n", i + 1, urls[i]);
        } else if (!first_had_title[i]) {
            printf("  %3ld  (no title in the page's head) %s\n", i + 1, urls[i]);
            untitled++;
        } else {
            printf("  %3ld  %s\n", i + 1, first_titles[i]);
        }
    }
    size_t winner = 0;
    for (size_t way = 1; way < WAYS; way++)
        if (rows[way].wall < rows[winner].wall)
            winner = way;
    char title[96];
    if (given > 0)
        snprintf(title, sizeof title, "pages: %ld given, head title read with libxml2", pages);
    else
        snprintf(title, sizeof title, "news pages: %ld x /news/N, title read with libxml2", pages);
    const struct report_group group = {title, "news", rows, WAYS, winner, "fastest"};
    report_print(&group, 1, "pages in flight on average");

    int status = 0;
    if (problems > 0) { /* a way that failed fast wins nothing */
        printf("FAILED: %zu pages went wrong (above): not every way found every title\n", problems);
        status = 1;
    } else {
        static const char *const names[WAYS] = {"threads", "processes", "the event loop"};
        printf("winner: %s, %.4f s (", names[winner], rows[winner].wall);
        for (size_t way = 0, listed = 0; way < WAYS; way++)
            if (way != winner)
                printf("%s%s %.4f s", listed++ ? ", " : "", names[way], rows[way].wall);
        printf(")\nOK: threads, processes and the event loop found the same %ld title%s",
               pages - untitled, pages - untitled == 1 ? "" : "s");
        if (untitled > 0)
            printf(", and no title in the head of %ld page%s (named above)", untitled,
                   untitled == 1 ? "" : "s");
        printf("\n");
    }
    for (long i = 0; i < pages; i++)
        free(news_urls[i]);
    fetch_plan_free(&plan);
    page_parser_cleanup();
    curl_global_cleanup();
    return status;
}
