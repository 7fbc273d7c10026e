/**
 * @file mpi_workers.c
 * @brief A master hands tasks to MPI workers as they free up (Celery-style), beside a static split.
 *
 * What to look for: rank 0 is the master (Celery's broker and caller in one); every other rank
 * is a worker that loops: receive a task, run it, send the result back, until STOP. The tasks
 * are uneven (the first quarter take 6 times longer: big jobs often come first) and run twice:
 * - static split: each worker gets its block of tasks up front (a `map` in equal chunks); the
 *   worker with the big tasks works on while the others sit idle;
 * - dynamic: each worker gets one task, and the next when its result comes back: whoever is
 *   free takes the next task. That is all a task queue does, and it ends about twice as soon.
 *
 * Nothing is lost: a task that fails (task 5, on purpose, like a Celery task that raises) is
 * reported by its id; the master accounts for every id, then sends STOP to every worker and
 * waits for each to confirm, each wait with a deadline (mpi_job_recv_within()): a worker that
 * stops answering ends the job instead of hanging it. Unlike Celery, MPI has no retries, and a
 * worker that dies ends the whole job (see the README).
 *
 * See also: mpi_sum.c (a reduction), ../06-pools/process_pool.c (the same hand-out, over pipes).
 *
 * Usage: mpi_workers [--tasks=N] [--task-ms=N] [--fail=ID|none] [--ranks=N]
 */
#include "kit.h"

#include "../../harness/mpi-job/mpi_job.h"

#include <getopt.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The message tags: what a message is, so a worker can tell a task from STOP. */
enum { TAG_TASK = 1, TAG_RESULT, TAG_STOP, TAG_STOPPED };
enum { MAX_TASKS = 100, MAX_RANKS = 16 };
static const double patience = 6; /* s to wait for any one answer; a task takes 0.3 s at most */

/* A task travels as 3 MPI_INTs: its id, how long it takes, and whether it fails (raises). */
struct task {
    int id, milliseconds, fails;
};

/* A result travels as 4 MPI_LONG_LONGs: the task's id, whether it failed, its answer (the
 * square of its id, so that the master can check it), and how long the worker spent on it. */
struct result {
    long long id, failed, answer, busy_us;
};

struct round {
    bool seen[MAX_TASKS];      /* a result came for this task id */
    int worker_of[MAX_TASKS];  /* which worker sent it */
    int bad;                   /* results for a task seen before, wrong answers, wrong failures */
    int tasks_of[MAX_RANKS];   /* per worker: tasks done */
    double busy_of[MAX_RANKS]; /* per worker: seconds spent on tasks */
    double seconds;            /* from the first task sent to the last result received */
};

/* A worker: run tasks until STOP, then say how many it ran. */
static void work(void)
{
    int done = 0;
    for (;;) {
        struct task task;
        MPI_Status status;
        MPI_CHECK(MPI_Recv(&task, 3, MPI_INT, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &status));
        if (status.MPI_TAG == TAG_STOP)
            break;
        double start = kit_now();
        kit_sleep(task.milliseconds / 1000.0); /* the task's work: waiting, like an API call */
        struct result result = {.id = task.id,
                                .failed = task.fails,
                                .answer = task.fails ? 0 : (long long)task.id * task.id};
        result.busy_us = (long long)(kit_seconds_since(start) * 1e6);
        MPI_CHECK(MPI_Send(&result, 4, MPI_LONG_LONG, 0, TAG_RESULT, MPI_COMM_WORLD));
        done++;
    }
    MPI_CHECK(MPI_Send(&done, 1, MPI_INT, 0, TAG_STOPPED, MPI_COMM_WORLD));
}

/* The master's two policies. Static: every worker's block is sent at once (non-blocking sends,
 * which the worker takes one by one), then all results are collected. Dynamic: one task per
 * worker, then the next task to whichever worker just sent a result. */
