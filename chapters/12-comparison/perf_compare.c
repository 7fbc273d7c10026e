/**
 * @file perf_compare.c
 * @brief I/O-bound and CPU-bound work, each done every way the kit knows, in one measured table.
 *
 * What it shows: which tool fits which work, measured side by side in one run with the kit's own
 * earlier lessons, each way a few lines below:
 * - the I/O-bound half fetches N x `/delay/S` from the kit's local server three ways: one after
 *   another (a blocking libcurl easy transfer at a time, `requests.get` in a loop), on chapter
 *   06's thread pool with a thread per request (`ThreadPoolExecutor(max_workers=N).map`), and
 *   all at once on chapter 08's event loop (libcurl multi, chapter 10's lib/curl_loop.c;
 *   `asyncio.gather` of aiohttp requests);
 * - the CPU-bound half runs T tasks, each the sum of squares of range(M), four ways: one after
 *   another, on chapter 06's thread pool (`ThreadPoolExecutor.map`), on its pre-forked process
 *   pool (`ProcessPoolExecutor.map`), and on the thread pool with every step taken only while
 *   holding chapter 07's simulated GIL, handed over between two steps when a waiting thread
 *   asks: what CPython's threads do. Every way calls the one compiled sum_of_squares() of
 *   harness/sums, so the ratios compare the same machine code. The pools start and stop inside
 *   the timing, as Python's `with ...Executor()` block does.
 * The measuring follows the ways: rounds, clocks, checks, and the table (harness/report).
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
 * table; --chart draws it with gnuplot.
 *
 * See also: news_scraper.c (the three ways on a real task), chapters 06, 07, 08 and 10.
 *
 * Usage: perf_compare [--requests=N] [--delay=S] [--url=URL] [--tasks=N] [--numbers=N]
 *                     [--workers=N] [--rounds=N] [--csv=PATH] [--chart=PATH]
 */
#define _GNU_SOURCE /* asprintf */
#include "../../harness/fetch/fetch.h"
#include "../../harness/report/report.h"
#include "../../harness/sums/sums.h"
#include "../06-pools/lib/process_pool.h"
#include "../06-pools/lib/thread_pool.h"
#include "../07-gil/lib/sim_gil.h"
#include "../10-async-http/lib/curl_loop.h"
#include "kit.h"

#include <getopt.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>

/* ---- three ways to wait for N transfers ---------------------------------------------------- */

/* One transfer: set result.url, result.attempts = 1 and timeout; the rest is filled in. Each
 * records when it began and ended, on the kit's clock, so the waits' overlap can be counted. */
struct transfer {
    struct fetch_result result; /* first: CURLINFO_PRIVATE points here, so at the transfer */
    double timeout;             /* seconds for the whole transfer */
    double started, ended;      /* kit_now() when it was started and when it ended */
};

enum wait_way { WAIT_ONE_BY_ONE, WAIT_ON_THREADS, WAIT_ON_LOOP };

/* One blocking transfer (requests.get): what one after another and every thread run. */
static int fetch_one(void *arg, long *bytes)
{
    struct transfer *transfer = arg;
    CURL *easy = fetch_easy_new(&transfer->result, transfer->timeout);
    transfer->started = kit_now();
    fetch_record(easy, &transfer->result, curl_easy_perform(easy));
    transfer->ended = kit_now();
    curl_easy_cleanup(easy);
    *bytes = (long)transfer->result.bytes;
    return 0;
}

/* The event loop's way: called as each transfer ends. */
static void on_transfer_done(CURL *easy, CURLcode code, void *data)
{
    (void)data;
    struct transfer *transfer;
    FETCH_CHECK_EASY(curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&transfer));
    fetch_record(easy, &transfer->result, code);
    transfer->ended = kit_now();
}

/* Run the transfers the way @p way says; return when all have ended. A failed transfer is only
 * recorded (fetch_succeeded() says which). */
