/**
 * @file thread_log.c
 * @brief Logging from threads: printf in pieces tears lines; one write(2) a line keeps them whole.
 *
 * What to look for: four threads each log 200 lines into a file, twice. The naive logger prints
 * each line in three printf calls (timestamp, thread, message), as a logging macro that prints a
 * prefix and then the message does. Each call is whole (stdio locks the stream for one call),
 * but between two calls another thread's pieces get in: lines come out torn, two threads' pieces
 * on one line. The whole-line logger formats the line in its own buffer and hands it to the
 * kernel in one write(2) on a file opened with O_APPEND, which appends it as one piece: no line
 * is torn, however the threads interleave. The program reads both files back and counts.
 *
 * Each line carries what a reader of a concurrent log needs: a monotonic timestamp (seconds
 * since the start, CLOCK_MONOTONIC, which never jumps), the kernel's thread id (gettid(), the
 * TID that top -H, ps -L, gdb and perf show) and the thread's name (pthread_setname_np(), shown
 * by the same tools). Both are looked up once per thread and kept in _Thread_local variables.
 *
 * The window is widened, honestly: a 20 us sleep between the pieces of a line (in both loggers)
 * takes the thread off the CPU where a preemption could strike, so the naive logger tears lines
 * on one core as on many, busy or not. `--no-pause` takes it out: the pieces then tear rarely,
 * which is how
 * a garbled log line survives testing.
 *
 * See also: timelines.c (per-thread buffers written at the end: cheaper than a write per line).
 *
 * Usage: thread_log [--threads=N] [--lines=N] [--show=N] [--no-pause]
 */
#define _GNU_SOURCE /* gettid, pthread_setname_np, pthread_getname_np */
#include "kit.h"

#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "Usage: thread_log [options]\n"
    "Log from many threads: printf in pieces tears lines, one write(2) per line does not.\n"
    "  -t, --threads=N   threads logging at once, 2 or more (default 4)\n"
    "  -l, --lines=N     lines each thread logs (default 200)\n"
    "  -s, --show=N      lines of each log shown: the naive log's torn ones (default 4)\n"
    "  -p, --no-pause    no pause between the pieces of a line: the natural tear rate\n"
    "  -h, --help        show this help and exit\n";

struct log {
    FILE *file;    /* the log: a temporary file, deleted at exit */
    bool naive;    /* printf in pieces, or one write(2) per line */
    bool pause;    /* widen the window between pieces */
    long lines;    /* each thread logs this many */
    double origin; /* kit_now() at the start: timestamps count from here */
    pthread_barrier_t start;
};

struct logger {
    pthread_t thread;
    struct log *log;
    int index;
};

static const double PAUSE_S = 20e-6;   /* between the pieces of a line (the kernel rounds it up) */
static _Thread_local int my_tid;       /* gettid(), once per thread */
static _Thread_local char my_name[16]; /* this thread's name, as the kernel knows it */

/* The whole-line logger: format everything first, then one write(2). */
static void log_line(const struct log *log, const char *format, ...) KIT_PRINTF(2, 3);
static void log_line(const struct log *log, const char *format, ...)
{
    char line[256];
    int used =
        snprintf(line, sizeof line, "%9.6f [tid %d %s] ", kit_now() - log->origin, my_tid, my_name);
    if (log->pause)
        kit_sleep(PAUSE_S); /* the same window as the naive logger's: harmless, the line is ours */
    va_list args;
    va_start(args, format);
    used += vsnprintf(line + used, sizeof line - (size_t)used, format, args);
    va_end(args);
    if (used > (int)sizeof line - 2)
        used = (int)sizeof line - 2; /* cut, but still one line */
    line[used++] = '\n';
    ssize_t written = write(fileno(log->file), line, (size_t)used);
    if (written != used) /* a regular file takes it all, or fails */
        kit_die_errno("write a log line (%zd of %d bytes)", written, used);
}

static void *log_lines(void *arg)
{
    struct logger *self = arg;
    struct log *log = self->log;
    char name[16];
    snprintf(name, sizeof name, "logger-%d", self->index);
    KIT_CHECK_EN(pthread_setname_np(pthread_self(), name));
    my_tid = gettid();
    KIT_CHECK_EN(pthread_getname_np(pthread_self(), my_name, sizeof my_name));
    kit_barrier_wait(&log->start); /* all start together: the most overlap */
    for (long i = 1; i <= log->lines; i++) {
        if (!log->naive) {
            log_line(log, "line %ld of %ld", i, log->lines);
            continue;
        }
        /* Naive: three calls, each whole, and nothing holds the line together between them. */
        fprintf(log->file, "%9.6f ", kit_now() - log->origin);
        if (log->pause)
            kit_sleep(PAUSE_S);
        fprintf(log->file, "[tid %d %s] ", my_tid, my_name);
        if (log->pause)
            kit_sleep(PAUSE_S);
        fprintf(log->file, "line %ld of %ld\n", i, log->lines);
    }
    return NULL;
}

/* Read the log back and count its lines, the torn ones, and those out of order (a line number
 * or a timestamp going back within one thread). Show its first @p show lines: of the naive log,
 * its first torn ones. */
