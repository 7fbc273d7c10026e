/**
 * @file grade_aggregate.c
 * @brief The grader's driver for exercise 06: checks an aggregator.h implementation against
 *        the local server, one test a run.
 *
 * The grader builds this file beside the student's lib/ (tests/grade/prepare) and runs it
 * against the suite's own loop_server (--server). Expected digests come from the driver's own
 * copy of the digest, over bodies it fetched itself, never from the student's code. The
 * server's /stats (reset before each call) says how many requests it served and how many it had
 * in flight at once. Each --test prints one verdict line, `OK: ...` (exit 0) or
 * `BROKEN: what was expected, what happened` (exit 1):
 *
 *   method      (--method) 4 x /delay/0.4 and 4 fast sources, one per worker: every
 *               result right, the 4 slow ones in flight at once; threads and processes again on
 *               2 workers: exactly 2 in flight; digests in child processes (processes) or in
 *               this one; the event loop in one thread; no thread, child or descriptor left
 *   failures    404, a refused port, /stall timing out and 503 fail alone, told apart, for the
 *               three core methods; the others right; the return value counts them
 *   statistics  agg_statistics() on made-up sources: every field exact; none ok; none at all
 *   progress    (--method) one report per source, done 1..N, never two at once, in this
 *               process, each with its result set, the first while the slowest is in flight
 *   retries     (--method) /flaky recovers, 503 and refused retried, 404 not; exact attempts
 *               and requests served; the backoff waited
 *   cache       (--method) a second call fetches only what failed; the same digests, marked
 *               from the cache; another rounds is another key
 *   hybrid      results right, all in flight at once, every digest in a child process, the
 *               calling thread's CPU time small beside the digests', children reaped
 *
 * Usage: grade_aggregate --test=NAME --server=URL [--method=NAME]
 */
#define _GNU_SOURCE /* asprintf */
#include "kit.h"
#include "lib/aggregator.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
    "Usage: grade_aggregate [options]\n"
    "Checks an aggregator.h implementation against the local server (exercise 06's grader).\n"
    "  -t, --test=NAME     method, failures, statistics, progress, retries, cache or hybrid\n"
    "  -s, --server=URL    the local server, e.g. http://127.0.0.1:8080\n"
    "  -m, --method=NAME   threads, processes or event-loop (method, progress, retries, cache)\n"
    "  -h, --help          show this help and exit\n";

enum { ROUNDS = 200000, LOOP_ROUNDS = 2000000 };
static const char *server;
static char refused_url[64];
static const char *const method_names[] = {"threads", "processes", "event-loop", "hybrid"};

static void broken(const char *fmt, ...) KIT_PRINTF(1, 2) KIT_NORETURN;
static void broken(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    printf("BROKEN: ");
    vprintf(fmt, args);
    va_end(args);
    printf("\n");
    exit(1);
}

/* The driver's own allocations that live until it exits are kept in reach of a global, so
 * that LeakSanitizer (a SANITIZE=address build) reports only leaks of the code under test. */
static void *kept[4096];
static size_t kept_count;

static void *keep_reachable(void *memory)
{
    if (kept_count < sizeof kept / sizeof kept[0])
        kept[kept_count++] = memory;
    return memory;
}

static char *on_server(const char *fmt, ...) KIT_PRINTF(1, 2);
static char *on_server(const char *fmt, ...)
{
    char *path, *url;
    va_list args;
    va_start(args, fmt);
    if (vasprintf(&path, fmt, args) < 0 || asprintf(&url, "%s%s", server, path) < 0)
        kit_die_errno("asprintf");
    va_end(args);
    free(path);
    return keep_reachable(url);
}

/* The digest as aggregator.h defines it: the grader's own, never the student's. */
static struct agg_digest reference(const char *body, size_t size, uint64_t rounds)
{
    uint64_t words = 0, checksum = 0;
    bool in_word = false;
    for (size_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)body[i];
        checksum += c;
        bool space = c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
        words += !space && !in_word;
        in_word = !space;
    }
    for (uint64_t r = 0; r < rounds; r++)
        checksum = (checksum * 31 + 17) % 1000000007;
    return (struct agg_digest){size, words, checksum};
}

struct text {
    char *data;
    size_t size;
};

