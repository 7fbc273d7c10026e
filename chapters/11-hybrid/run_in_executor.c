/**
 * @file run_in_executor.c
 * @brief `await loop.run_in_executor(pool, f, x)` in C: the loop hands CPU work to a worker
 *        process and learns of the result through a descriptor; computing in a callback instead
 *        stalls the loop for as long as the computation runs.
 *
 * What to look for: a ticker timer on chapter 08's event loop fires every 10 ms and notes how
 * late each firing is. At 50 ms a callback needs compute(n), the sum of squares of range(n)
 * (the kit's sum_of_squares(), about 0.2 s for the default n). Two ways:
 * 1. loop: the callback calls sum_of_squares() itself, as a CPU-heavy call inside an
 *    `async def` would. The loop's only thread computes, so no timer fires and no descriptor is
 *    read until it is done: the ticker fires as late as the computation is long. Chapter 08's
 *    blocking_pitfall showed the same with a sleep; a computation cannot be awaited away.
 * 2. executor: the callback writes a 24-byte task record into a worker's task pipe (chapter 06's
 *    process pool, forked before the loop started) and returns at once. The pool's result pipe
 *    is watched with ev_watch(): when the worker writes its result, the pipe becomes readable
 *    and the loop calls on_result(), which is the rest of the coroutine after the `await`.
 *    Meanwhile the ticker keeps firing on time, also on one CPU: the kernel gives the CPU to the
 *    loop's thread when its timer is due, while it cannot take it from a callback that computes.
 * Both ways run the same compiled function; the verdict checks the result against the closed
 * formula. The figures to compare are each way's CPU time and the ticker's lateness without the
 * time the loop's thread waited for a CPU (other programs' load, or our own worker's on one
 * CPU: see lib/ticker.h); the tests and make bench judge them.
 *
 * A worker that dies (kill -KILL it during `--mode=executor --numbers=4e9`) is named through its
 * pidfd, which the loop watches like any descriptor (lib/pool_watch.h); the program exits 1.
 *
 * See also: fetch_and_process.c (the whole hybrid: fetch with curl, compute in the pool),
 * chapter 08's blocking_pitfall.c, chapter 06's process_pool.c.
 *
 * Usage: run_in_executor [--mode=loop|executor|all] [--numbers=N]
 */
#include "../../harness/sums/sums.h"
#include "../06-pools/lib/process_pool.h"
#include "../08-event-loop/lib/event_loop.h"
#include "kit.h"
#include "lib/pool_watch.h"
#include "lib/ticker.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum mode { IN_LOOP, EXECUTOR };
static const char *const mode_names[] = {"loop", "executor"};
static const double tick = 0.010;        /* seconds between the ticker's firings */
static const double work_starts = 0.050; /* when the callback that needs compute(n) runs */
static const double tail = 0.050;        /* the ticker runs on this long after the result */

struct run {
    enum mode mode;
    uint64_t numbers;
    struct ev_loop *loop;
    struct ticker ticker;
    struct process_pool *pool; /* EXECUTOR only */
    struct pool_watch watch;   /* EXECUTOR: the worker's pidfd */
    u128 sum;
    double cpu_seconds;   /* what compute(n) cost, in whichever thread or process ran it */
    double submitted_at;  /* EXECUTOR: when the task went to the worker */
    double waited;        /* EXECUTOR: from submit to result */
    long ticks_at_submit; /* EXECUTOR: the ticker's count then */
    long ticks_meanwhile; /* EXECUTOR: firings while the worker computed */
};

static void finish(struct ev_loop *loop, void *data)
{
    struct run *run = data;
    ticker_stop(&run->ticker);
    ev_stop(loop);
}

static void after_a_while(struct run *run)
{
    if (ev_after(run->loop, tail, finish, run) == NULL)
        kit_die_errno("ev_after");
}

/* The result pipe is readable: the worker's result is in. (After `await`, the coroutine goes
 * on from here with the value.) */
static void on_result(struct ev_loop *loop, int fd, unsigned events, void *data)
{
    (void)events;
    struct run *run = data;
    struct pp_result result;
    int got = kit_read_full(fd, &result, sizeof result); /* whole: it was one atomic write */
    if (got == 0) /* end of file: the worker, its only writer, has closed it on its way out */
        pool_watch_worker_died(&run->watch, 0);
    if (got < 0)
        kit_die_errno("read the result pipe");
    ev_unwatch(loop, fd);
    run->waited = kit_seconds_since(run->submitted_at);
    run->ticks_meanwhile = run->ticker.ticks - run->ticks_at_submit;
    run->sum = result.sum;
    run->cpu_seconds = (double)result.cpu_nanoseconds / 1e9;
    after_a_while(run);
}

