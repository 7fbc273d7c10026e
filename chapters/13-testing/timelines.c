/**
 * @file timelines.c
 * @brief See threads wait: one job traced twice, written as Trace Event JSON and drawn as an SVG.
 *
 * What to look for: four workers take 24 tasks from a shared counter. A task fetches its input
 * from a slow source (a 2 ms sleep stands in for the network or the disk) and then updates a
 * table that all workers share, under a lock. In the first run the lock is held around the
 * whole task, fetch included, a common mistake; in the second, around the update only. Every
 * step is a span in the tracer of lib/trace.c: "wait for the lock", "fetch", "update".
 *
 * Open the picture (timelines.svg, written beside the program unless --output says elsewhere)
 * in a browser: in the first run a single green bar at a time climbs down the rows like a
 * staircase while the other workers' rows are red, waiting; in the second the four rows fetch
 * side by side and the run ends about four times sooner. The numbers say the same thing (the
 * share of the workers' time spent waiting, and the two run times), but the picture says it at
 * a glance, and it shows what numbers hide: which thread waited, when, and for whom. The JSON
 * file opens in the Perfetto UI (https://ui.perfetto.dev) or chrome://tracing, to zoom in.
 *
 * See also: lib/trace.c (the tracer: per-thread buffers, no lock), chapter 03's
 * lock_granularity.c (the cost of locking, measured), thread_log.c (logging line by line).
 *
 * Usage: timelines [--workers=N] [--tasks=N] [--output=PREFIX]
 */
#include "kit.h"
#include "lib/trace.h"

#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "Usage: timelines [options]\n"
    "Trace a job twice (lock around the whole task, lock around the update only); draw both.\n"
    "  -w, --workers=N      worker threads (default 4)\n"
    "  -n, --tasks=N        tasks, each a 2 ms fetch and a short update (default 24)\n"
    "  -o, --output=PREFIX  write PREFIX.json and PREFIX.svg (default: timelines, beside\n"
    "                       this program)\n"
    "  -h, --help           show this help and exit\n";

static const double FETCH_S = 0.002;     /* the slow step: a sleep, as waiting for I/O is */
static const uint64_t UPDATE_WORK = 2e4; /* the update: some tens of microseconds of CPU */

struct job {
    struct trace *trace;
    bool coarse;           /* hold the lock for the whole task, fetch included */
    long tasks;            /* how many there are in all */
    atomic_long next_task; /* the next one nobody has taken */
    pthread_mutex_t lock;  /* guards table */
    uint64_t table[64];    /* what the updates change */
};

struct worker {
    pthread_t thread;
    struct job *job;
    size_t lane; /* its row in the trace */
};

/* Lock the table's lock, recording the wait as a span. */
static void lock_traced(struct job *job, size_t lane)
{
    double begin = trace_now(job->trace);
    KIT_CHECK_EN(pthread_mutex_lock(&job->lock));
    trace_span(job->trace, lane, "wait for the lock", begin);
}

static void *work(void *arg)
{
    struct worker *self = arg;
    struct job *job = self->job;
    char name[16];
    snprintf(name, sizeof name, "worker-%zu", self->lane);
    trace_lane_name(job->trace, self->lane, name);
    for (long task; (task = atomic_fetch_add(&job->next_task, 1)) < job->tasks;) {
        if (job->coarse) /* the mistake: the lock taken before the slow step */
            lock_traced(job, self->lane);
        double begin = trace_now(job->trace);
        kit_sleep(FETCH_S);
        trace_span(job->trace, self->lane, "fetch", begin);
        if (!job->coarse) /* the fix: the lock taken for the update only */
            lock_traced(job, self->lane);
        begin = trace_now(job->trace);
        job->table[task % 64] += kit_cpu_work(UPDATE_WORK);
        trace_span(job->trace, self->lane, "update", begin);
        KIT_CHECK_EN(pthread_mutex_unlock(&job->lock));
    }
    return NULL;
}