static size_t keep(char *data, size_t size, size_t count, void *userdata)
{
    struct text *text = userdata;
    char *grown = realloc(text->data, text->size + size * count + 1);
    if (grown == NULL)
        return 0;
    memcpy(grown + text->size, data, size * count);
    text->data = grown;
    text->size += size * count;
    text->data[text->size] = '\0';
    return size * count;
}

/* GET @p url with the driver's own easy handle; exits if no answer came. */
static struct text get(const char *url)
{
    struct text text = {calloc(1, 1), 0};
    CURL *easy = curl_easy_init();
    if (easy == NULL || text.data == NULL)
        kit_die("out of memory");
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &text);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    CURLcode code = curl_easy_perform(easy);
    curl_easy_cleanup(easy);
    if (code != CURLE_OK)
        kit_die("the grader's own GET %s failed: %s", url, curl_easy_strerror(code));
    return text;
}

struct figures {
    long requests, in_flight, max_in_flight;
};

static struct figures server_figures(const char *path)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", server, path);
    struct text text = get(url);
    struct figures f;
    if (sscanf(text.data, "{\"requests\": %ld, \"in_flight\": %ld, \"max_in_flight\": %ld",
               &f.requests, &f.in_flight, &f.max_in_flight) != 3)
        kit_die("unexpected /stats: %s", text.data);
    free(text.data);
    return f;
}

static void make_refused_url(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof address;
    if (fd == -1 || bind(fd, (struct sockaddr *)&address, sizeof address) == -1 ||
        getsockname(fd, (struct sockaddr *)&address, &len) == -1)
        kit_die_errno("bind a port for refused connections");
    snprintf(refused_url, sizeof refused_url, "http://127.0.0.1:%d/", ntohs(address.sin_port));
}

static int count_entries(const char *path)
{
    DIR *dir = opendir(path);
    if (dir == NULL)
        kit_die_errno("opendir %s", path);
    int count = 0;
    for (struct dirent *entry; (entry = readdir(dir)) != NULL;)
        count += entry->d_name[0] != '.';
    closedir(dir);
    return count;
}

static int thread_count(void)
{
    return count_entries("/proc/self/task");
}

static int descriptor_count(void)
{
    return count_entries("/proc/self/fd") - 1; /* opendir's own */
}

/* No child process of ours left, reaped or not. */
static void expect_no_child(const char *method)
{
    pid_t pid = waitpid(-1, NULL, WNOHANG); /* -1 (ECHILD): no child at all */
    if (pid >= 0)
        broken("%s: every child process reaped when aggregate() returns; one was %s", method,
               pid > 0 ? "left as a zombie (never waited for)" : "still running");
}

/* What a source should end with. */
struct expected {
    char *url;
    bool ok;
    long status;
    int attempts;
    struct agg_digest digest;
};

/* A source that answers the same every time: its expected result from a GET of our own. */
static struct expected answers(char *url, uint64_t rounds)
{
    struct text body = get(url);
    struct expected e = {url, true, 200, 1, reference(body.data, body.size, rounds)};
    free(body.data);
    return e;
}

/* A /delay/S source: its body, {"delay": S} and a newline, made here (no need to wait S
 * seconds for it); main() checks once that the server's /delay/0 body has that form. */
static struct expected delayed(double seconds, uint64_t rounds)
{
    char body[64];
    int size = snprintf(body, sizeof body, "{\"delay\": %g}\n", seconds);
    return (struct expected){on_server("/delay/%g", seconds), true, 200, 1,
                             reference(body, (size_t)size, rounds)};
}

static void check_delay_body(void)
{
    char *url = on_server("/delay/0");
    struct text text = get(url);
    if (strcmp(text.data, "{\"delay\": 0}\n") != 0)
        kit_die("the server's /delay/0 answered '%s', not {\"delay\": 0}", text.data);
    free(text.data);
}

static struct expected fails(char *url, long status, int attempts)
{
    return (struct expected){url, false, status, attempts, {0, 0, 0}};
}

/* Run @p method on @p want; check every source and the return value. Returns the sources
 * (the caller frees them) and the call's wall time in @p wall. */
