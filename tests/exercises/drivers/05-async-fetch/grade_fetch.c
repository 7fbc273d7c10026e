/**
 * @file grade_fetch.c
 * @brief The grader's driver for exercise 05: checks a fetch_all.h implementation against the
 *        local server, one test a run.
 *
 * The grader builds this file beside the student's lib/fetch_all.c (tests/grade/prepare) and
 * runs it against the suite's own loop_server (--server). The server's /stats says what it saw:
 * how many requests it served and the most it ever had in flight at once; /stats/reset zeroes
 * them before each call. Each --test prints one verdict line, `OK: ...` (exit 0) or
 * `BROKEN: what was expected, what happened` (exit 1):
 *
 *   limit       N x /delay/0.2 at K (-k, -n): the server saw at most K and at least min(K, N)
 *               requests in flight at once, and served N; every URL 200, 15 bytes, 1 attempt
 *   results     mixed URLs, no retries: each outcome's code, status, bytes and attempts, in
 *               input order; the return value counts the failures; 0 URLs return 0
 *   retries     flaky and failing URLs with 3 retries: the attempts, exactly as many requests
 *               served, K kept, the backoff doubling (the call lasts at least 0.05 + 0.1 +
 *               0.2 s); then a URL waiting 1.5 s for its retry holds up nobody: the four other
 *               URLs are served within the first second
 *   window      one or two slow URLs among fast ones, at K = 2 and 3, on the driver's own
 *               server: a slow one answers only once every fast one was answered, which needs
 *               each slot refilled as its transfer ends (K in batches never gets there)
 *   classes     each failure worth retrying, alone: no answer, a partial body, a reset (the
 *               driver's own server), a timeout, a refused connection, a 502: every one
 *               retried, exact attempts and outcomes, one request per attempt
 *   one-thread  10 x /delay/0.3 at K = 10: at most one thread besides the caller's ever runs
 *   clean       20 calls with every kind of ending: afterwards no more descriptors, threads,
 *               heap, or connections and requests open on the server, than after the first
 *
 * Usage: grade_fetch --test=NAME --server=URL [-k K] [-n N]
 */
#define _GNU_SOURCE /* asprintf, mallinfo2 */
#include "kit.h"
#include "lib/fetch_all.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static const char usage[] =
    "Usage: grade_fetch [options]\n"
    "Checks a fetch_all.h implementation against the local server (exercise 05's grader).\n"
    "  -t, --test=NAME        limit, results, retries, window, classes, one-thread or clean\n"
    "  -s, --server=URL       the local server, e.g. http://127.0.0.1:8080\n"
    "  -k, --max-in-flight=N  K for the limit test (default 3)\n"
    "  -n, --urls=N           URLs for the limit test (default 10)\n"
    "  -h, --help             show this help and exit\n";

static const char *server;
static char refused_url[64]; /* a port bound on 127.0.0.1 where nobody listens */

/* Print `BROKEN: ` and the message, and exit 1. */
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

/* A URL on the server (a new string each call; the driver lives briefly). */
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

static size_t keep_text(char *data, size_t size, size_t count, void *userdata)
{
    char *text = userdata;
    size_t have = strlen(text), add = size * count;
    if (have + add < 1024) {
        memcpy(text + have, data, add);
        text[have + add] = '\0';
    }
    return size * count;
}

/* GET @p url with the driver's own easy handle: its body's first KB in @p text, its length in
 * @p bytes and its status returned (exits on a transport error: the server must answer). */
static long get(const char *url, char text[1024], long *bytes)
{
    text[0] = '\0';
    CURL *easy = curl_easy_init();
    if (easy == NULL)
        kit_die("curl_easy_init failed");
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, keep_text);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, text);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    CURLcode code = curl_easy_perform(easy);
    long status = 0;
    curl_off_t size = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(easy, CURLINFO_SIZE_DOWNLOAD_T, &size);
    curl_easy_cleanup(easy);
    if (code != CURLE_OK)
        kit_die("the grader's own GET %s failed: %s", url, curl_easy_strerror(code));
    if (bytes != NULL)
        *bytes = (long)size;
    return status;
}

struct figures {
    long requests, in_flight, max_in_flight, connections;
};

