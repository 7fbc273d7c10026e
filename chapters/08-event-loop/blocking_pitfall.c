/**
 * @file blocking_pitfall.c
 * @brief One blocking call inside a task stalls every other task; the fixes: await, or a thread.
 *
 * What to look for: three ticker tasks wake every 10 ms and measure how late each wake-up is.
 * Meanwhile a worker task does 200 ms of "work" that is only waiting, three ways:
 * 1. blocking: it calls a blocking sleep, as `time.sleep()` or `requests.get()` inside an
 *    `async def`. The loop has one thread and that thread is now asleep in the worker: no
 *    timer fires, no descriptor is read, and the tickers wake about 200 ms late.
 *    `BROKEN: ... fired up to 200.4 ms late`.
 * 2. await: the worker sleeps with task_sleep(), `await asyncio.sleep()`: the loop runs the
 *    tickers meanwhile, and they stay within a millisecond or so of their time.
 * 3. thread: when the blocking call cannot be rewritten (a library that blocks), hand it to a
 *    thread, as `await asyncio.to_thread(f)` does: the thread blocks, the task awaits a pipe
 *    that the thread writes one byte to when it is done, and the loop stays free.
 * Each run prints the largest lateness of the tickers, and a verdict: BROKEN for the first
 * (the pitfall, shown), OK or FAILED for the fixes.
 *
 * Late because of the program, or because the machine is busy? A timer also fires late when
 * other programs keep the CPUs busy and the loop's thread waits in the kernel's run queue for
 * its turn. The kernel counts that wait per thread (/proc/thread-self/schedstat, read by
 * cpu_wait_seconds() in harness/proc-figures), so each wake-up also takes off the time the loop's
 * thread waited for a CPU while the ticker slept: what is left is the stall the program caused
 * itself, and the verdicts judge that.
 *
 * See also: tasks_gather.c (tasks that only await), tasks_vs_threads.c.
 *
 * Usage: blocking_pitfall [-m blocking|await|thread|all] [-b MS]
 */
#include "kit.h"

#include "../../harness/proc-figures/proc_figures.h"
#include "lib/tasks.h"

#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "Usage: blocking_pitfall [options]\n"
    "Ticker tasks measure how late they wake while a worker task waits: blocking, or not.\n"
    "  -m, --mode=MODE   blocking, await, thread or all (default all, in that order)\n"
    "  -b, --block-ms=N  how long the worker's call waits, 50 to 5000 ms (default 200)\n"
    "  -h, --help        show this help and exit\n";

enum mode { BLOCKING, AWAIT, THREAD };
static const char *const mode_names[] = {"blocking", "await", "thread"};
enum { TICKERS = 3 };
static const double tick = 0.010;        /* seconds between a ticker's wake-ups */
static const double work_starts = 0.050; /* the worker waits a little before its call */

/* The largest lateness of any wake-up, in seconds: as measured, and without the time the
 * loop's thread waited for a CPU meanwhile (the part that is the program's own doing). */
struct lateness {
    double measured, own;
};

struct ticker {
    struct task task;
    int ticks_left;
    double due;             /* when this wake-up should come */
    double cpu_wait_then;   /* cpu_wait_seconds() when it went to sleep */
    struct lateness *worst; /* shared by the tickers */
};

struct worker {
    struct task task;
    enum mode mode;
    double block; /* seconds the call waits */
    int pipe_fds[2];
    pthread_t thread;
};

/* A ticker: for each tick, await asyncio.sleep(tick) and note how late it woke. */
static enum task_status ticker_step(struct task *task)
{
    struct ticker *self = (struct ticker *)task;
    enum { START, WOKE };
    switch (task->resume_at) {
    case START: break;
    case WOKE: {
        double late = kit_now() - self->due;
        double own = late - (cpu_wait_seconds() - self->cpu_wait_then);
        if (late > self->worst->measured)
            self->worst->measured = late;
        if (own > self->worst->own)
            self->worst->own = own;
        if (--self->ticks_left == 0)
            return TASK_DONE;
        break;
    }
    default: return task_bad_state(task);
    }
    self->due = ev_now(task->loop) + tick; /* what task_sleep() counts from */
    self->cpu_wait_then = cpu_wait_seconds();
    return task_sleep(task, tick, WOKE);
}

/* The blocking call, run by a thread in the third mode: wait, then say so through the pipe. */
static void *blocking_call(void *arg)
{
    struct worker *self = arg;
    kit_sleep(self->block);
    if (write(self->pipe_fds[1], "done", 1) != 1)
        kit_die_errno("write to the worker's pipe");
    return NULL;
}

