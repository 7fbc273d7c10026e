/**
 * @file fetch.c
 * @brief Chapter 10's shared plumbing: the URL list, curl's options and checks, lines, summary.
 */
#define _GNU_SOURCE /* asprintf, strerrorname_np */
#include "fetch.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The local server's pid while it runs, for the handler below (0: none), and the process that
 * started it: a child forked later (a pool's worker) inherits both, and must not stop it. */
static volatile sig_atomic_t running_server_pid;
static pid_t server_parent;

/* Stop the local server if it runs, and reap it. Only async-signal-safe calls: the signal
 * handler below uses it. The server gets SIGTERM and up to 2 s to finish cleanly (a sanitizer
 * build writes its report then), then SIGKILL. Returns its pid, 0 if none ran. */
static pid_t stop_running_server(void)
{
    pid_t pid = running_server_pid;
    if (pid <= 0 || getpid() != server_parent)
        return 0;
    running_server_pid = 0;
    kill(pid, SIGTERM);
    pid_t done = 0;
    for (int waited_ms = 0; done == 0 && waited_ms < 2000; waited_ms += 10) {
        done = waitpid(pid, NULL, WNOHANG);
        if (done == 0)
            nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        else if (done == -1 && errno == EINTR)
            done = 0;
    }
    if (done == 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
            continue;
    }
    return pid;
}

/* At exit (an error exit, kit_die): the server is stopped and reaped, not left to its
 * PR_SET_PDEATHSIG and to whoever adopts it. */
static void stop_server_at_exit(void)
{
    stop_running_server();
}

/* Ctrl-C, SIGTERM or a closed terminal while the local server runs: stop it and reap it, say
 * so, then die of the same signal. */
static void stop_server_and_leave(int signo)
{
    pid_t pid = stop_running_server();
    const char *name = signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM" : "SIGHUP";
    const char *parts[] = {program_invocation_short_name, ": interrupted by ", name,
                           pid > 0 ? ": stopped the local server\n" : "\n"};
    /* One write: a line written in pieces can be split by another thread's output. */
    char line[256];
    size_t length = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        size_t part = strlen(parts[i]);
        if (part > sizeof line - length)
            part = sizeof line - length;
        memcpy(line + length, parts[i], part);
        length += part;
    }
    if (write(STDERR_FILENO, line, length) < 0) {
        /* nothing more to do: the signal ends the program next */
    }
    signal(signo, SIG_DFL);
    raise(signo);
}

/* Send the stop signals to @p handler (or SIG_DFL). */
static void handle_stop_signals(void (*handler)(int))
{
    const int signals[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction action = {.sa_handler = handler};
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        sigaddset(&action.sa_mask, signals[i]); /* one stop at a time */
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (sigaction(signals[i], &action, NULL) != 0)
            kit_die_errno("sigaction %d", signals[i]);
}

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

void fetch_plan_build(struct fetch_plan *plan, int argc, char *argv[], int first_operand,
                      long repeat, const char *default_path)
{
    *plan = (struct fetch_plan){0};
    /* A reader that goes away (`| head`) makes printf fail with EPIPE, which fetch_report()
     * reports, instead of killing the program without a word. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        kit_die_errno("signal SIGPIPE");
    /* One line per URL as it ends, even into a file or a pipe: a run that is stopped or
     * killed has already shown what it did. */
    if (setvbuf(stdout, NULL, _IOLBF, 0) != 0)
        kit_die_errno("setvbuf stdout");
    size_t given = (size_t)(argc - first_operand);
    if (given == 0) {
        handle_stop_signals(stop_server_and_leave);
        if (local_server_start(&plan->server) != 0)
            kit_die("could not start the local server (give URLs to fetch instead)");
        server_parent = getpid();
        running_server_pid = plan->server.pid;
        plan->own_server = true;
        static bool at_exit_registered;
        if (!at_exit_registered && atexit(stop_server_at_exit) != 0)
            kit_die("atexit: cannot register stop_server_at_exit");
        at_exit_registered = true;
        for (long i = 0; i < repeat; i++)
            fetch_plan_add_local(plan, default_path);
        return;
    }
    plan->count = given * (size_t)repeat;
    plan->urls = calloc(plan->count, sizeof plan->urls[0]);
    if (plan->urls == NULL)
        kit_die_errno("calloc %zu URLs", plan->count);
    for (size_t i = 0; i < plan->count; i++)
        plan->urls[i] = argv[first_operand + i % given];
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
    if (plan->own_server) {
        handle_stop_signals(SIG_DFL);
        running_server_pid = 0;
        local_server_stop(&plan->server);
    }
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