/* The server's /stats, or /stats/reset (the figures before zeroing them). */
static struct figures server_figures(const char *path)
{
    char text[1024], url[256];
    snprintf(url, sizeof url, "%s%s", server, path);
    get(url, text, NULL);
    struct figures f;
    if (sscanf(text,
               "{\"requests\": %ld, \"in_flight\": %ld, \"max_in_flight\": %ld, "
               "\"connections\": %ld",
               &f.requests, &f.in_flight, &f.max_in_flight, &f.connections) != 4)
        kit_die("unexpected /stats: %s", text);
    return f;
}

/* The driver's own small HTTP server (tests window and classes), for what the local server
 * cannot do on cue: a slow URL that answers only once the driver saw the fast ones answered (a
 * rendezvous, so no load on the machine changes the verdict), and each transport failure that
 * fetch_all.h calls worth retrying. One thread accepts; a thread per connection reads one
 * request and answers with Connection: close (no connection is reused, so every attempt is a
 * connection of its own). Paths:
 *   /fast/I                   200, "fast\n"
 *   /gate/N                   200, "gate\n", once N /fast answers went out (5 s at most: then
 *                             it answers anyway, and the window test says what held it up)
 *   /fail/MODE/N/ID           the first N requests for ID fail by MODE, later ones get 200,
 *                             "ok\n": close (no answer: CURLE_GOT_NOTHING), partial (10 of
 *                             100 body bytes: CURLE_PARTIAL_FILE), reset (a TCP reset:
 *                             CURLE_RECV_ERROR) */
enum { GATE_TIMEOUT_S = 5, FAIL_IDS = 16 };

static struct {
    int port;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    long requests, fast_answered; /* guarded by lock, like every field below */
    int in_flight, most_in_flight;
    bool gate_timed_out;
    long fast_when_timed_out; /* fast answers when a gate gave up waiting */
    struct {
        char id[32];
        int seen;
    } fails[FAIL_IDS];
} own = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

/* Zero the own server's figures (between calls; no request is in flight then). */
static void own_reset(void)
{
    KIT_CHECK_EN(pthread_mutex_lock(&own.lock));
    own.requests = own.fast_answered = 0;
    own.most_in_flight = 0;
    own.gate_timed_out = false;
    KIT_CHECK_EN(pthread_mutex_unlock(&own.lock));
}

/* How many requests for @p id came so far, this one included. */
static int own_attempt(const char *id)
{
    int slot = 0;
    while (slot < FAIL_IDS && own.fails[slot].id[0] != '\0' && strcmp(own.fails[slot].id, id) != 0)
        slot++;
    if (slot == FAIL_IDS)
        kit_die("the driver's server: more than %d ids", FAIL_IDS);
    snprintf(own.fails[slot].id, sizeof own.fails[slot].id, "%s", id);
    return ++own.fails[slot].seen;
}