static struct agg_source *run_and_check(enum agg_method method, const struct expected want[],
                                        size_t count, const struct agg_options *options,
                                        double *wall)
{
    const char *name = method_names[method];
    struct agg_source *got = calloc(count + 1, sizeof got[0]);
    if (got == NULL)
        kit_die_errno("calloc");
    int failures = 0;
    for (size_t i = 0; i < count; i++) {
        got[i].url = want[i].url;
        failures += !want[i].ok;
    }
    double start = kit_now();
    int returned = aggregate(method, got, count, options);
    double elapsed = kit_seconds_since(start);
    if (returned == -1)
        broken("%s: aggregate() returned -1 (%s)%s", name, strerror(errno),
               errno == ENOSYS ? ": not written yet" : "");
    for (size_t i = 0; i < count; i++) {
        const struct expected *w = &want[i];
        const struct agg_source *g = &got[i];
        if (g->url != w->url)
            broken("%s: sources[%zu].url is the caller's, and stays as it is", name, i);
        if (g->ok != w->ok || g->status != w->status || g->attempts != w->attempts ||
            g->digest.chars != w->digest.chars || g->digest.words != w->digest.words ||
            g->digest.checksum != w->digest.checksum)
            broken("%s: sources[%zu], %s: expected ok %s, status %ld, %d attempt%s, digest %llu "
                   "chars %llu words checksum %llu; got ok %s, status %ld, %d attempt%s, digest "
                   "%llu chars %llu words checksum %llu (rounds %llu, retries %d)",
                   name, i, w->url, w->ok ? "true" : "false", w->status, w->attempts,
                   w->attempts == 1 ? "" : "s", (unsigned long long)w->digest.chars,
                   (unsigned long long)w->digest.words, (unsigned long long)w->digest.checksum,
                   g->ok ? "true" : "false", g->status, g->attempts, g->attempts == 1 ? "" : "s",
                   (unsigned long long)g->digest.chars, (unsigned long long)g->digest.words,
                   (unsigned long long)g->digest.checksum, (unsigned long long)options->rounds,
                   options->retries);
        if (g->from_cache && options->cache == NULL)
            broken("%s: sources[%zu] from_cache, with no cache given", name, i);
        if (g->fetch_seconds < 0 || g->fetch_seconds > elapsed + 0.01 || g->process_seconds < 0 ||
            g->process_seconds > elapsed + 0.01 ||
            (g->ok && !g->from_cache && options->rounds >= ROUNDS && !(g->process_seconds > 0)))
            broken("%s: sources[%zu], %s: fetch_seconds and process_seconds measured during the "
                   "call (%.3f s); got %.6f and %.6f",
                   name, i, w->url, elapsed, g->fetch_seconds, g->process_seconds);
        if (strstr(w->url, "/delay/0.4") != NULL && g->fetch_seconds < 0.4)
            broken("%s: sources[%zu], /delay/0.4: its fetch took 0.4 s at least; fetch_seconds "
                   "is %.6f",
                   name, i, g->fetch_seconds);
    }
    if (returned != failures)
        broken("%s: aggregate() returns how many sources are not ok: %d; it returned %d", name,
               failures, returned);
    if (wall != NULL)
        *wall = elapsed;
    return got;
}

/* 4 x /delay/0.4, then 4 fast sources, all with known bodies. The slow ones come first: a
 * method that starts its sources one after another in input order (forks, say: slow under
 * ThreadSanitizer) starts them closest together. */
static size_t core_sources(struct expected want[8], uint64_t rounds)
{
    for (int i = 0; i < 4; i++)
        want[i] = delayed(0.4, rounds);
    want[4] = answers(on_server("/json"), rounds);
    want[5] = answers(on_server("/bytes/3000"), rounds);
    want[6] = answers(on_server("/numbers/500?seed=7"), rounds);
    want[7] = answers(on_server("/news/3"), rounds);
    return 8;
}

struct watcher {
    atomic_bool stop;
    atomic_int most;
};

static void *watch_threads(void *arg)
{
    struct watcher *w = arg;
    while (!atomic_load(&w->stop)) {
        int now = thread_count();
        if (now > atomic_load(&w->most))
            atomic_store(&w->most, now);
        kit_sleep(0.001);
    }
    return NULL;
}

/* The driver's own CPU time for @p count digests of @p rounds: what the thread that runs them
 * must spend at least. */
static double digests_cpu(size_t count, uint64_t rounds)
{
    double start = kit_cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
    uint64_t sum = 0;
    for (size_t i = 0; i < count; i++)
        sum += reference("{}", 2, rounds).checksum;
    if (sum == 0) /* never: keeps the work from being optimised away */
        kit_die("the reference digest summed to 0");
    return kit_cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - start;
}