static void check(const struct log *log, int threads, long show, long *count, long *torn,
                  long *out_of_order)
{
    struct stat info;
    if (ferror(log->file) || fflush(log->file) != 0 || fstat(fileno(log->file), &info) == -1)
        kit_die_errno("log file");
    char *text = malloc((size_t)info.st_size + 1);
    long *last_line = calloc((size_t)threads, sizeof *last_line);
    double *last_time = calloc((size_t)threads, sizeof *last_time);
    if (text == NULL || last_line == NULL || last_time == NULL)
        kit_die_errno("malloc for a log of %lld bytes", (long long)info.st_size);
    if (pread(fileno(log->file), text, (size_t)info.st_size, 0) != info.st_size)
        kit_die_errno("read the log back");
    text[info.st_size] = '\0';
    *count = *torn = *out_of_order = 0;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        ++*count;
        double time;
        int tid, index, end = 0;
        long number, total;
        if (sscanf(line, "%lf [tid %d logger-%d] line %ld of %ld%n", &time, &tid, &index, &number,
                   &total, &end) != 5 ||
            line[end] != '\0' || index < 0 || index >= threads) {
            if (log->naive && ++*torn <= show)
                printf("    %s\n", line);
            continue;
        }
        if (!log->naive && *count <= show)
            printf("    %s\n", line);
        *out_of_order += number != last_line[index] + 1 || time < last_time[index];
        last_line[index] = number;
        last_time[index] = time;
    }
    free(last_time);
    free(last_line);
    free(text);
}

/* Log with @p threads threads into a fresh temporary file, one way; then check the file. */
static void run(struct log *log, int threads, long show, long *count, long *torn, long *disorder)
{
    struct logger *loggers = calloc((size_t)threads, sizeof *loggers);
    if ((log->file = tmpfile()) == NULL || loggers == NULL)
        kit_die_errno("a temporary log file");
    if (!log->naive && fcntl(fileno(log->file), F_SETFL, O_APPEND) == -1)
        kit_die_errno("fcntl O_APPEND");
    KIT_CHECK_EN(pthread_barrier_init(&log->start, NULL, (unsigned)threads));
    log->origin = kit_now();
    for (int t = 0; t < threads; t++) {
        loggers[t] = (struct logger){.log = log, .index = t};
        KIT_CHECK_EN(pthread_create(&loggers[t].thread, NULL, log_lines, &loggers[t]));
    }
    for (int t = 0; t < threads; t++)
        KIT_CHECK_EN(pthread_join(loggers[t].thread, NULL));
    KIT_CHECK_EN(pthread_barrier_destroy(&log->start));
    check(log, threads, show, count, torn, disorder);
    if (fclose(log->file) != 0)
        kit_die_errno("close the log");
    free(loggers);
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"threads", required_argument, NULL, 't'}, {"lines", required_argument, NULL, 'l'},
        {"show", required_argument, NULL, 's'},    {"no-pause", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    long threads = 4, lines = 200, show = 4;
    bool pause = true;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "t:l:s:ph", options, NULL)) != -1;) {
        switch (opt) {
        case 't': threads = kit_parse_long("--threads", optarg, 2, 64); break;
        case 'l': lines = kit_parse_long("--lines", optarg, 1, 100000); break;
        case 's': show = kit_parse_long("--show", optarg, 0, 1000000); break;
        case 'p': pause = false; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (threads * lines > 1000000)
        kit_usage_error("--threads=%ld x --lines=%ld is over the cap of 1e6 lines", threads, lines);

    long expected = threads * lines, count, torn, disorder;
    printf("%ld threads log %ld lines each, %s\n", threads, lines,
           pause ? "with a 20 us pause between the pieces of a line"
                 : "with no pause (--no-pause)");
    struct log naive = {.naive = true, .pause = pause, .lines = lines};
    printf("naive: printf(time), printf(thread), printf(message): three calls a line\n");
    run(&naive, (int)threads, show, &count, &torn, &disorder);
    long naive_torn = torn;
    printf("  naive: %ld lines in the file, %ld torn (pieces of other lines mixed in)\n", count,
           torn);

    struct log whole = {.naive = false, .pause = pause, .lines = lines};
    printf("whole: snprintf the line into a buffer, then one write(2) (file opened O_APPEND)\n");
    run(&whole, (int)threads, show, &count, &torn, &disorder);
    printf("  whole: %ld lines in the file, %ld torn, %ld out of order within their thread\n",
           count, torn, disorder);

    if (count != expected || torn != 0 || disorder != 0) {
        printf("FAILED: whole-line logging: %ld of %ld lines, %ld torn, %ld out of order\n", count,
               expected, torn, disorder);
        return 1;
    }
    if (naive_torn == 0) {
        printf("note: whole lines: all %ld intact; naive printf tore none this time (%s)\n",
               expected,
               pause ? "try more --lines" : "without the pause, pieces rarely tear: that is why");
        return 0;
    }
    printf("OK: whole lines: all %ld intact and in order per thread; naive printf tore %ld\n",
           expected, naive_torn);
    return 0;
}