static void own_answer(int fd, const char *body)
{
    char text[256];
    int size = snprintf(text, sizeof text,
                        "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                        strlen(body), body);
    (void)kit_write_full(fd, text, (size_t)size); /* a client gone is its own business */
}

/* One request on @p fd, answered as its path says. Returns whether /fast was answered. */
static bool own_serve(int fd, const char *path)
{
    char mode[16], id[32];
    int n;
    if (strncmp(path, "/fast/", 6) == 0) {
        own_answer(fd, "fast\n");
        return true;
    }
    if (sscanf(path, "/gate/%d", &n) == 1) {
        struct timespec deadline = kit_deadline(CLOCK_REALTIME, GATE_TIMEOUT_S);
        KIT_CHECK_EN(pthread_mutex_lock(&own.lock));
        while (own.fast_answered < n && !own.gate_timed_out) {
            int error = pthread_cond_timedwait(&own.changed, &own.lock, &deadline);
            if (error == ETIMEDOUT) {
                own.gate_timed_out = true;
                own.fast_when_timed_out = own.fast_answered;
            } else if (error != 0)
                kit_die_en(error, "pthread_cond_timedwait");
        }
        KIT_CHECK_EN(pthread_mutex_unlock(&own.lock));
        own_answer(fd, "gate\n");
    } else if (sscanf(path, "/fail/%15[a-z]/%d/%31[a-z0-9-]", mode, &n, id) == 3) {
        KIT_CHECK_EN(pthread_mutex_lock(&own.lock));
        bool fail = own_attempt(id) <= n;
        KIT_CHECK_EN(pthread_mutex_unlock(&own.lock));
        static const char partial[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
                                      "Connection: close\r\n\r\n0123456789";
        if (!fail)
            own_answer(fd, "ok\n");
        else if (strcmp(mode, "partial") == 0)
            (void)kit_write_full(fd, partial, sizeof partial - 1);
        else if (strcmp(mode, "reset") == 0) /* close with a reset, not a FIN */
            (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){1, 0},
                             sizeof(struct linger));
        /* close: no answer at all */
    } else {
        static const char missing[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                                      "Connection: close\r\n\r\n";
        (void)kit_write_full(fd, missing, sizeof missing - 1);
    }
    return false;
}

static void *own_connection(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char request[2048];
    size_t have = 0;
    struct timeval wait = {.tv_sec = 10};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    while (have < sizeof request - 1) { /* up to the blank line that ends the headers */
        ssize_t got = read(fd, request + have, sizeof request - 1 - have);
        if (got <= 0)
            break;
        have += (size_t)got;
        request[have] = '\0';
        if (strstr(request, "\r\n\r\n") != NULL)
            break;
    }
    request[have] = '\0';
    char path[256];
    if (sscanf(request, "GET %255s HTTP/", path) == 1) {
        KIT_CHECK_EN(pthread_mutex_lock(&own.lock));
        own.requests++;
        if (++own.in_flight > own.most_in_flight)
            own.most_in_flight = own.in_flight;
        KIT_CHECK_EN(pthread_mutex_unlock(&own.lock));
        bool fast = own_serve(fd, path);
        KIT_CHECK_EN(pthread_mutex_lock(&own.lock));
        own.in_flight--;
        own.fast_answered += fast;
        KIT_CHECK_EN(pthread_cond_broadcast(&own.changed));
        KIT_CHECK_EN(pthread_mutex_unlock(&own.lock));
    }
    close(fd);
    return NULL;
}

static void *own_accept(void *arg)
{
    int listener = (int)(intptr_t)arg;
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (fd == -1) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            kit_die_errno("the driver's server: accept");
        }
        pthread_t thread;
        KIT_CHECK_EN(pthread_create(&thread, NULL, own_connection, (void *)(intptr_t)fd));
        KIT_CHECK_EN(pthread_detach(thread));
    }
    return NULL;
}

/* Start the driver's own server on a free port of 127.0.0.1 (it runs until the driver exits). */
static void own_start(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof address;
    if (fd == -1 || bind(fd, (struct sockaddr *)&address, sizeof address) == -1 ||
        listen(fd, 64) == -1 || getsockname(fd, (struct sockaddr *)&address, &len) == -1)
        kit_die_errno("the driver's server: socket, bind or listen");
    own.port = ntohs(address.sin_port);
    pthread_t thread;
    KIT_CHECK_EN(pthread_create(&thread, NULL, own_accept, (void *)(intptr_t)fd));
    KIT_CHECK_EN(pthread_detach(thread));
}

/* A URL on the driver's own server. */
static char *on_own(const char *fmt, ...) KIT_PRINTF(1, 2);
static char *on_own(const char *fmt, ...)
{
    char *path, *url;
    va_list args;
    va_start(args, fmt);
    if (vasprintf(&path, fmt, args) < 0 ||
        asprintf(&url, "http://127.0.0.1:%d%s", own.port, path) < 0)
        kit_die_errno("asprintf");
    va_end(args);
    free(path);
    return keep_reachable(url);
}

/* Bind a port on 127.0.0.1 and never listen: a connection there is refused at once. */
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

/* What one URL should end with. bytes -1: whatever the driver's own GET of it says. */
struct expected {
    const char *url;
    CURLcode code;
    long status, bytes;
    int attempts;
};

/* An outcome's code in words: "an answer" for CURLE_OK, else curl's name for the error. */
static const char *code_name(CURLcode code)
{
    return code == CURLE_OK ? "an answer" : curl_easy_strerror(code);
}

/* Call fetch_all on the expected URLs; check every outcome and the return value. Returns the
 * call's wall time. */