static void test_method(enum agg_method method)
{
    const char *name = method_names[method];
    /* The event loop digests in the calling thread: enough rounds that its CPU time shows it. */
    const uint64_t rounds = method == AGG_EVENT_LOOP ? LOOP_ROUNDS : ROUNDS;
    struct expected want[8];
    size_t count = core_sources(want, rounds);
    double digests = method == AGG_EVENT_LOOP ? digests_cpu(count, rounds) : 0;
    int threads = thread_count(), fds = descriptor_count();
    struct watcher w = {.most = 0};
    pthread_t watcher;
    if (method == AGG_EVENT_LOOP) {
        KIT_CHECK_EN(pthread_create(&watcher, NULL, watch_threads, &w));
        kit_sleep(0.01);
    }
    int before = thread_count();
    server_figures("/stats/reset");
    double cpu = kit_cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
    free(run_and_check(method, want, count, &(struct agg_options){.rounds = rounds}, NULL));
    cpu = kit_cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu;
    struct figures f = server_figures("/stats");
    if (method == AGG_EVENT_LOOP) {
        atomic_store(&w.stop, true);
        KIT_CHECK_EN(pthread_join(watcher, NULL));
        if (atomic_load(&w.most) > before + 1)
            broken("%s: every fetch and digest in the calling thread: at most one more thread "
                   "while aggregate() runs; %d more were running at once",
                   name, atomic_load(&w.most) - before);
        if (cpu < 0.5 * digests)
            broken("%s: every digest in the calling thread: its CPU time during the call at "
                   "least half of what the 8 digests take here (%.3f s); it used %.3f s (the "
                   "digests done by another thread?)",
                   name, digests, cpu);
    }
    if (f.requests != (long)count)
        broken("%s: one request per source, %zu; the server served %ld", name, count, f.requests);
    if (f.max_in_flight < 4)
        broken("%s: every source fetched at once (workers 0: one per source), so the four "
               "/delay/0.4 at least in flight together; the server saw at most %ld at once",
               name, f.max_in_flight);
    struct agg_source *got =
        run_and_check(method, want, count, &(struct agg_options){.rounds = rounds}, NULL);
    for (size_t i = 0; i < count; i++) {
        bool here = got[i].processed_by == getpid();
        if (method == AGG_PROCESSES ? here || got[i].processed_by <= 0 : !here)
            broken("%s: sources[%zu] digested %s; processed_by is %ld, this process is %ld", name,
                   i, method == AGG_PROCESSES ? "in a child process" : "in this process",
                   (long)got[i].processed_by, (long)getpid());
    }
    free(got);
    if (method != AGG_EVENT_LOOP) { /* workers 2: exactly 2 in flight */
        server_figures("/stats/reset");
        struct agg_options two = {.workers = 2, .rounds = ROUNDS};
        free(run_and_check(method, want, count, &two, NULL));
        f = server_figures("/stats");
        if (f.max_in_flight != 2)
            broken("%s: with workers = 2, two fetches in flight at once, never more; the server "
                   "saw at most %ld at once",
                   name, f.max_in_flight);
    }
    expect_no_child(name);
    if (thread_count() > threads)
        broken("%s: every thread joined when aggregate() returns; %d more are running", name,
               thread_count() - threads);
    if (descriptor_count() > fds)
        broken("%s: every descriptor closed when aggregate() returns; %d more are open (a "
               "pipe end, a curl handle?)",
               name, descriptor_count() - fds);
    if (method == AGG_EVENT_LOOP)
        printf("OK: %s: every digest right, every source in flight at once in one thread, "
               "which used %.3f s of CPU (the digests take %.3f s here), nothing left\n",
               name, cpu, digests);
    else
        printf("OK: %s: every digest right, every source in flight at once, 2 at once on 2 "
               "workers, nothing left\n",
               name);
}

