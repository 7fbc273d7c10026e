/**
 * @file fetch.c
 * @brief fetch.h: the URL plan, curl's options and checks, one line per URL, the summary.
 */
#define _GNU_SOURCE /* asprintf, strerrorname_np */
#include "fetch.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

/* The soft limit on open descriptors, raised to the hard one (what `ulimit -n` may go up to
 * without privileges). Returns the limit now in force. */
static rlim_t raise_descriptor_limit(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        kit_die_errno("getrlimit RLIMIT_NOFILE");
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
            kit_die_errno("setrlimit RLIMIT_NOFILE to %ju", (uintmax_t)limit.rlim_max);
    }
    return limit.rlim_cur;
}

/* How many descriptors this process has open now: the entries of /proc/self/fd, less the one
 * that reading the folder takes. 3 (stdin, stdout, stderr) when there is no /proc. */
static size_t descriptors_open(void)
{
    DIR *folder = opendir("/proc/self/fd");
    if (folder == NULL)
        return 3;
    size_t count = 0;
    for (struct dirent *entry; (entry = readdir(folder)) != NULL;)
        count += entry->d_name[0] != '.';
    if (closedir(folder) != 0)
        kit_die_errno("closedir /proc/self/fd");
    return count - 1;
}

void fetch_need_descriptors(size_t at_once, size_t other_descriptors)
{
    /* curl's own: the multi handle's wake-up socket pair, a name resolver's pair while it
     * resolves; ours: the loop's epoll descriptor, the local server's pipe. */
    const size_t spare = 8;
    rlim_t limit = raise_descriptor_limit();
    size_t needed = descriptors_open() + at_once + other_descriptors + spare;
    if (limit != RLIM_INFINITY && limit < needed)
        kit_die("out of file descriptors: %ju allowed (ulimit -n), %zu transfer%s at once need "
                "about %zu",
                (uintmax_t)limit, at_once, at_once == 1 ? "" : "s", needed);
}

void fetch_plan_urls(struct fetch_plan *plan, char *const urls[], size_t given, long repeat)
{
    *plan = (struct fetch_plan){.count = given * (size_t)repeat};
    plan->urls = calloc(plan->count, sizeof plan->urls[0]);
    if (plan->urls == NULL && plan->count > 0)
        kit_die_errno("calloc %zu URLs", plan->count);
    for (size_t i = 0; i < plan->count; i++)
        plan->urls[i] = urls[i % given];
}

void fetch_plan_start_local_server(struct fetch_plan *plan, long repeat, const char *path)
{
    /* One owner of child processes: the program. kit_own_children() made it the reaper of
     * its orphans, which is how to tell that it has been called. */
    int owner = 0;
    if (prctl(PR_GET_CHILD_SUBREAPER, &owner, 0L, 0L, 0L) == -1)
        kit_die_errno("prctl PR_GET_CHILD_SUBREAPER");
    if (!owner)
        kit_die("fetch_plan_start_local_server: call kit_own_children() first, so that Ctrl-C, "
                "SIGTERM and an error exit stop and reap the server");
    *plan = (struct fetch_plan){0};
    if (local_server_start(&plan->server) != 0)
        kit_die("could not start the local server (give URLs to fetch instead)");
    plan->own_server = true;
    for (long i = 0; i < repeat; i++)
        fetch_plan_add_local(plan, path);
}

void fetch_plan_add_local(struct fetch_plan *plan, const char *path)
{
    char *url;
    if (asprintf(&url, "%s%s", plan->server.url, path) < 0)
        kit_die_errno("asprintf");
    const char **urls = realloc(plan->urls, (plan->count + 1) * sizeof urls[0]);
    char **local_urls = realloc(plan->local_urls, (plan->local_count + 1) * sizeof url);
    if (urls == NULL || local_urls == NULL)
        kit_die_errno("realloc %zu URLs", plan->count + 1);
    plan->urls = urls;
    plan->local_urls = local_urls;
    plan->urls[plan->count++] = plan->local_urls[plan->local_count++] = url;
}

void fetch_plan_free(struct fetch_plan *plan)
{
    if (plan->own_server)
        local_server_stop(&plan->server);
    for (size_t i = 0; i < plan->local_count; i++)
        free(plan->local_urls[i]);
    free(plan->local_urls);
    free(plan->urls);
    *plan = (struct fetch_plan){0};
}