static double check_call(struct expected want[], size_t count, const struct fetch_settings *s)
{
    const char **urls = calloc(count + 1, sizeof urls[0]);
    struct fetch_outcome *got = calloc(count + 1, sizeof got[0]);
    if (urls == NULL || got == NULL)
        kit_die_errno("calloc");
    int failures = 0;
    for (size_t i = 0; i < count; i++) {
        urls[i] = want[i].url;
        failures += want[i].code != CURLE_OK || want[i].status >= 400;
    }
    double start = kit_now();
    int returned = fetch_all(urls, count, s, got);
    double elapsed = kit_seconds_since(start);
    if (returned == -1)
        broken("fetch_all returned -1 (%s)%s", strerror(errno),
               errno == ENOSYS ? ": not written yet" : "");
    for (size_t i = 0; i < count; i++) {
        const struct expected *w = &want[i];
        const struct fetch_outcome *g = &got[i];
        if (g->code != w->code || g->status != w->status || g->bytes != w->bytes ||
            g->attempts != w->attempts)
            broken("outcomes[%zu], for %s: expected %s, status %ld, %ld bytes, %d attempt%s; "
                   "got %s, status %ld, %ld bytes, %d attempt%s (K %d, retries %d)",
                   i, w->url, code_name(w->code), w->status, w->bytes, w->attempts,
                   w->attempts == 1 ? "" : "s", code_name(g->code), g->status, g->bytes,
                   g->attempts, g->attempts == 1 ? "" : "s", s->max_in_flight, s->retries);
    }
    if (returned != failures)
        broken("fetch_all returned %d, but %d of the %zu URLs failed", returned, failures, count);
    free(urls);
    free(got);
    return elapsed;
}

/* The expected outcome of a URL that answers the same every time, from a GET of our own. */
static struct expected answers(char *url)
{
    char text[1024];
    long bytes;
    long status = get(url, text, &bytes);
    return (struct expected){url, CURLE_OK, status, bytes, 1};
}

static void test_limit(int k, int n)
{
    struct expected *want = keep_reachable(calloc((size_t)n, sizeof want[0]));
    if (want == NULL)
        kit_die_errno("calloc");
    for (int i = 0; i < n; i++)
        want[i] = (struct expected){on_server("/delay/0.2"), CURLE_OK, 200, 15, 1};
    server_figures("/stats/reset");
    check_call(want, (size_t)n, &(struct fetch_settings){k, 0, 0.1, 10});
    struct figures f = server_figures("/stats");
    int least = k < n ? k : n;
    if (f.max_in_flight > k)
        broken("at most K = %d requests in flight at once; the server saw %ld at once", k,
               f.max_in_flight);
    if (f.max_in_flight < least)
        broken("%d requests in flight at once (K = %d, %d URLs, each 0.2 s); the server saw at "
               "most %ld at once",
               least, k, n, f.max_in_flight);
    if (f.requests != n)
        broken("%d requests served, one per URL; the server served %ld", n, f.requests);
    printf("OK: %d URLs at K = %d: the server saw %ld in flight at once at most\n", n, k,
           f.max_in_flight);
}

static void test_results(void)
{
    struct expected want[] = {
        answers(on_server("/bytes/1000")),
        answers(on_server("/json")),
        answers(on_server("/status/404")),
        {refused_url, CURLE_COULDNT_CONNECT, 0, 0, 1},
        answers(on_server("/bytes/0")),
        {on_server("/stall"), CURLE_OPERATION_TIMEDOUT, 0, 0, 1},
        answers(on_server("/status/503")),
        answers(on_server("/status/204")),
        answers(on_server("/bytes/70000")),
    };
    size_t count = sizeof want / sizeof want[0];
    check_call(want, count, &(struct fetch_settings){4, 0, 0.1, 0.5});
    struct fetch_outcome none[1];
    int returned = fetch_all(NULL, 0, &(struct fetch_settings){4, 0, 0.1, 1}, none);
    if (returned != 0)
        broken("fetch_all of 0 URLs returns 0; it returned %d", returned);
    printf("OK: every outcome right, in input order; %zu URLs, 4 failures counted\n", count);
}

struct stats_at {
    double at;        /* kit_now() at which to read /stats */
    struct figures f; /* what it said */
};

static void *read_stats_later(void *arg)
{
    struct stats_at *later = arg;
    kit_sleep(later->at - kit_now());
    later->f = server_figures("/stats");
    return NULL;
}