static void test_failures(void)
{
    for (int m = AGG_THREADS; m <= AGG_EVENT_LOOP; m++) {
        struct expected want[] = {
            answers(on_server("/json"), ROUNDS),
            fails(on_server("/status/404"), 404, 1),
            fails(refused_url, 0, 1),
            fails(on_server("/stall"), 0, 1),
            fails(on_server("/status/503"), 503, 1),
            answers(on_server("/bytes/100"), ROUNDS),
        };
        struct agg_options options = {.rounds = ROUNDS, .timeout = 0.5};
        free(run_and_check((enum agg_method)m, want, 6, &options, NULL));
        expect_no_child(method_names[m]);
    }
    printf("OK: each failure alone in its source (404, refused, timed out, 503), for threads, "
           "processes and the event loop\n");
}

static void expect_near(const char *field, double got, double expected)
{
    if (!(fabs(got - expected) <= 1e-9 * fmax(1, fabs(expected))))
        broken("agg_statistics: %s is %.9g, expected %.9g", field, got, expected);
}

static void test_statistics(void)
{
    struct agg_source s[6] = {
        {.ok = true, .digest = {100, 10, 1}, .fetch_seconds = 0.5, .process_seconds = 0.25},
        {.status = 404, .fetch_seconds = 9.0, .process_seconds = 3.0},
        {.ok = true, .digest = {300, 30, 2}, .fetch_seconds = 0.25, .process_seconds = 0.5},
        {.ok = true, .digest = {300, 5, 3}, .fetch_seconds = 1.0, .process_seconds = 0.125},
        {.digest = {5000, 700, 4}, .fetch_seconds = 2.0}, /* not ok: only counted as failed */
        {.ok = true, .digest = {50, 1, 5}, .fetch_seconds = 1.0, .process_seconds = 0},
    };
    struct agg_stats st;
    memset(&st, 0x5a, sizeof st); /* whatever was there before must not matter */
    agg_statistics(s, 6, &st);
    if (st.ok != 4 || st.failed != 2)
        broken("agg_statistics: ok 4, failed 2; got ok %zu, failed %zu", st.ok, st.failed);
    if (st.total_bytes != 750 || st.total_words != 46)
        broken("agg_statistics: total_bytes 750, total_words 46 (ok sources only); got %llu "
               "and %llu",
               (unsigned long long)st.total_bytes, (unsigned long long)st.total_words);
    if (st.largest != 2 || st.slowest != 3)
        broken("agg_statistics: largest 2 and slowest 3 (the first on a tie); got %zu and %zu",
               st.largest, st.slowest);
    expect_near("mean_bytes", st.mean_bytes, 187.5);
    expect_near("total_fetch_seconds", st.total_fetch_seconds, 2.75);
    expect_near("mean_fetch_seconds", st.mean_fetch_seconds, 0.6875);
    expect_near("stddev_fetch_seconds (population: divide by ok)", st.stddev_fetch_seconds,
                sqrt(0.421875 / 4));
    expect_near("total_process_seconds", st.total_process_seconds, 0.875);
    expect_near("mean_seconds_per_source", st.mean_seconds_per_source, 3.625 / 4);
    memset(&st, 0x5a, sizeof st);
    agg_statistics(s + 1, 1, &st); /* none ok */
    if (st.ok != 0 || st.failed != 1 || st.total_bytes != 0 || st.largest != 1 || st.slowest != 1 ||
        st.mean_bytes != 0 || st.mean_fetch_seconds != 0 || st.stddev_fetch_seconds != 0 ||
        st.mean_seconds_per_source != 0)
        broken("agg_statistics with no ok source: ok 0, failed 1, totals and means 0, largest "
               "and slowest 1 (the count)");
    memset(&st, 0x5a, sizeof st);
    agg_statistics(s, 0, &st); /* no source */
    if (st.ok != 0 || st.failed != 0 || st.largest != 0 || st.slowest != 0 || st.mean_bytes != 0)
        broken("agg_statistics with no source: everything 0");
    printf("OK: every statistic exact, failed sources left out, ties to the first\n");
}

/* What the progress callback saw. */
struct progress_log {
    atomic_bool inside;
    bool overlapped, elsewhere;
    size_t calls, dones[16], totals[16];
    const char *urls[16];
    bool results_set[16];
    long served_at_first; /* requests the server had served at the first report */
    const struct expected *want;
    size_t count;
};

