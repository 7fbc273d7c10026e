/**
 * @file perf_compare.c
 * @brief I/O-bound and CPU-bound work, each done every way the kit knows, in one measured table.
 *
 * What it shows: which tool fits which work, measured side by side in one run with the kit's own
 * earlier lessons. The I/O-bound half fetches N x `/delay/S` from the kit's local server the
 * three ways of lib/io_ways.c: one after another (libcurl easy), on chapter 06's thread pool (a
 * thread per request), and all at once on chapter 08's event loop (libcurl multi). The
 * CPU-bound half runs T tasks, each the sum of squares of range(M), the four ways of
 * lib/cpu_ways.c: one after another, on chapter 06's thread pool, on its process pool, and on
 * the thread pool with every step under chapter 07's simulated GIL. Every CPU-bound way calls
 * the one compiled sum_of_squares() of harness/sums/sums.c, so the ratios
 * compare the same machine code. The pools start and stop inside the timing, as Python's
 * `with ...Executor()` block does. This file is the measuring: rounds, clocks, checks, table.
 *
 * What to look for: the I/O rows' CPU time is tiny and "at once" (the transfers' own times
 * over the wall time: transfers in flight on average) is about N for threads and the loop: the
 * waits overlap, whatever the CPUs. The CPU rows' "at once" is CPUs busy (CPU time over wall
 * time): about one per worker for threads and processes (x2 on 2 CPUs, ~x1 on one), and 1.0
 * under the simulated GIL, which is what Python's threads get on CPU work. Under the table
 * stands the CPU-bound ceiling: K copies of the sequential way run at once (K = workers or
 * CPUs, the fewer), in the same rounds; on K idle CPUs they take as long as one, and a busy
 * machine holds them, and every speedup, down. A speedup above it gets a note saying why it is
 * no lesson. The verdict checks what must hold: every transfer succeeded, every variant found
 * the formula's sums, under the GIL no two steps ran at once. Speedups and how far the waits
 * overlapped are figures, not checks (the tests and make bench judge them). --csv writes the
 * table; --chart draws it with gnuplot (harness/report).
 *
 * See also: news_scraper.c (the three ways on a real task), chapters 06, 07, 08 and 10.
 *
 * Usage: perf_compare [--requests=N] [--delay=S] [--url=URL] [--tasks=N] [--numbers=N]
 *                     [--workers=N] [--rounds=N] [--csv=PATH] [--chart=PATH]
 */
#define _GNU_SOURCE /* asprintf */
#include "../../harness/report/report.h"
#include "kit.h"
#include "lib/cpu_ways.h"
#include "lib/io_ways.h"

#include <getopt.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>

static const char usage[] =
    "Usage: perf_compare [options]\n"
    "Time I/O-bound work sequential / threads / event loop and CPU-bound work sequential /\n"
    "threads / processes / threads under a simulated GIL, in one table.\n"
    "  -n, --requests=N   I/O: requests to /delay/S, 1 to 200 (default 8)\n"
    "  -d, --delay=S      I/O: seconds each request waits, 0.01 to 5 (default 0.04)\n"
    "  -u, --url=URL      I/O: a server with /delay/S (default: start the kit's local server)\n"
    "  -k, --tasks=N      CPU: tasks, 1 to 64 (default 4)\n"
    "  -m, --numbers=N    CPU: each task sums the squares of range(N), 1000 to 4e9 (default 4e7)\n"
    "  -w, --workers=N    CPU: threads and processes, 1 to 64 (default: one per CPU, at least 2)\n"
    "  -r, --rounds=N     rounds, 1 to 10; each approach's fastest counts (default 3)\n"
    "      --csv=PATH     also write the table as CSV to PATH\n"
    "      --chart=PATH   also draw it as a PNG bar chart to PATH (needs gnuplot)\n"
    "  -h, --help         show this help and exit\n"
    "Caps: requests x delay x rounds <= 30 s; tasks x numbers x rounds <= 1e10.\n";

/* The rows of the table, in the order they run in each round: the three ways to wait
 * (lib/io_ways.h), then the four ways to compute (lib/cpu_ways.h). */
enum { IO_ROWS = 3, CPU_ROWS = 4, COUNT = IO_ROWS + CPU_ROWS, CPU_FIRST = IO_ROWS };
enum { IO_SEQ = WAIT_ONE_BY_ONE, IO_THREADS = WAIT_ON_THREADS, IO_LOOP = WAIT_ON_LOOP };
static struct report_row rows[COUNT] = {
    {"sequential (libcurl easy)", "sequential", 0, 0, 0},
    {"thread pool", "threads", 0, 0, 0},
    {"event loop (libcurl multi)", "event_loop", 0, 0, 0},
    {"sequential", "sequential", 0, 0, 0},
    {"thread pool", "threads", 0, 0, 0},
    {"process pool", "processes", 0, 0, 0},
    {"threads + simulated GIL", "threads_gil", 0, 0, 0},
};
enum { MAX_REQUESTS = 200, MAX_TASKS = 64, SHOWN_FAILURES = 3 };