static void run_round(struct round *round, bool dynamic, const struct task *tasks, int count,
                      int workers)
{
    MPI_Request requests[MAX_TASKS];
    int sent = 0;
    double start = kit_now();
    if (dynamic) {
        for (int worker = 1; worker <= workers && sent < count; worker++, sent++)
            MPI_CHECK(MPI_Send(&tasks[sent], 3, MPI_INT, worker, TAG_TASK, MPI_COMM_WORLD));
    } else {
        for (int worker = 1; worker <= workers; worker++) {
            int first = count * (worker - 1) / workers, end = count * worker / workers;
            for (int id = first; id < end; id++)
                MPI_CHECK(MPI_Isend(&tasks[id], 3, MPI_INT, worker, TAG_TASK, MPI_COMM_WORLD,
                                    &requests[id]));
        }
    }
    for (int received = 0; received < count; received++) {
        struct result result;
        int worker =
            mpi_job_recv_within(&result, 4, MPI_LONG_LONG, TAG_RESULT, patience).MPI_SOURCE;
        int id = (int)result.id;
        if (id < 0 || id >= count)
            mpi_job_abort("worker %d sent a result for task %d, which does not exist", worker, id);
        /* Nothing lost: as many results as tasks and none twice, so one for each; and each as
         * expected: failed if the task was meant to fail, else the square of its id. */
        bool expected = tasks[id].fails ? result.failed != 0
                                        : !result.failed && result.answer == (long long)id * id;
        round->bad += round->seen[id] || !expected;
        round->seen[id] = true;
        round->worker_of[id] = worker;
        round->tasks_of[worker]++;
        round->busy_of[worker] += (double)result.busy_us / 1e6;
        if (dynamic && sent < count) /* the queue: the next task goes to the worker now free */
            MPI_CHECK(MPI_Send(&tasks[sent++], 3, MPI_INT, worker, TAG_TASK, MPI_COMM_WORLD));
    }
    round->seconds = kit_seconds_since(start);
    if (!dynamic)
        MPI_CHECK(MPI_Waitall(count, requests, MPI_STATUSES_IGNORE));
}

/* After both rounds, whatever happened in them: STOP to every worker, and each confirms with
 * how many tasks it ran (a worker that does not, in time, ends the job). */
static void stop_workers(int workers, int ran[])
{
    for (int worker = 1; worker <= workers; worker++)
        MPI_CHECK(MPI_Send(NULL, 0, MPI_INT, worker, TAG_STOP, MPI_COMM_WORLD));
    for (int confirmed = 0; confirmed < workers; confirmed++) {
        int done;
        MPI_Status status = mpi_job_recv_within(&done, 1, MPI_INT, TAG_STOPPED, patience);
        ran[status.MPI_SOURCE] = done;
    }
}

static void print_table(const struct round rounds[2], int workers)
{
    printf("\n%-12s%-38s%s\n", "", "static split (blocks up front)",
           "dynamic (next task to a free worker)");
    for (int worker = 1; worker <= workers; worker++)
        printf("worker %-5d%3d tasks, busy %6.3f s%14s%3d tasks, busy %6.3f s\n", worker,
               rounds[0].tasks_of[worker], rounds[0].busy_of[worker], "",
               rounds[1].tasks_of[worker], rounds[1].busy_of[worker]);
    printf("%-12s%22.3f s%14s%22.3f s\n", "all done in", rounds[0].seconds, "", rounds[1].seconds);
}