static void on_progress(void *data, size_t done, size_t total, const struct agg_source *source)
{
    struct progress_log *log = data;
    if (atomic_exchange(&log->inside, true))
        log->overlapped = true;
    if (log->calls == 0)
        log->served_at_first = server_figures("/stats").requests;
    if (log->calls < 16) {
        log->dones[log->calls] = done;
        log->totals[log->calls] = total;
        log->urls[log->calls] = source->url;
        for (size_t i = 0; i < log->count; i++)
            if (source->url == log->want[i].url)
                log->results_set[log->calls] =
                    source->ok == log->want[i].ok && source->status == log->want[i].status &&
                    source->digest.checksum == log->want[i].digest.checksum;
    }
    log->calls++;
    atomic_store(&log->inside, false);
}

static void test_progress(enum agg_method method)
{
    const char *name = method_names[method];
    struct expected want[] = {
        answers(on_server("/json"), ROUNDS),
        answers(on_server("/bytes/2000"), ROUNDS),
        answers(on_server("/news/1"), ROUNDS),
        delayed(0.05, ROUNDS),
        delayed(0.5, ROUNDS),
        fails(on_server("/status/404"), 404, 1),
    };
    size_t count = sizeof want / sizeof want[0];
    struct progress_log log = {.want = want, .count = count};
    struct agg_options options = {.rounds = ROUNDS, .progress = on_progress, .progress_data = &log};
    server_figures("/stats/reset");
    free(run_and_check(method, want, count, &options, NULL));
    if (log.calls != count)
        broken("%s: one progress report per source, the failed one (/status/404) too, in this "
               "process: %zu; got %zu",
               name, count, log.calls);
    if (log.overlapped)
        broken("%s: one progress report at a time; two ran at once (a mutex around the call)",
               name);
    for (size_t c = 0; c < count; c++) {
        if (log.dones[c] != c + 1 || log.totals[c] != count)
            broken("%s: report %zu says done %zu of %zu; expected %zu of %zu", name, c + 1,
                   log.dones[c], log.totals[c], c + 1, count);
        if (!log.results_set[c])
            broken("%s: report %zu (%s): the source's result is set when it is reported", name,
                   c + 1, log.urls[c] ? log.urls[c] : "an unknown source");
        for (size_t d = 0; d < c; d++)
            if (log.urls[d] == log.urls[c])
                broken("%s: each source reported once; %s twice", name, log.urls[c]);
    }
    if (log.urls[count - 1] != want[4].url || log.served_at_first >= (long)count)
        broken("%s: each source reported as soon as it is done: the first report before the "
               "slowest source (/delay/0.5) was served, and that one last; the server had "
               "served %ld of the %zu at the first report, and the last was %s",
               name, log.served_at_first, count, log.urls[count - 1]);
    printf("OK: %s: one report per source as it was done, 1 to %zu, one at a time\n", name, count);
}

/* How long a thread spent in a sleep call (nanosleep, clock_nanosleep), sampled every
 * millisecond from its /proc/self/task/TID/syscall: an event loop waits in poll, never there. */
struct sleep_watch {
    pid_t tid;
    atomic_bool stop;
    double slept; /* read after the join */
};

static void *watch_sleeps(void *arg)
{
    struct sleep_watch *w = arg;
    char path[64], text[64];
    snprintf(path, sizeof path, "/proc/self/task/%ld/syscall", (long)w->tid);
    double last = kit_now();
    while (!atomic_load(&w->stop)) {
        FILE *file = fopen(path, "r");
        if (file == NULL)
            kit_die_errno("fopen %s", path); /* the thread is the caller's: it is there */
        long call = -1;                      /* stays so for "running": not a sleep */
        if (fgets(text, sizeof text, file) != NULL && sscanf(text, "%ld", &call) != 1)
            call = -1;
        fclose(file);
        double now = kit_now();
        if (call == SYS_nanosleep || call == SYS_clock_nanosleep)
            w->slept += fmin(now - last, 0.02); /* a late sample counts 20 ms at most */
        last = now;
        kit_sleep(0.001);
    }
    return NULL;
}