/* Run the job once, traced; return the trace. */
static struct trace *run(const char *title, bool coarse, long workers, long tasks)
{
    struct job job = {.coarse = coarse, .tasks = tasks};
    struct worker *worker = calloc((size_t)workers, sizeof *worker);
    if (worker == NULL)
        kit_die_errno("calloc %ld workers", workers);
    KIT_CHECK_EN(pthread_mutex_init(&job.lock, NULL));
    job.trace = trace_create(title, (size_t)workers);
    for (long w = 0; w < workers; w++) {
        worker[w] = (struct worker){.job = &job, .lane = (size_t)w};
        KIT_CHECK_EN(pthread_create(&worker[w].thread, NULL, work, &worker[w]));
    }
    for (long w = 0; w < workers; w++)
        KIT_CHECK_EN(pthread_join(worker[w].thread, NULL)); /* orders their spans before ours */
    KIT_CHECK_EN(pthread_mutex_destroy(&job.lock));
    free(worker);
    return job.trace;
}

/* Print what a trace says: how long the run took, and the workers' share of time waiting. */
static double report(const struct trace *trace, double *waiting)
{
    double all, end = 0;
    *waiting = trace_total(trace, "wait for the lock", &all) / all;
    for (size_t l = 0; l < trace->lanes; l++)
        if (trace->lane[l].count > 0 && trace->lane[l].spans[trace->lane[l].count - 1].end > end)
            end = trace->lane[l].spans[trace->lane[l].count - 1].end;
    printf("%-40s %6.1f ms, the workers waited for the lock %2.0f%% of the time\n", trace->title,
           end * 1e3, *waiting * 100);
    return end;
}

/* Write PREFIX.EXTENSION with @p writer. */
static void write_file(const char *prefix, const char *extension, struct trace *const traces[],
                       void (*writer)(FILE *, struct trace *const[], size_t), const char *open_with)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s.%s", prefix, extension) >= (int)sizeof path)
        kit_die("--output: %s is too long", prefix);
    FILE *out = fopen(path, "w");
    if (out == NULL)
        kit_die_errno("open %s", path);
    writer(out, traces, 2);
    bool failed = ferror(out) != 0;
    if (fclose(out) != 0 || failed)
        kit_die_errno("write %s", path);
    printf("wrote %s (%s)\n", path, open_with);
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"workers", required_argument, NULL, 'w'},
        {"tasks", required_argument, NULL, 'n'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long workers = 4, tasks = 24;
    char prefix[PATH_MAX];

    kit_cli_init(usage);
    ssize_t length = readlink("/proc/self/exe", prefix, sizeof prefix - 16);
    if (length == -1)
        kit_die_errno("readlink /proc/self/exe");
    prefix[length] = '\0';
    strcpy(strrchr(prefix, '/') + 1, "timelines"); /* the default: beside this program */
    for (int opt; (opt = getopt_long(argc, argv, "w:n:o:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'w': workers = kit_parse_long("--workers", optarg, 1, 32); break;
        case 'n': tasks = kit_parse_long("--tasks", optarg, 1, TRACE_SPANS / 3); break;
        case 'o': snprintf(prefix, sizeof prefix, "%s", optarg); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    printf("%ld workers, %ld tasks: each a fetch (a %.0f ms sleep) and an update under a lock\n",
           workers, tasks, FETCH_S * 1e3);
    struct trace *traces[2] = {
        run("lock held for the whole task", true, workers, tasks),
        run("lock held for the update only", false, workers, tasks),
    };
    double coarse_waiting, fine_waiting;
    double coarse = report(traces[0], &coarse_waiting), fine = report(traces[1], &fine_waiting);
    char ratio[32];
    printf("the short lock finished %s\n", kit_ratio_text(coarse / fine, ratio));
    write_file(prefix, "json", traces, trace_write_json,
               "open it in https://ui.perfetto.dev or chrome://tracing");
    write_file(prefix, "svg", traces, trace_write_svg, "open it in a web browser");
    for (int t = 0; t < 2; t++) {
        for (size_t l = 0; l < traces[t]->lanes; l++)
            if (traces[t]->lane[l].dropped > 0)
                printf("note: %zu spans did not fit in a lane and are missing\n",
                       traces[t]->lane[l].dropped);
        trace_destroy(traces[t]);
    }
    if (coarse_waiting <= fine_waiting || workers == 1) {
        printf("note: the workers waited no more with the long lock (%.0f%%) than with the short "
               "one (%.0f%%): with one worker nobody waits for anybody\n",
               coarse_waiting * 100, fine_waiting * 100);
        return 0;
    }
    printf("OK: with the lock held over the fetch, the workers waited %.0f%% of the time, one "
           "fetch at a time; with it held for the update only, %.0f%%\n",
           coarse_waiting * 100, fine_waiting * 100);
    return 0;
}