/* Rank 0: run both rounds, stop the workers, print, judge. Returns the exit status. */
static int master(int count, int short_ms, int fail_id, int workers)
{
    struct task tasks[MAX_TASKS];
    int long_ms = 6 * short_ms, longs = (count + 3) / 4;
    for (int id = 0; id < count; id++)
        tasks[id] = (struct task){
            .id = id, .milliseconds = id < longs ? long_ms : short_ms, .fails = id == fail_id};

    printf("%d tasks (%d of %d ms first, then %d of %d ms) for %d worker(s); ", count, longs,
           long_ms, count - longs, short_ms, workers);
    if (fail_id >= 0)
        printf("task %d fails on purpose\n", fail_id);
    else
        printf("no task fails\n");

    static struct round rounds[2]; /* [0] static split, [1] dynamic */
    run_round(&rounds[0], false, tasks, count, workers);
    run_round(&rounds[1], true, tasks, count, workers);
    int ran[MAX_RANKS] = {0};
    stop_workers(workers, ran);

    print_table(rounds, workers);
    char ratio[32];
    kit_ratio_text(rounds[0].seconds / rounds[1].seconds, ratio);
    if (workers > 1)
        printf("dynamic %s: no worker sits idle while tasks wait\n", ratio);
    else
        printf("note: with one worker both rounds are the same schedule; --ranks=4 shows the "
               "difference\n");
    if (fail_id >= 0)
        printf("task %d failed: reported by worker %d (static), by worker %d (dynamic)\n", fail_id,
               rounds[0].worker_of[fail_id], rounds[1].worker_of[fail_id]);
    bool complete = rounds[0].bad == 0 && rounds[1].bad == 0;
    printf("tasks accounted for: %s in each round, %d with the right answer, %d failed\n",
           complete ? "all" : "NOT all", count - (fail_id >= 0), fail_id >= 0);
    printf("shutdown: STOP sent to %d worker(s), %d confirmed; tasks each ran:", workers, workers);
    for (int worker = 1; worker <= workers; worker++)
        printf(" %d", ran[worker]);
    printf("\n");

    if (!complete) {
        printf("FAILED: a task was lost, duplicated or answered wrongly\n");
        return 1;
    }
    printf("OK: %d tasks in each round, none lost", count);
    if (fail_id >= 0)
        printf(", task %d failed and was reported", fail_id);
    if (workers > 1)
        printf("; dynamic %s than static", ratio);
    printf("; %d of %d workers stopped\n", workers, workers);
    return 0;
}

static const char usage[] =
    "Usage: mpi_workers [options]\n"
    "A master hands uneven tasks to MPI workers, as a static split and as they free up.\n"
    "  -t, --tasks=N     how many tasks (default 24, 1 to 100)\n"
    "  -m, --task-ms=N   a short task's time; the first quarter take 6 times longer\n"
    "                    (default 10, 1 to 50)\n"
    "  -f, --fail=ID     the task that fails on purpose (default 5; none: no task fails)\n"
    "  -r, --ranks=N     ranks mpirun starts when this is run plainly: 1 master and N-1\n"
    "                    workers (default 4, 2 to 16); under mpirun, its -np decides\n"
    "  -h, --help        show this help and exit\n";

/* The options, parsed the same way by every rank (mpi_job_options_begin()). */
static void parse_options(int argc, char *argv[], long *count, long *short_ms, long *fail_id,
                          long *ranks)
{
    static const struct option options[] = {
        {"tasks", required_argument, NULL, 't'}, {"task-ms", required_argument, NULL, 'm'},
        {"fail", required_argument, NULL, 'f'},  {"ranks", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    mpi_job_options_begin();
    for (int opt; (opt = getopt_long(argc, argv, "t:m:f:r:h", options, NULL)) != -1;) {
        switch (opt) {
        case 't': *count = kit_parse_long("--tasks", optarg, 1, MAX_TASKS); break;
        case 'm': *short_ms = kit_parse_long("--task-ms", optarg, 1, 50); break;
        case 'f':
            *fail_id = strcmp(optarg, "none") == 0
                           ? -1
                           : kit_parse_long("--fail", optarg, 0, MAX_TASKS - 1);
            break;
        case 'r': *ranks = kit_parse_long("--ranks", optarg, 2, MAX_RANKS); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (*fail_id >= *count)
        kit_usage_error("--fail: there is no task %ld (tasks are 0 to %ld)", *fail_id, *count - 1);
    mpi_job_options_end();
}

int main(int argc, char *argv[])
{
    long count = 24, short_ms = 10, fail_id = 5, ranks = 4;
    kit_cli_init(usage);
    parse_options(argc, argv, &count, &short_ms, &fail_id, &ranks);
    mpi_job_relaunch(argc, argv, (int)ranks, NULL); /* run plainly: start mpirun */

    int size;
    int rank = mpi_job_start(&argc, &argv, &size);
    mpi_job_need_ranks(size, 2, MAX_RANKS, "a master and workers");
    int status = 0;
    if (rank == 0)
        status = master((int)count, (int)short_ms, (int)fail_id, size - 1);
    else
        work();
    return mpi_job_finish(status);
}