/* What the verdict looks at, gathered over every round. */
struct checks {
    size_t failures;         /* transfers that failed */
    long wrong_sums;         /* task sums that differ from the closed formula */
    int least_peak[IO_ROWS]; /* per way to wait: its smallest peak of transfers in flight */
    int unclean_pools;       /* process pools whose workers did not all exit 0 */
};

/* Time one way to wait for the transfers to urls[], keep its fastest round, check the transfers.
 * Transfers in flight on average: their own times over the wall time. */
static void measure_io(enum wait_way way, const char *const urls[], size_t count, double timeout,
                       struct checks *checks)
{
    static struct transfer transfers[MAX_REQUESTS];
    for (size_t i = 0; i < count; i++)
        transfers[i] =
            (struct transfer){.result = {.url = urls[i], .attempts = 1}, .timeout = timeout};
    double wall = kit_now(), cpu = report_cpu_seconds();
    wait_run(way, transfers, count);
    struct report_row figure = {.wall = kit_seconds_since(wall), .cpu = report_cpu_seconds() - cpu};
    for (size_t i = 0; i < count; i++)
        figure.at_once += transfers[i].result.seconds / figure.wall;
    checks->failures += wait_print_failures(rows[way].csv_name, transfers, count, SHOWN_FAILURES);
    int peak = wait_peak_in_flight(transfers, count);
    if (peak < checks->least_peak[way])
        checks->least_peak[way] = peak;
    report_keep_fastest(&rows[way], &figure);
}

/* Time one way to compute the tasks' sums, keep its fastest round, check the sums. CPUs busy on
 * average: CPU time (the pool's reaped workers too) over the wall time. */
static void measure_cpu(enum compute_way way, size_t count, uint64_t numbers, int workers,
                        struct gil_job *gil, struct checks *checks)
{
    struct sum_task tasks[MAX_TASKS];
    for (size_t i = 0; i < count; i++)
        tasks[i] = (struct sum_task){.numbers = numbers, .gil = gil};
    double wall = kit_now(), cpu = report_cpu_seconds();
    checks->unclean_pools += !compute_run(way, tasks, count, workers);
    struct report_row figure = {.wall = kit_seconds_since(wall), .cpu = report_cpu_seconds() - cpu};
    figure.at_once = figure.cpu / figure.wall;
    u128 expected = sum_of_squares_formula(numbers);
    for (size_t i = 0; i < count; i++)
        checks->wrong_sums += tasks[i].sum != expected;
    report_keep_fastest(&rows[CPU_FIRST + way], &figure);
}

/* The ceiling under the table, and a note for each CPU-bound speedup above it. */
static void print_ceiling(int count, double copies_seconds)
{
    const struct report_row *sequential = &rows[CPU_FIRST + COMPUTE_ONE_BY_ONE];
    double ceiling = kit_print_ceiling(count, sequential->wall, copies_seconds);
    for (int way = COMPUTE_ON_THREADS; way <= COMPUTE_UNDER_GIL; way++)
        kit_note_above_ceiling(rows[CPU_FIRST + way].label,
                               sequential->wall / rows[CPU_FIRST + way].wall, ceiling);
}

/* Print the checks, then the verdict on what the program controls, whatever the machine: every
 * transfer and sum right, one GIL step at a time, every pool reaped. How far the waits overlapped
 * is a figure (the tests and make bench judge it). Returns the exit status. */