/* The callback that needs compute(n). */
static void start_work(struct ev_loop *loop, void *data)
{
    struct run *run = data;
    if (run->mode == IN_LOOP) { /* the pitfall: the loop's only thread computes */
        double cpu_before = kit_cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
        run->sum = sum_of_squares(0, run->numbers);
        run->cpu_seconds = kit_cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu_before;
        after_a_while(run);
        return;
    }
    /* await loop.run_in_executor(pool, sum_of_squares, 0, n): send the task and return. 24
     * bytes into an empty pipe: the write cannot block. */
    struct pp_task task = {.first = 0, .count = run->numbers, .id = 0};
    if (kit_write_full(run->pool->task_fds[0], &task, sizeof task) == -1) {
        if (errno == EPIPE) /* nobody reads the pipe: the worker is gone */
            pool_watch_worker_died(&run->watch, 0);
        kit_die_errno("send the task to worker 0");
    }
    run->submitted_at = kit_now();
    run->ticks_at_submit = run->ticker.ticks;
    if (ev_watch(loop, run->pool->result_fd, EV_READ, on_result, run) == -1)
        kit_die_errno("ev_watch the result pipe");
}

/* Run one mode on a fresh loop and print its figures. True if compute(n) was exact. */
static bool run_mode(enum mode mode, uint64_t numbers, struct process_pool *pool)
{
    struct run run = {.mode = mode, .numbers = numbers, .pool = pool};
    if ((run.loop = ev_loop_create()) == NULL)
        kit_die_errno("ev_loop_create");
    if (mode == EXECUTOR)
        pool_watch_start(&run.watch, run.loop, pool);
    printf("%s: a ticker fires every %.0f ms; at %.0f ms a callback needs compute(%llu)%s\n",
           mode_names[mode], tick * 1000, work_starts * 1000, (unsigned long long)numbers,
           mode == IN_LOOP ? " and computes it right there"
                           : " and hands it to worker 0 of the pool");
    ticker_start(&run.ticker, run.loop, tick);
    if (ev_after(run.loop, work_starts, start_work, &run) == NULL)
        kit_die_errno("ev_after");
    if (ev_run(run.loop) == -1)
        kit_die_errno("ev_run");
    if (mode == EXECUTOR)
        pool_watch_stop(&run.watch);
    ev_loop_free(run.loop);

    char text[40];
    bool exact = run.sum == sum_of_squares_formula(numbers);
    printf("   compute(%llu) = %s  (%s the closed formula), %.1f ms of CPU in %s\n",
           (unsigned long long)numbers, u128_text(run.sum, text),
           exact ? "matches" : "DOES NOT MATCH", run.cpu_seconds * 1000,
           mode == IN_LOOP ? "the loop's own thread" : "worker 0");
    if (mode == EXECUTOR)
        printf("   the result arrived on the result pipe %.1f ms after the task was sent; the "
               "ticker fired %ld times meanwhile\n",
               run.waited * 1000, run.ticks_meanwhile);
    /* The stall to compare with the CPU time above: as long as it in a callback, near 0 with
     * the worker (lib/ticker.h). */
    printf("   the ticker fired %ld times, at most %.1f ms late; %.1f ms of it without the time "
           "the loop's thread waited for a CPU\n",
           run.ticker.ticks, run.ticker.worst_late * 1000, run.ticker.worst_own * 1000);
    if (run.cpu_seconds < 4 * tick)
        printf("note: compute(%llu) took %.1f ms, too short to stall a ticker of %.0f ms; try "
               "--numbers=5e8\n",
               (unsigned long long)numbers, run.cpu_seconds * 1000, tick * 1000);
    return exact;
}

static const char usage[] =
    "Usage: run_in_executor [options]\n"
    "An event loop needs a CPU-heavy result: computed in its own callback (the loop stalls), or\n"
    "handed to a worker process whose result pipe the loop watches (the loop stays on time).\n"
    "  -m, --mode=MODE    loop, executor or all (default all, in that order)\n"
    "  -n, --numbers=N    compute(N) = sum of squares of range(N), 1e6 to 4e9 (default 5e8)\n"
    "  -h, --help         show this help and exit\n";

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"mode", required_argument, NULL, 'm'},
        {"numbers", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int first = IN_LOOP, last = EXECUTOR;
    long numbers = 500000000;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "m:n:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'm':
            if (strcmp(optarg, "all") == 0)
                first = IN_LOOP, last = EXECUTOR;
            else if (strcmp(optarg, "loop") == 0)
                first = last = IN_LOOP;
            else if (strcmp(optarg, "executor") == 0)
                first = last = EXECUTOR;
            else
                kit_usage_error("--mode: '%s' is not loop, executor or all", optarg);
            break;
        case 'n': numbers = kit_parse_long("--numbers", optarg, 1000000, 4000000000L); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    struct process_pool pool;
    if (last == EXECUTOR) { /* ProcessPoolExecutor(max_workers=1), before the loop exists */
        kit_own_children();
        pp_start(&pool, 1);
    }
    int exact = 0, runs = last - first + 1;
    for (int mode = first; mode <= last; mode++)
        exact += run_mode((enum mode)mode, (uint64_t)numbers, &pool);
    bool clean = last != EXECUTOR || pp_stop(&pool) == 1;
    if (exact < runs || !clean) {
        printf("FAILED: compute(%ld) exact in %d of %d modes; the worker %s\n", numbers, exact,
               runs, clean ? "exited cleanly" : "DID NOT EXIT CLEANLY");
        return 1;
    }
    printf("OK: compute(%ld) matches the closed formula%s\n", numbers,
           runs == 2 ? " both ways" : "");
    return 0;
}