/* CURLOPT_WRITEFUNCTION: count the body's bytes and drop them (a scraper would parse them). */
static size_t count_body_bytes(char *data, size_t size, size_t count, void *userdata)
{
    (void)data;
    struct fetch_result *result = userdata;
    result->bytes += (curl_off_t)(size * count);
    return size * count; /* anything else would tell curl to abort the transfer */
}

/* CURLOPT_WRITEFUNCTION of a kept body: append what arrived, doubling the room as needed. */
static size_t append_to_body(char *data, size_t size, size_t count, void *userdata)
{
    struct fetch_body *body = userdata;
    size_t bytes = size * count, needed = body->size + bytes;
    if (needed > body->limit) {
        fprintf(stderr, "fetch: %s: a body over %zu bytes: transfer stopped\n", body->result->url,
                body->limit);
        return 0; /* anything but `bytes` makes curl stop the transfer: CURLE_WRITE_ERROR */
    }
    if (needed + 1 > body->capacity) {
        size_t capacity = body->capacity > 0 ? 2 * body->capacity : 16 * 1024;
        capacity = capacity < needed + 1 ? needed + 1 : capacity;
        char *grown = realloc(body->data, capacity);
        if (grown == NULL) {
            body->result->resource_errno = ENOMEM; /* named as such, not "failed writing" */
            return 0;
        }
        body->data = grown;
        body->capacity = capacity;
    }
    memcpy(body->data + body->size, data, bytes);
    body->data[needed] = '\0';
    body->size = needed;
    body->result->bytes += (curl_off_t)bytes;
    return bytes;
}

void fetch_keep_body(CURL *easy, struct fetch_result *result, struct fetch_body *body, size_t limit)
{
    body->limit = limit;
    body->result = result;
    FETCH_CHECK_EASY(curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_to_body));
    FETCH_CHECK_EASY(curl_easy_setopt(easy, CURLOPT_WRITEDATA, body));
}

/* CURLOPT_OPENSOCKETFUNCTION: the socket() curl would call, keeping its errno. curl itself
 * reports a failed socket() as "Couldn't connect to server", whatever the reason. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
    (void)purpose;
    struct fetch_result *result = clientp;
    int fd = socket(address->family, address->socktype, address->protocol);
    if (fd == -1) {
        result->resource_errno = errno;
        return CURL_SOCKET_BAD;
    }
    return fd;
}

void fetch_prepare(CURL *easy, struct fetch_result *result, double timeout)
{
    result->code = CURLE_OK;
    result->resource_errno = 0;
    result->status = 0;
    result->bytes = 0;
    result->seconds = 0;
    result->error[0] = '\0';
    FETCH_CHECK_EASY(curl_easy_setopt(easy, CURLOPT_URL, result->url));
    FETCH_CHECK_EASY(curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, count_body_bytes));
    FETCH_CHECK_EASY(curl_easy_setopt(easy, CURLOPT_WRITEDATA, result));
    FETCH_CHECK_EASY(curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, result->error));
    FETCH_CHECK_EASY(curl_easy_setopt(easy, CURLOPT_PRIVATE, result));
    FETCH_CHECK_EASY(curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, open_socket));
    FETCH_CHECK_EASY(curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, result));
    /* The whole transfer, name lookup to last byte: a server that never answers (/stall)
     * ends as CURLE_OPERATION_TIMEDOUT instead of hanging the program. */
    FETCH_CHECK_EASY(curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000)));
    /* No SIGALRM for name lookup timeouts: signals and threads do not mix (fetch_threads). */
    FETCH_CHECK_EASY(curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L));
    FETCH_CHECK_EASY(curl_easy_setopt(easy, CURLOPT_USERAGENT, "concurrency-in-c/10"));
}

CURL *fetch_easy_new(struct fetch_result *result, double timeout)
{
    CURL *easy = curl_easy_init();
    if (easy == NULL)
        kit_die("curl_easy_init failed (out of memory?)");
    fetch_prepare(easy, result, timeout);
    return easy;
}

void fetch_record(CURL *easy, struct fetch_result *result, CURLcode code)
{
    result->code = code;
    FETCH_CHECK_EASY(curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &result->status));
    FETCH_CHECK_EASY(curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &result->seconds));
    long connect_errno = 0; /* connect()'s errno, when that is what failed */
    FETCH_CHECK_EASY(curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &connect_errno));
    if (code != CURLE_OK && result->resource_errno == 0 && connect_errno == EADDRNOTAVAIL)
        result->resource_errno = EADDRNOTAVAIL;
}