static void test_retries(void)
{
    long id = (long)getpid() * 1000 + (long)(kit_now() * 10) % 1000;
    struct expected want[] = {
        {on_server("/flaky/2?id=grade-a-%ld", id), CURLE_OK, 200, -1, 3},
        {on_server("/flaky/9?id=grade-b-%ld", id), CURLE_OK, 503, -1, 4},
        answers(on_server("/status/404")),
        {on_server("/status/500"), CURLE_OK, 500, 16, 4},
        {refused_url, CURLE_COULDNT_CONNECT, 0, 0, 4},
        answers(on_server("/json")),
    };
    /* /flaky's body is {"id":"X","attempt":N,"failures":K}, with no newline: its size */
    char body[256];
    want[0].bytes = snprintf(body, sizeof body,
                             "{\"id\":\"grade-a-%ld\",\"attempt\":3,"
                             "\"failures\":2}",
                             id);
    want[1].bytes = snprintf(body, sizeof body,
                             "{\"id\":\"grade-b-%ld\",\"attempt\":4,"
                             "\"failures\":9}",
                             id);
    server_figures("/stats/reset");
    double elapsed =
        check_call(want, sizeof want / sizeof want[0], &(struct fetch_settings){2, 3, 0.05, 2});
    struct figures f = server_figures("/stats");
    if (f.max_in_flight > 2)
        broken("retries count as transfers in flight: at most K = 2 at once; the server saw %ld",
               f.max_in_flight);
    if (f.requests != 13)
        broken("13 requests served (3 + 4 + 1 + 4 + 1 attempts that reached the server); the "
               "server served %ld",
               f.requests);
    if (elapsed < 0.35 * 0.99)
        broken("a backoff of 0.05 s, then 0.1, then 0.2 before the three retries (0.35 s at "
               "least); the call took %.3f s",
               elapsed);

    /* A URL waiting for its retry (1.5 s) holds no slot: the others go on meanwhile. */
    struct expected waits[] = {
        {on_server("/flaky/1?id=grade-c-%ld", id), CURLE_OK, 200, -1, 2},
        {on_server("/delay/0.2"), CURLE_OK, 200, 15, 1},
        {on_server("/delay/0.2"), CURLE_OK, 200, 15, 1},
        {on_server("/delay/0.2"), CURLE_OK, 200, 15, 1},
        {on_server("/delay/0.2"), CURLE_OK, 200, 15, 1},
    };
    waits[0].bytes = snprintf(body, sizeof body,
                              "{\"id\":\"grade-c-%ld\",\"attempt\":2,"
                              "\"failures\":1}",
                              id);
    server_figures("/stats/reset");
    struct stats_at later = {.at = kit_now() + 1.0};
    pthread_t reader;
    KIT_CHECK_EN(pthread_create(&reader, NULL, read_stats_later, &later));
    check_call(waits, sizeof waits / sizeof waits[0], &(struct fetch_settings){2, 1, 1.5, 2});
    KIT_CHECK_EN(pthread_join(reader, NULL));
    if (later.f.requests < 5)
        broken("while the flaky URL waits 1.5 s for its retry, the four /delay/0.2 URLs go on "
               "(K = 2): 5 requests served after 1 s; the server had served %ld (a sleep in "
               "the loop holds everyone up)",
               later.f.requests);
    printf("OK: retries exact, within K, with a doubling backoff, holding up nobody\n");
}

/* window: K slots refilled as each transfer ends. The /gate URLs answer only once every /fast
 * URL was answered: through the slots the gates leave free, one after another. K at a time in
 * batches never gets there (a batch waits for its gate, the gate for the next batches). */
static void window_call(int k, size_t count, const int gate_at[], int gates)
{
    struct expected *want = keep_reachable(calloc(count, sizeof want[0]));
    if (want == NULL)
        kit_die_errno("calloc");
    int fast = (int)count - gates;
    for (size_t i = 0; i < count; i++)
        want[i] = (struct expected){on_own("/fast/%zu", i), CURLE_OK, 200, 5, 1};
    for (int g = 0; g < gates; g++)
        want[gate_at[g]].url = on_own("/gate/%d", fast);
    own_reset();
    check_call(want, count, &(struct fetch_settings){k, 0, 0.1, 2 * GATE_TIMEOUT_S});
    KIT_CHECK_EN(pthread_mutex_lock(&own.lock));
    bool held_up = own.gate_timed_out;
    int most = own.most_in_flight;
    long answered = own.fast_when_timed_out;
    KIT_CHECK_EN(pthread_mutex_unlock(&own.lock));
    if (held_up)
        broken("K = %d, %d slow URL%s among %d fast ones: each slow one answers once every fast "
               "one was answered, through the slots left free, each refilled as its transfer "
               "ends; after %d s only %ld of the %d fast ones had been answered (K at a time "
               "in batches, waiting for the slowest of each?)",
               k, gates, gates == 1 ? "" : "s", fast, GATE_TIMEOUT_S, answered, fast);
    if (most > k)
        broken("at most K = %d requests in flight at once; the driver's server saw %d", k, most);
}