static void wait_run(enum wait_way way, struct transfer transfers[], size_t count)
{
    long *bytes = calloc(count, sizeof *bytes);
    CURL **easies = calloc(count, sizeof *easies);
    if (bytes == NULL || easies == NULL)
        kit_die_errno("calloc for %zu transfers", count);
    if (way == WAIT_ONE_BY_ONE) {
        for (size_t i = 0; i < count; i++)
            fetch_one(&transfers[i], &bytes[i]);
    } else if (way == WAIT_ON_THREADS) {
        struct tp_pool *pool = tp_create((int)count); /* a thread per transfer */
        if (tp_map(pool, fetch_one, transfers, sizeof transfers[0], count, bytes) != 0)
            kit_die("tp_map: a transfer task failed"); /* fetch_one reports in its result */
        tp_shutdown(pool);
    } else {
        double now = kit_now(); /* added together, they all start on the loop's first round */
        for (size_t i = 0; i < count; i++) {
            easies[i] = fetch_easy_new(&transfers[i].result, transfers[i].timeout);
            transfers[i].started = now;
        }
        curl_loop_run_all(easies, count, on_transfer_done, NULL);
        for (size_t i = 0; i < count; i++)
            curl_easy_cleanup(easies[i]);
    }
    free(easies);
    free(bytes);
}

/* ---- four ways to compute T sums of squares ------------------------------------------------ */

/* The simulated GIL the tasks share, and a check from the outside that it holds. */
struct gil_job {
    struct sim_gil lock;     /* chapter 07's lock */
    atomic_int inside;       /* tasks inside a step right now */
    atomic_long overlapping; /* steps begun while another was inside one: must stay 0 */
};

/* One task: the sum of squares of range(numbers), into sum. */
struct sum_task {
    uint64_t numbers;    /* set by the caller */
    u128 sum;            /* the result */
    struct gil_job *gil; /* the lock, for COMPUTE_UNDER_GIL */
};

enum compute_way {
    COMPUTE_ONE_BY_ONE,
    COMPUTE_ON_THREADS,
    COMPUTE_ON_PROCESSES,
    COMPUTE_UNDER_GIL
};

enum { GIL_STEP = 100000 }; /* numbers per step under the GIL: about 50 us of work here */

static void gil_job_init(struct gil_job *gil, double interval)
{
    sim_gil_init(&gil->lock, interval);
    atomic_init(&gil->inside, 0);
    atomic_init(&gil->overlapping, 0);
}

static void gil_job_destroy(struct gil_job *gil)
{
    sim_gil_destroy(&gil->lock);
}

/* A task as plain C runs it: the whole sum in one call. */
static int sum_freely(void *arg, long *unused)
{
    struct sum_task *task = arg;
    task->sum = sum_of_squares(0, task->numbers);
    *unused = 0;
    return 0;
}

/* A task "running Python": the same sum in steps, each taken only while holding the simulated
 * GIL, which is handed over between two steps when a waiting thread asks (the eval loop). */
static int sum_under_gil(void *arg, long *unused)
{
    struct sum_task *task = arg;
    struct gil_job *gil = task->gil;
    u128 sum = 0;
    sim_gil_acquire(&gil->lock);
    for (uint64_t first = 0; first < task->numbers; first += GIL_STEP) {
        uint64_t left = task->numbers - first;
        if (atomic_fetch_add(&gil->inside, 1) > 0)
            atomic_fetch_add(&gil->overlapping, 1);
        sum += sum_of_squares(first, left < GIL_STEP ? left : GIL_STEP);
        atomic_fetch_sub(&gil->inside, 1);
        sim_gil_yield_if_asked(&gil->lock);
    }
    sim_gil_release(&gil->lock);
    task->sum = sum;
    *unused = 0;
    return 0;
}

/* The process pool's way: its workers run sum_of_squares() on each task sent to them. */
static bool compute_on_processes(struct sum_task tasks[], size_t count, int workers)
{
    struct pp_task *work = calloc(count, sizeof *work);
    u128 *sums = calloc(count, sizeof *sums);
    int *ran_on = calloc(count, sizeof *ran_on);
    if (work == NULL || sums == NULL || ran_on == NULL)
        kit_die_errno("calloc for %zu tasks", count);
    for (size_t i = 0; i < count; i++)
        work[i] = (struct pp_task){.first = 0, .count = tasks[i].numbers, .id = i};
    struct process_pool pool;
    pp_start(&pool, workers);
    pp_run(&pool, work, count, sums, ran_on);
    bool clean = pp_stop(&pool) == workers; /* every worker reaped */
    for (size_t i = 0; i < count; i++)
        tasks[i].sum = sums[i];
    free(ran_on);
    free(sums);
    free(work);
    return clean;
}