static enum task_status worker_step(struct task *task)
{
    struct worker *self = (struct worker *)task;
    enum { START, WORK, AFTER_AWAIT, THREAD_DONE };
    switch (task->resume_at) {
    case START: return task_sleep(task, work_starts, WORK);
    case WORK:
        if (self->mode == BLOCKING) {
            kit_sleep(self->block); /* time.sleep(): the loop's only thread sleeps here */
            return TASK_DONE;
        }
        if (self->mode == AWAIT) /* await asyncio.sleep(): the loop runs on meanwhile */
            return task_sleep(task, self->block, AFTER_AWAIT);
        /* await asyncio.to_thread(blocking_call): the thread blocks, not the loop */
        if (pipe(self->pipe_fds) == -1)
            kit_die_errno("pipe");
        KIT_CHECK_EN(pthread_create(&self->thread, NULL, blocking_call, self));
        return task_wait_fd(task, self->pipe_fds[0], EV_READ, THREAD_DONE);
    case AFTER_AWAIT: return TASK_DONE;
    case THREAD_DONE: {
        char byte;
        if (read(self->pipe_fds[0], &byte, 1) != 1)
            kit_die_errno("read the worker's pipe");
        KIT_CHECK_EN(pthread_join(self->thread, NULL));
        close(self->pipe_fds[0]);
        close(self->pipe_fds[1]);
        return TASK_DONE;
    }
    }
    return task_bad_state(task);
}

struct main_task {
    struct task task;
    struct ticker tickers[TICKERS];
    struct worker worker;
    struct task *children[TICKERS + 1];
};

static enum task_status main_step(struct task *task)
{
    struct main_task *self = (struct main_task *)task;
    enum { START, ALL_DONE };
    switch (task->resume_at) {
    case START:
        for (int i = 0; i < TICKERS; i++) {
            task_start(task->loop, &self->tickers[i].task, ticker_step);
            self->children[i] = &self->tickers[i].task;
        }
        task_start(task->loop, &self->worker.task, worker_step);
        self->children[TICKERS] = &self->worker.task;
        return task_gather(task, self->children, TICKERS + 1, ALL_DONE);
    case ALL_DONE: return TASK_DONE;
    }
    return task_bad_state(task);
}

/* Run the tickers beside the worker in @p mode; print and judge the largest lateness. */
static bool run_mode(enum mode mode, double block)
{
    struct lateness worst = {0, 0};
    struct main_task program = {.worker = {.mode = mode, .block = block}};
    /* The tickers run until well after the worker's call is over. */
    int ticks = (int)((work_starts + block + 0.050) / tick);
    for (int i = 0; i < TICKERS; i++)
        program.tickers[i] = (struct ticker){.ticks_left = ticks, .worst = &worst};

    printf("%s: %d tickers wake every %.0f ms; at %.0f ms the worker's call waits %.0f ms\n",
           mode_names[mode], TICKERS, tick * 1000, work_starts * 1000, block * 1000);
    double start = kit_now();
    if (task_run(&program.task, main_step) == -1)
        kit_die_errno("task_run");
    double latest = worst.own; /* the stall this program caused, judged below */
    printf("   took %.3f s; the tickers woke at most %.1f ms late, %.1f ms of it without the "
           "time the loop's thread waited for a CPU (other programs' load)\n",
           kit_seconds_since(start), worst.measured * 1000, latest * 1000);

    bool stalled = latest >= block / 2;
    if (mode == BLOCKING) {
        if (stalled)
            printf("BROKEN: one blocking call of %.0f ms stalled every other task: their timers "
                   "fired up to %.1f ms late\n",
                   block * 1000, latest * 1000);
        else
            printf("FAILED: the blocking call did not stall the tickers (at most %.1f ms late)\n",
                   latest * 1000);
        return stalled;
    }
    if (stalled)
        printf("FAILED: %s: the tickers were stalled, up to %.1f ms late\n", mode_names[mode],
               latest * 1000);
    else
        printf("OK: %s: the worker waited %.0f ms and the tickers stayed on time (late by at "
               "most %.1f ms, other programs' load aside)\n",
               mode == AWAIT ? "await task_sleep() instead" : "the blocking call in a thread",
               block * 1000, latest * 1000);
    return !stalled;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"mode", required_argument, NULL, 'm'},
        {"block-ms", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int first = BLOCKING, last = THREAD;
    double block = 0.200;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "m:b:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'm':
            if (strcmp(optarg, "all") == 0) {
                first = BLOCKING, last = THREAD;
                break;
            }
            first = -1;
            for (int m = BLOCKING; m <= THREAD; m++)
                if (strcmp(optarg, mode_names[m]) == 0)
                    first = last = m;
            if (first == -1)
                kit_usage_error("--mode: '%s' is not blocking, await, thread or all", optarg);
            break;
        case 'b': block = (double)kit_parse_long("--block-ms", optarg, 50, 5000) / 1000; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    bool all_as_expected = true;
    for (int mode = first; mode <= last; mode++)
        all_as_expected &= run_mode((enum mode)mode, block);
    return all_as_expected ? 0 : 1;
}