/* What ran out, for a resource errno: into text, which is returned; NULL for another errno. */
static const char *resource_text(int en, char *text, size_t size)
{
    struct rlimit limit;
    switch (en) {
    case EMFILE:
        if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
            kit_die_errno("getrlimit RLIMIT_NOFILE");
        snprintf(text, size, "out of file descriptors: %ju allowed (ulimit -n)",
                 (uintmax_t)limit.rlim_cur);
        return text;
    case ENFILE:
        snprintf(text, size, "the system is out of file descriptors (sysctl fs.file-max)");
        return text;
    case ENOMEM:
    case ENOBUFS: snprintf(text, size, "out of memory"); return text;
    case EADDRNOTAVAIL:
        snprintf(text, size, "out of local ports (sysctl net.ipv4.ip_local_port_range)");
        return text;
    default: return NULL;
    }
}

bool fetch_succeeded(const struct fetch_result *result)
{
    return result->code == CURLE_OK && result->status < 400;
}

void fetch_print(const struct fetch_result *result, bool quiet)
{
    if (quiet && fetch_succeeded(result))
        return;
    char attempts[32] = "";
    if (result->attempts > 1)
        snprintf(attempts, sizeof attempts, "  (%d attempts)", result->attempts);
    char ran_out[96];
    if (result->code != CURLE_OK &&
        resource_text(result->resource_errno, ran_out, sizeof ran_out) != NULL)
        printf("error  ---  %8jd bytes  %6.3f s  %s: transport error: %s (%s; curl: %s)%s\n",
               (intmax_t)result->bytes, result->seconds, result->url, ran_out,
               strerrorname_np(result->resource_errno), curl_easy_strerror(result->code), attempts);
    else if (result->code != CURLE_OK) /* no HTTP answer at all: curl says why */
        printf("error  ---  %8jd bytes  %6.3f s  %s: transport error: %s%s%s%s%s\n",
               (intmax_t)result->bytes, result->seconds, result->url,
               curl_easy_strerror(result->code), result->error[0] ? " (" : "", result->error,
               result->error[0] ? ")" : "", attempts);
    else if (result->status >= 400) /* an answer, and the answer is "failed" */
        printf("http   %3ld  %8jd bytes  %6.3f s  %s: HTTP error status %ld%s\n", result->status,
               (intmax_t)result->bytes, result->seconds, result->url, result->status, attempts);
    else
        printf("ok     %3ld  %8jd bytes  %6.3f s  %s%s\n", result->status, (intmax_t)result->bytes,
               result->seconds, result->url, attempts);
}

double fetch_cpu_seconds(void)
{
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0)
        kit_die_errno("getrusage");
    return (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

int fetch_report(const struct fetch_result *results, size_t count, double wall_start,
                 double cpu_start)
{
    double wall = kit_seconds_since(wall_start), cpu = fetch_cpu_seconds() - cpu_start;
    size_t transport_errors = 0, http_errors = 0, ran_out = 0;
    int first_ran_out = 0;
    char ran_out_text[96];
    for (size_t i = 0; i < count; i++) {
        if (results[i].code != CURLE_OK &&
            resource_text(results[i].resource_errno, ran_out_text, sizeof ran_out_text) != NULL) {
            first_ran_out = first_ran_out != 0 ? first_ran_out : results[i].resource_errno;
            ran_out++;
        }
        if (results[i].code != CURLE_OK)
            transport_errors++;
        else if (results[i].status >= 400)
            http_errors++;
    }
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0)
        kit_die_errno("getrusage");
    size_t failed = transport_errors + http_errors;
    const char *transfers = count == 1 ? "transfer" : "transfers";
    printf("summary: %zu %s, %zu ok, %zu HTTP error %s, %zu transport error%s; "
           "wall %.3f s, cpu %.3f s, peak memory %.1f MiB\n",
           count, transfers, count - failed, http_errors, http_errors == 1 ? "status" : "statuses",
           transport_errors, transport_errors == 1 ? "" : "s", wall, cpu,
           (double)usage.ru_maxrss / 1024);
    if (failed == 0)
        printf("OK: %s %zu %s succeeded\n", count == 1 ? "the" : "all", count, transfers);
    else if (ran_out == 0)
        printf("FAILED: %zu of %zu %s failed\n", failed, count, transfers);
    else /* the cause, once, rather than only in each line */
        printf("FAILED: %zu of %zu %s failed, %zu of them %s\n", failed, count, transfers, ran_out,
               resource_text(first_ran_out, ran_out_text, sizeof ran_out_text));
    if (fflush(stdout) != 0 || ferror(stdout))
        kit_die_errno("write to stdout");
    return failed == 0 ? 0 : 1;
}