static void test_window(void)
{
    own_start();
    window_call(2, 7, (const int[]){0}, 1);
    window_call(3, 10, (const int[]){1, 4}, 2);
    printf("OK: each slot refilled as its transfer ended: the slow URLs held up none of the "
           "fast ones (K = 2 and 3)\n");
}

/* classes: every failure that fetch_all.h calls worth retrying is retried, each class alone:
 * no answer, a partial body, a reset, a timeout, a refused connection, a 5xx. */
static void test_classes(void)
{
    own_start();
    long id = (long)getpid() * 1000 + (long)(kit_now() * 10) % 1000;
    struct expected want[] = {
        {on_own("/fail/close/1/a-%ld", id), CURLE_OK, 200, 3, 2},
        {on_own("/fail/partial/1/b-%ld", id), CURLE_OK, 200, 3, 2},
        {on_own("/fail/reset/1/c-%ld", id), CURLE_OK, 200, 3, 2},
        {on_own("/fail/close/9/d-%ld", id), CURLE_GOT_NOTHING, 0, 0, 3},
        {on_server("/stall"), CURLE_OPERATION_TIMEDOUT, 0, 0, 3},
        {refused_url, CURLE_COULDNT_CONNECT, 0, 0, 3},
        answers(on_server("/status/502")),
    };
    want[6].attempts = 3; /* a 502 is retried, and answers the same every time */
    own_reset();
    check_call(want, sizeof want / sizeof want[0], &(struct fetch_settings){7, 2, 0.01, 0.3});
    KIT_CHECK_EN(pthread_mutex_lock(&own.lock));
    long requests = own.requests;
    KIT_CHECK_EN(pthread_mutex_unlock(&own.lock));
    if (requests != 2 + 2 + 2 + 3)
        broken("one request per attempt on the driver's server: 9 (2 + 2 + 2 + 3); it saw %ld",
               requests);
    printf("OK: no answer, a partial body, a reset, a timeout, a refused connection and a 502 "
           "each retried\n");
}

/* Threads in this process now. */
static int thread_count(void)
{
    DIR *dir = opendir("/proc/self/task");
    if (dir == NULL)
        kit_die_errno("opendir /proc/self/task");
    int count = 0;
    for (struct dirent *entry; (entry = readdir(dir)) != NULL;)
        count += entry->d_name[0] != '.';
    closedir(dir);
    return count;
}

/* Descriptors open in this process now. */
static int descriptor_count(void)
{
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL)
        kit_die_errno("opendir /proc/self/fd");
    int count = 0;
    for (struct dirent *entry; (entry = readdir(dir)) != NULL;)
        count += entry->d_name[0] != '.';
    closedir(dir);
    return count - 1; /* the directory's own */
}