/* Run the tasks the way @p way says, on @p workers threads or processes. False if a process
 * pool's workers did not all exit with status 0. */
static bool compute_run(enum compute_way way, struct sum_task tasks[], size_t count, int workers)
{
    if (way == COMPUTE_ON_PROCESSES)
        return compute_on_processes(tasks, count, workers);
    long *unused = calloc(count, sizeof *unused);
    if (unused == NULL)
        kit_die_errno("calloc for %zu tasks", count);
    if (way == COMPUTE_ONE_BY_ONE) {
        for (size_t i = 0; i < count; i++)
            sum_freely(&tasks[i], &unused[i]);
    } else {
        struct tp_pool *pool = tp_create(workers);
        if (tp_map(pool, way == COMPUTE_UNDER_GIL ? sum_under_gil : sum_freely, tasks,
                   sizeof tasks[0], count, unused) != 0)
            kit_die("tp_map: a sum task failed"); /* they return 0 */
        tp_shutdown(pool);
    }
    free(unused);
    return true;
}

/* ---- measuring ----------------------------------------------------------------------------- */

/* At each transfer's start, how many had begun and not yet ended. O(n^2): n is small. */
static int wait_peak_in_flight(const struct transfer transfers[], size_t count)
{
    int peak = 0;
    for (size_t i = 0; i < count; i++) {
        double moment = transfers[i].started;
        int in_flight = 0;
        for (size_t j = 0; j < count; j++)
            in_flight += transfers[j].started <= moment && moment < transfers[j].ended;
        peak = in_flight > peak ? in_flight : peak;
    }
    return peak;
}

/* Print the first @p shown failed transfers after "@p name: ", then how many more failed. Returns
 * how many failed. */
static size_t wait_print_failures(const char *name, const struct transfer transfers[], size_t count,
                                  size_t shown)
{
    size_t failed = 0;
    for (size_t i = 0; i < count; i++) {
        if (!fetch_succeeded(&transfers[i].result) && failed++ < shown) {
            printf("%s: ", name);
            fetch_print(&transfers[i].result, false);
        }
    }
    if (failed > shown)
        printf("%s: ... and %zu more transfers failed\n", name, failed - shown);
    return failed;
}

/* The ceiling's copies: each runs the one-by-one way over its own row of tasks. */
struct copies {
    size_t count;
    struct sum_task *tasks; /* copies x count */
};

static void compute_one_copy(void *arg, int copy)
{
    struct copies *copies = arg;
    compute_run(COMPUTE_ONE_BY_ONE, copies->tasks + (size_t)copy * copies->count, copies->count, 1);
}

/* The ceiling of the CPU-bound speedups: @p copies copies of the one-by-one way, run at once on
 * their own threads (kit_time_copies()). Returns their wall time; adds to @p wrong_sums each sum
 * that differs from the formula. */
static double compute_copies(int copies, size_t count, uint64_t numbers, long *wrong_sums)
{
    struct copies each = {.count = count,
                          .tasks = calloc((size_t)copies * count, sizeof(struct sum_task))};
    if (each.tasks == NULL)
        kit_die_errno("calloc for %d x %zu tasks", copies, count);
    for (size_t i = 0; i < (size_t)copies * count; i++)
        each.tasks[i].numbers = numbers;
    double seconds = kit_time_copies(copies, compute_one_copy, &each);
    u128 expected = sum_of_squares_formula(numbers);
    for (size_t i = 0; i < (size_t)copies * count; i++)
        *wrong_sums += each.tasks[i].sum != expected;
    free(each.tasks);
    return seconds;
}
/* The rows of the table, in the order they run in each round: the three ways to wait, then the
 * four ways to compute. */
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