static int judge(const struct checks *c, long requests, struct gil_job *gil, int workers)
{
    long overlapping = atomic_load(&gil->overlapping);
    printf("sums: %s\n", c->wrong_sums == 0 ? "every task of every approach found the formula's sum"
                                            : "SOME SUMS DIFFER from the formula's");
    printf("waits: most transfers in flight at once: %d one after another, %d on threads, %d on "
           "the event loop (of %ld)\n",
           c->least_peak[IO_SEQ], c->least_peak[IO_THREADS], c->least_peak[IO_LOOP], requests);
    printf("GIL: %ld steps began while another ran; the lock changed hands %lu times\n",
           overlapping, sim_gil_switches(&gil->lock));
    if (kit_cpu_count() < 2 || workers < 2)
        printf("note: %s: threads and processes can only take turns on CPU work, so ~x1.0 is the "
               "honest result here\n",
               workers < 2 ? "1 worker" : "only 1 CPU");
    if (requests == 1)
        printf("note: 1 request: there is nothing to overlap\n");
    if (c->failures > 0 || c->wrong_sums > 0 || overlapping > 0 || c->unclean_pools > 0) {
        printf("FAILED: %zu transfers failed, %ld sums wrong, %ld GIL steps overlapped, %d "
               "process pools not reaped cleanly\n",
               c->failures, c->wrong_sums, overlapping, c->unclean_pools);
        return 1;
    }
    printf("OK: every transfer done, same sums everywhere; under the GIL one step ran at a "
           "time\n");
    return 0;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"requests", required_argument, NULL, 'n'},
        {"delay", required_argument, NULL, 'd'},
        {"url", required_argument, NULL, 'u'},
        {"tasks", required_argument, NULL, 'k'},
        {"numbers", required_argument, NULL, 'm'},
        {"workers", required_argument, NULL, 'w'},
        {"rounds", required_argument, NULL, 'r'},
        {"csv", required_argument, NULL, 'c'},
        {"chart", required_argument, NULL, 'g'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long requests = 8, tasks = 4, numbers = 40000000, rounds = 3;
    int workers = kit_cpu_count() < 2 ? 2 : kit_cpu_count() > 64 ? 64 : kit_cpu_count();
    double delay = 0.04;
    const char *url = NULL, *csv_path = NULL, *chart_path = NULL;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "n:d:u:k:m:w:r:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'n': requests = kit_parse_long("--requests", optarg, 1, MAX_REQUESTS); break;
        case 'd': delay = kit_parse_double("--delay", optarg, 0.01, 5); break;
        case 'u': url = optarg; break;
        case 'k': tasks = kit_parse_long("--tasks", optarg, 1, MAX_TASKS); break;
        case 'm': numbers = kit_parse_long("--numbers", optarg, 1000, 4000000000L); break;
        case 'w': workers = (int)kit_parse_long("--workers", optarg, 1, PP_MAX_WORKERS); break;
        case 'r': rounds = kit_parse_long("--rounds", optarg, 1, 10); break;
        case 'c': csv_path = optarg; break;
        case 'g': chart_path = optarg; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if ((csv_path && !*csv_path) || (chart_path && !*chart_path) || (url && !*url))
        kit_usage_error("--csv, --chart and --url need a value");
    if ((double)requests * delay * (double)rounds > 30)
        kit_usage_error("--requests=%ld x --delay=%g x --rounds=%ld is over the cap of 30 s of "
                        "waiting one after another",
                        requests, delay, rounds);
    if ((double)tasks * (double)numbers * (double)rounds > 1e10)
        kit_usage_error("--tasks=%ld x --numbers=%ld x --rounds=%ld is over the cap of 1e10: "
                        "minutes per approach",
                        tasks, numbers, rounds);

    struct report_files files; /* opened first: a bad path fails before the measuring */
    report_files_open(&files, csv_path, chart_path);

    FETCH_CHECK_EASY(curl_global_init(CURL_GLOBAL_DEFAULT)); /* before any thread starts */
    char path[64], *given[1] = {NULL};
    snprintf(path, sizeof path, "/delay/%g", delay);
    if (url != NULL && asprintf(&given[0], "%s%s", url, path) < 0)
        kit_die_errno("asprintf");
    kit_own_children();     /* from here on, Ctrl-C stops the local server and the pool workers */
    struct fetch_plan plan; /* the given server's /delay/S, or the local server's, N times */
    if (url != NULL)
        fetch_plan_urls(&plan, given, 1, requests);
    else
        fetch_plan_start_local_server(&plan, requests, path);
    struct gil_job gil;
    gil_job_init(&gil, 0.005); /* CPython's switch interval, sys.getswitchinterval() */

    printf("%d CPU(s), load average %.2f; %ld round(s), the fastest of each approach counts\n",
           kit_cpu_count(), report_load_average(), rounds);
    printf("I/O-bound: %ld requests to %s (thread pool: a thread per request)\n", requests,
           plan.urls[0]);
    printf("CPU-bound: %ld tasks, each the sum of squares of range(%ld), on %d workers\n", tasks,
           numbers, workers);

    struct checks checks = {.least_peak = {INT_MAX, INT_MAX, INT_MAX}}; /* lowered each round */
    int copy_count = kit_cpu_count() < workers ? kit_cpu_count() : workers;
    double copies_seconds = 0;
    for (long round = 0; round < rounds; round++) { /* every approach once a round, side by side */
        for (int way = 0; way < IO_ROWS; way++)
            measure_io((enum wait_way)way, plan.urls, (size_t)requests, delay + 10, &checks);
        for (int way = 0; way < CPU_ROWS; way++)
            measure_cpu((enum compute_way)way, (size_t)tasks, (uint64_t)numbers, workers, &gil,
                        &checks);
        double together =
            compute_copies(copy_count, (size_t)tasks, (uint64_t)numbers, &checks.wrong_sums);
        if (round == 0 || together < copies_seconds)
            copies_seconds = together;
    }

    char io_title[96], cpu_title[96];
    snprintf(io_title, sizeof io_title, "I/O-bound: %ld x %s", requests, path);
    snprintf(cpu_title, sizeof cpu_title, "CPU-bound: %ld x sum of squares of range(%ld)", tasks,
             numbers);
    const struct report_group groups[] = {
        {io_title, "io", rows, IO_ROWS, 0, "baseline"},
        {cpu_title, "cpu", rows + CPU_FIRST, CPU_ROWS, 0, "baseline"},
    };
    report_print(groups, 2, "transfers in flight on average for I/O, CPUs busy for CPU");
    print_ceiling(copy_count, copies_seconds);
    report_files_write(&files, "perf_compare", groups, 2);
    int status = judge(&checks, requests, &gil, workers);
    gil_job_destroy(&gil);
    fetch_plan_free(&plan);
    free(given[0]);
    curl_global_cleanup();
    return status;
}