struct watcher {
    atomic_bool stop;
    atomic_int most; /* the most threads seen at once */
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

static void test_one_thread(void)
{
    struct expected want[10];
    for (size_t i = 0; i < 10; i++)
        want[i] = (struct expected){on_server("/delay/0.3"), CURLE_OK, 200, 15, 1};
    struct watcher w = {.most = 0};
    pthread_t watcher;
    KIT_CHECK_EN(pthread_create(&watcher, NULL, watch_threads, &w));
    kit_sleep(0.01);
    int before = thread_count(); /* main and the watcher */
    server_figures("/stats/reset");
    check_call(want, 10, &(struct fetch_settings){10, 0, 0.1, 5});
    atomic_store(&w.stop, true);
    KIT_CHECK_EN(pthread_join(watcher, NULL));
    struct figures f = server_figures("/stats");
    if (f.max_in_flight != 10)
        broken("10 requests in flight at once (K = 10); the server saw at most %ld",
               f.max_in_flight);
    if (atomic_load(&w.most) > before + 1)
        broken("every transfer in the calling thread, on the multi interface: at most one more "
               "thread while fetch_all runs; %d more were running at once",
               atomic_load(&w.most) - before);
    printf("OK: 10 transfers in flight at once, %d thread%s besides the caller's\n",
           atomic_load(&w.most) - before, atomic_load(&w.most) - before == 1 ? "" : "s");
}

/* Bytes the heap holds now (both arenas and mmap'd blocks). */
static size_t heap_bytes(void)
{
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

static void test_clean(void)
{
    long id = (long)getpid() * 1000 + (long)(kit_now() * 10) % 1000;
    char body[256];
    int fds = 0, threads = 0;
    size_t heap = 0;
    for (int round = 0; round <= 20; round++) {
        struct expected want[] = {
            {on_server("/delay/0.05"), CURLE_OK, 200, 16, 1},
            {on_server("/flaky/1?id=grade-clean-%ld-%d", id, round), CURLE_OK, 200, -1, 2},
            {on_server("/delay/0.05"), CURLE_OK, 200, 16, 1},
            {on_server("/bytes/20000"), CURLE_OK, 200, 20000, 1},
            {refused_url, CURLE_COULDNT_CONNECT, 0, 0, 2},
            {on_server("/status/404"), CURLE_OK, 404, 16, 1},
            {on_server("/delay/0.05"), CURLE_OK, 200, 16, 1},
        };
        want[1].bytes =
            snprintf(body, sizeof body,
                     "{\"id\":\"grade-clean-%ld-%d\",\"attempt\":2,\"failures\":1}", id, round);
        check_call(want, sizeof want / sizeof want[0], &(struct fetch_settings){3, 1, 0.01, 5});
        if (round == 0) { /* after the first call: whatever stays for good has been made */
            fds = descriptor_count();
            threads = thread_count();
            heap = heap_bytes();
        }
    }
    int fds_after = descriptor_count(), threads_after = thread_count();
    if (fds_after > fds)
        broken("no descriptor left after fetch_all returns; %d more were open after 20 more "
               "calls (a connection, a multi handle or an easy handle not cleaned up?)",
               fds_after - fds);
    if (threads_after > threads)
        broken("no thread left after fetch_all returns; %d more after 20 calls",
               threads_after - threads);
    if (!SANITIZED && heap_bytes() > heap + 256 * 1024)
        broken("no memory kept after fetch_all returns; the heap grew by %zu KiB over 20 calls "
               "(an easy handle or the multi never cleaned up?)",
               (heap_bytes() - heap) / 1024);
    /* The server closes its side when our connections close: give it a moment to see that. */
    struct figures f = server_figures("/stats");
    for (int tries = 0; tries < 100 && (f.in_flight > 0 || f.connections > 1); tries++) {
        kit_sleep(0.02);
        f = server_figures("/stats");
    }
    if (f.in_flight > 0 || f.connections > 1)
        broken("nothing left running on the server after fetch_all returns; it still had %ld "
               "requests in flight and %ld connections open besides ours",
               f.in_flight, f.connections - 1);
    if (SANITIZED)
        printf("OK: 21 calls; no descriptor, thread, transfer or connection left\n");
    else
        printf("OK: 21 calls; no descriptor, thread, transfer or connection left; the heap grew "
               "by %ld KiB\n",
               ((long)heap_bytes() - (long)heap) / 1024);
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"test", required_argument, NULL, 't'},
        {"server", required_argument, NULL, 's'},
        {"max-in-flight", required_argument, NULL, 'k'},
        {"urls", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *test = NULL;
    long k = 3, n = 10;
    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "t:s:k:n:h", options, NULL)) != -1;) {
        switch (opt) {
        case 't': test = optarg; break;
        case 's': server = optarg; break;
        case 'k': k = kit_parse_long("--max-in-flight", optarg, 1, 100); break;
        case 'n': n = kit_parse_long("--urls", optarg, 1, 200); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (test == NULL || server == NULL)
        kit_usage_error("--test and --server are required");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        kit_die("curl_global_init failed");
    make_refused_url();
    if (strcmp(test, "limit") == 0)
        test_limit((int)k, (int)n);
    else if (strcmp(test, "results") == 0)
        test_results();
    else if (strcmp(test, "retries") == 0)
        test_retries();
    else if (strcmp(test, "window") == 0)
        test_window();
    else if (strcmp(test, "classes") == 0)
        test_classes();
    else if (strcmp(test, "one-thread") == 0)
        test_one_thread();
    else if (strcmp(test, "clean") == 0)
        test_clean();
    else
        kit_usage_error("no test named '%s'", test);
    curl_global_cleanup();
    return 0;
}