static void test_retries(enum agg_method method)
{
    const char *name = method_names[method];
    long id = (long)getpid() * 1000 + (long)(kit_now() * 10) % 1000;
    char body[128];
    int size =
        snprintf(body, sizeof body, "{\"id\":\"grade-x-%ld\",\"attempt\":3,\"failures\":2}", id);
    struct expected want[] = {
        {on_server("/flaky/2?id=grade-x-%ld", id), true, 200, 3,
         reference(body, (size_t)size, ROUNDS)},
        fails(on_server("/flaky/5?id=grade-y-%ld", id), 503, 3),
        fails(on_server("/status/404"), 404, 1),
        fails(refused_url, 0, 3),
        answers(on_server("/json"), ROUNDS),
    };
    struct agg_options options = {.rounds = ROUNDS, .retries = 2, .backoff = 0.05};
    server_figures("/stats/reset");
    double wall;
    struct sleep_watch watch = {.tid = (pid_t)syscall(SYS_gettid)};
    pthread_t watcher;
    if (method == AGG_EVENT_LOOP)
        KIT_CHECK_EN(pthread_create(&watcher, NULL, watch_sleeps, &watch));
    free(run_and_check(method, want, 5, &options, &wall));
    if (method == AGG_EVENT_LOOP) {
        atomic_store(&watch.stop, true);
        KIT_CHECK_EN(pthread_join(watcher, NULL));
        if (watch.slept > 0.05)
            broken("%s: the loop never sleeps: a retry is a due time, and curl_multi_poll's "
                   "timeout wakes the loop then; its thread spent %.3f s in a sleep call "
                   "(nanosleep), during which no transfer moved",
                   name, watch.slept);
    }
    struct figures f = server_figures("/stats");
    if (f.requests != 8)
        broken("%s: 8 requests served (3 + 3 + 1 + 1 attempts that reached the server); the "
               "server served %ld",
               name, f.requests);
    if (wall < 0.15 * 0.99)
        broken("%s: a backoff of 0.05 s, then 0.1 s, before the two retries; the call took "
               "%.3f s",
               name, wall);
    expect_no_child(name);
    printf("OK: %s: retries exact, after the backoff\n", name);
}

static void test_cache(enum agg_method method)
{
    const char *name = method_names[method];
    long id = (long)getpid() * 1000 + (long)(kit_now() * 10) % 1000;
    struct agg_cache *cache = agg_cache_new();
    if (cache == NULL)
        broken("agg_cache_new() returned NULL (%s)%s", strerror(errno),
               errno == ENOSYS ? ": not written yet" : "");
    char body[128];
    int size =
        snprintf(body, sizeof body, "{\"id\":\"grade-z-%ld\",\"attempt\":2,\"failures\":1}", id);
    struct expected want[] = {
        answers(on_server("/json"), ROUNDS),
        answers(on_server("/bytes/1000"), ROUNDS),
        answers(on_server("/news/2"), ROUNDS),
        fails(on_server("/flaky/1?id=grade-z-%ld", id), 503, 1),
        answers(on_server("/numbers/50?seed=1"), ROUNDS),
    };
    enum { SOURCES = sizeof want / sizeof want[0] };
    struct agg_options options = {.rounds = ROUNDS, .cache = cache};
    struct agg_source *first = run_and_check(method, want, SOURCES, &options, NULL);
    want[3] = (struct expected){want[3].url, true, 200, 1, reference(body, (size_t)size, ROUNDS)};
    for (int i = 0; i < 3; i++)
        want[i].attempts = 0;
    /* The whole URL is the key: one that differs only after '?' is another source. */
    want[4] = answers(on_server("/numbers/50?seed=2"), ROUNDS);
    long served = server_figures("/stats").requests; /* no reset: it would forget /flaky's id */
    struct agg_source *second = run_and_check(method, want, SOURCES, &options, NULL);
    struct figures f = server_figures("/stats");
    if (f.requests - served != 2)
        broken("%s: the second call fetches only the source that failed the first time and "
               "/numbers/50?seed=2, never fetched before (the first call had ?seed=1): 2 "
               "requests; the server served %ld",
               name, f.requests - served);
    for (int i = 0; i < SOURCES; i++)
        if (second[i].from_cache != (i < 3) ||
            (i < 3 && (second[i].processed_by != first[i].processed_by ||
                       second[i].fetch_seconds != 0 || second[i].process_seconds != 0)))
            broken("%s: second call, sources[%d] (%s): from_cache %s, processed_by as cached, no "
                   "seconds; got from_cache %s, processed_by %ld (first %ld), %.3f and %.3f s",
                   name, i, want[i].url, i < 3 ? "true" : "false",
                   second[i].from_cache ? "true" : "false", (long)second[i].processed_by,
                   (long)first[i].processed_by, second[i].fetch_seconds, second[i].process_seconds);
    struct expected other = answers(on_server("/json"), ROUNDS + 1);
    server_figures("/stats/reset");
    struct agg_options more = {.rounds = ROUNDS + 1, .cache = cache};
    struct agg_source *third = run_and_check(method, &other, 1, &more, NULL);
    if (server_figures("/stats").requests != 1 || third[0].from_cache)
        broken("%s: the same url with other rounds is not in the cache (its digest differs)", name);
    agg_cache_free(cache);
    free(first), free(second), free(third);
    expect_no_child(name);
    printf("OK: %s: cached sources not fetched again, same digests; failures and other rounds "
           "fetched\n",
           name);
}

static void test_hybrid(void)
{
    const uint64_t rounds = 8000000; /* about 30 ms a digest: CPU time worth measuring */
    struct expected want[8];
    size_t count = core_sources(want, rounds);
    int threads = thread_count(), fds = descriptor_count();
    server_figures("/stats/reset");
    double cpu = kit_cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
    struct agg_source *got =
        run_and_check(AGG_HYBRID, want, count, &(struct agg_options){.rounds = rounds}, NULL);
    cpu = kit_cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu;
    struct figures f = server_figures("/stats");
    double digests = 0;
    for (size_t i = 0; i < count; i++) {
        digests += got[i].process_seconds;
        if (got[i].processed_by == getpid() || got[i].processed_by <= 0)
            broken("hybrid: sources[%zu] digested in a child process; processed_by is %ld, this "
                   "process is %ld",
                   i, (long)got[i].processed_by, (long)getpid());
    }
    if (f.max_in_flight < 4)
        broken("hybrid: every source fetched at once on the event loop, so the four /delay/0.4 "
               "at least in flight together; the server saw at most %ld at once",
               f.max_in_flight);
    if (cpu > 0.5 * digests)
        broken("hybrid: the loop's thread fetches and hands over, the children digest: its CPU "
               "time under half the digests' %.3f s; it used %.3f s",
               digests, cpu);
    expect_no_child("hybrid");
    if (thread_count() > threads || descriptor_count() > fds)
        broken("hybrid: no thread or descriptor left when aggregate() returns; %d threads and "
               "%d descriptors more",
               thread_count() - threads, descriptor_count() - fds);
    free(got);
    printf("OK: hybrid: every digest right, in child processes (the loop's thread used %.3f s "
           "of CPU, the digests took %.3f s), all in flight at once\n",
           cpu, digests);
}

static void *nothing(void *arg)
{
    return arg;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"test", required_argument, NULL, 't'},
        {"server", required_argument, NULL, 's'},
        {"method", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *test = NULL, *method_name = "threads";
    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "t:s:m:h", options, NULL)) != -1;) {
        switch (opt) {
        case 't': test = optarg; break;
        case 's': server = optarg; break;
        case 'm': method_name = optarg; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (test == NULL || server == NULL)
        kit_usage_error("--test and --server are required");
    enum agg_method method = AGG_THREADS;
    while (strcmp(method_names[method], method_name) != 0)
        if (++method > AGG_EVENT_LOOP)
            kit_usage_error("no method named '%s' (threads, processes, event-loop)", method_name);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        kit_die("curl_global_init failed");
    make_refused_url();
    check_delay_body();
    /* ThreadSanitizer starts a thread of its own with the first pthread_create: let it start
     * now, so that it is not counted as a thread the student's code left behind. */
    pthread_t first;
    KIT_CHECK_EN(pthread_create(&first, NULL, nothing, NULL));
    KIT_CHECK_EN(pthread_join(first, NULL));
    if (strcmp(test, "method") == 0)
        test_method(method);
    else if (strcmp(test, "failures") == 0)
        test_failures();
    else if (strcmp(test, "statistics") == 0)
        test_statistics();
    else if (strcmp(test, "progress") == 0)
        test_progress(method);
    else if (strcmp(test, "retries") == 0)
        test_retries(method);
    else if (strcmp(test, "cache") == 0)
        test_cache(method);
    else if (strcmp(test, "hybrid") == 0)
        test_hybrid();
    else
        kit_usage_error("no test named '%s'", test);
    curl_global_cleanup();
    return 0;
}
