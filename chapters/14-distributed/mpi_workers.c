/**
 * @file mpi_workers.c
 * @brief A master hands tasks to MPI workers as they free up (Celery-style), beside a static split.
 *
 * What to look for: rank 0 is the master (Celery's broker and caller in one), every other rank
 * a worker that loops: receive a task, run it, send the result back, until it receives STOP.
 * The tasks are uneven: the first quarter take 6 times longer than the rest, as the big jobs
 * often come first in a real list. The same tasks run twice on the same workers:
 * - static split: each worker gets its fixed block of tasks up front (a `map` in equal chunks);
 *   the worker with the big tasks finishes last while the others wait, idle;
 * - dynamic: the master sends each worker one task, and the next one only when a result comes
 *   back, so whoever is free takes the next task. That is all a task queue does.
 * The table shows each worker's busy time per round; dynamic ends about twice as soon.
 *
 * A task that fails (here task 5, on purpose, like a Celery task that raises) is reported
 * with its id by the worker, never lost: the master accounts for every task id in each round
 * (done with the right answer, or failed) and, whatever happened, sends STOP to every worker
 * and waits for each to confirm. A worker that stops answering is reported after a deadline
 * and the job ended with MPI_Abort(), not waited for forever. What MPI does not give, unlike
 * Celery: retries, and surviving a worker that dies (the whole job ends; see the README).
 *
 * See also: mpi_sum.c (a reduction), ../06-pools/process_pool.c (the same hand-out between
 * processes of one machine, over pipes).
 *
 * Usage: mpi_workers [--tasks=N] [--task-ms=N] [--fail=ID|none] [--ranks=N]
 */
#include "kit.h"
#include "lib/mpi_job.h"

#include <getopt.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

enum { TAG_TASK = 1, TAG_RESULT, TAG_STOP, TAG_STOPPED };
enum { MAX_TASKS = 100, MAX_RANKS = 16 };

struct task {
    int id, milliseconds;
};

/* What a worker sends back: the task's id, whether it failed, its answer (the square of its
 * id, so that the master can check it), and how long the worker spent on it. */
struct result {
    long long id, failed, answer, busy_us;
};

struct round {
    int results[MAX_TASKS];    /* results received per task id: must end up exactly 1 */
    int worker_of[MAX_TASKS];  /* which worker sent the result */
    int failed[MAX_TASKS];     /* the worker reported the task as failed */
    int wrong;                 /* answers that were not the square of the id */
    int tasks_of[MAX_RANKS];   /* per worker: tasks done */
    double busy_of[MAX_RANKS]; /* per worker: seconds spent on tasks */
    double seconds;            /* from the first task sent to the last result received */
};

/* A worker: run tasks until STOP, then say how many it ran. */
static void work(int fail_id)
{
    int done = 0;
    for (;;) {
        struct task task;
        MPI_Status status;
        MPI_CHECK(MPI_Recv(&task, 2, MPI_INT, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &status));
        if (status.MPI_TAG == TAG_STOP)
            break;
        double start = kit_now();
        kit_sleep(task.milliseconds / 1000.0); /* the task's work: waiting, like an API call */
        struct result result = {.id = task.id,
                                .failed = task.id == fail_id,
                                .answer = task.id == fail_id ? 0 : (long long)task.id * task.id};
        result.busy_us = (long long)(kit_seconds_since(start) * 1e6);
        MPI_CHECK(MPI_Send(&result, 4, MPI_LONG_LONG, 0, TAG_RESULT, MPI_COMM_WORLD));
        done++;
    }
    MPI_CHECK(MPI_Send(&done, 1, MPI_INT, 0, TAG_STOPPED, MPI_COMM_WORLD));
}

/* Receive one message with @p tag from any worker, but give up at @p deadline (kit_now()
 * seconds): a worker that never answers ends the job instead of hanging it. */
static MPI_Status receive(void *buffer, int count, MPI_Datatype type, int tag, double deadline)
{
    MPI_Status status;
    for (int arrived = 0; !arrived;) {
        MPI_CHECK(MPI_Iprobe(MPI_ANY_SOURCE, tag, MPI_COMM_WORLD, &arrived, &status));
        if (!arrived && kit_now() > deadline) {
            fprintf(stderr, "mpi_workers: FAILED: no answer from any worker in time: ending "
                            "the job\n");
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
    }
    MPI_CHECK(MPI_Recv(buffer, count, type, status.MPI_SOURCE, tag, MPI_COMM_WORLD, &status));
    return status;
}

static void record(struct round *round, const struct result *result, int worker)
{
    int id = (int)result->id;
    if (id < 0 || id >= MAX_TASKS) {
        fprintf(stderr, "mpi_workers: worker %d sent a result for task %d, which does not exist\n",
                worker, id);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    round->results[id]++;
    round->worker_of[id] = worker;
    round->failed[id] = result->failed != 0;
    if (!result->failed && result->answer != (long long)id * id)
        round->wrong++;
    round->tasks_of[worker]++;
    round->busy_of[worker] += (double)result->busy_us / 1e6;
}

/* The master's two policies. Static: every worker's block is sent at once (non-blocking sends,
 * which the worker takes one by one), then all results are collected. Dynamic: one task per
 * worker, then the next task to whichever worker just sent a result. */
static void run_round(struct round *round, bool dynamic, const struct task *tasks, int count,
                      int workers, double patience)
{
    MPI_Request requests[MAX_TASKS];
    int sent = 0;
    double start = kit_now();
    if (dynamic) {
        for (int worker = 1; worker <= workers && sent < count; worker++, sent++)
            MPI_CHECK(MPI_Send(&tasks[sent], 2, MPI_INT, worker, TAG_TASK, MPI_COMM_WORLD));
    } else {
        for (int worker = 1; worker <= workers; worker++) {
            int first = count * (worker - 1) / workers, end = count * worker / workers;
            for (int id = first; id < end; id++, sent++)
                MPI_CHECK(MPI_Isend(&tasks[id], 2, MPI_INT, worker, TAG_TASK, MPI_COMM_WORLD,
                                    &requests[id]));
        }
    }
    for (int received = 0; received < count; received++) {
        struct result result;
        MPI_Status status = receive(&result, 4, MPI_LONG_LONG, TAG_RESULT, kit_now() + patience);
        record(round, &result, status.MPI_SOURCE);
        if (dynamic && sent < count) {
            MPI_CHECK(
                MPI_Send(&tasks[sent], 2, MPI_INT, status.MPI_SOURCE, TAG_TASK, MPI_COMM_WORLD));
            sent++;
        }
    }
    round->seconds = kit_seconds_since(start);
    if (!dynamic)
        MPI_CHECK(MPI_Waitall(count, requests, MPI_STATUSES_IGNORE));
}

/* Every task id has exactly one result, the right answer unless it failed: nothing lost. */
static bool accounted_for(const struct round *round, int count, int fail_id)
{
    bool ok = round->wrong == 0;
    for (int id = 0; id < count; id++)
        ok = ok && round->results[id] == 1 && round->failed[id] == (id == fail_id);
    return ok;
}

/* After both rounds, whatever happened in them: STOP to every worker, and each confirms with
 * how many tasks it ran. Returns how many confirmed. */
static int stop_workers(int workers, int ran[], double patience)
{
    for (int worker = 1; worker <= workers; worker++)
        MPI_CHECK(MPI_Send(NULL, 0, MPI_INT, worker, TAG_STOP, MPI_COMM_WORLD));
    int confirmed = 0;
    for (; confirmed < workers; confirmed++) {
        int done;
        MPI_Status status = receive(&done, 1, MPI_INT, TAG_STOPPED, kit_now() + patience);
        ran[status.MPI_SOURCE] = done;
    }
    return confirmed;
}

static void print_table(const struct round rounds[2], int workers)
{
    printf("\n%-12s%-38s%s\n", "", "static split (blocks up front)",
           "dynamic (next task to a free worker)");
    for (int worker = 1; worker <= workers; worker++) {
        char cell[2][40];
        for (int r = 0; r < 2; r++)
            snprintf(cell[r], sizeof cell[r], "%3d tasks, busy %.3f s", rounds[r].tasks_of[worker],
                     rounds[r].busy_of[worker]);
        printf("worker %-5d%-38s%s\n", worker, cell[0], cell[1]);
    }
    char total[40];
    snprintf(total, sizeof total, "%.3f s", rounds[0].seconds);
    printf("%-12s%-38s%.3f s\n", "all done in", total, rounds[1].seconds);
}

/* Rank 0: run both rounds, stop the workers, print, judge. Returns the exit status. */
static int master(int count, int short_ms, int fail_id, int workers)
{
    struct task tasks[MAX_TASKS];
    int long_ms = 6 * short_ms, longs = (count + 3) / 4;
    for (int id = 0; id < count; id++)
        tasks[id] = (struct task){.id = id, .milliseconds = id < longs ? long_ms : short_ms};
    double patience = 5 + 2 * long_ms / 1000.0; /* for one answer: generous on a busy machine */

    printf("%d tasks (%d of %d ms first, then %d of %d ms) for %d worker(s); ", count, longs,
           long_ms, count - longs, short_ms, workers);
    if (fail_id >= 0)
        printf("task %d fails on purpose\n", fail_id);
    else
        printf("no task fails\n");

    static struct round rounds[2]; /* [0] static split, [1] dynamic */
    run_round(&rounds[0], false, tasks, count, workers, patience);
    run_round(&rounds[1], true, tasks, count, workers, patience);
    int ran[MAX_RANKS] = {0};
    int stopped = stop_workers(workers, ran, patience);

    print_table(rounds, workers);
    double speedup = rounds[0].seconds / rounds[1].seconds;
    if (workers > 1)
        printf("dynamic x%.2f faster: no worker sits idle while tasks wait\n", speedup);
    else
        printf("note: with one worker both rounds are the same schedule; --ranks=4 shows the "
               "difference\n");
    if (fail_id >= 0)
        printf("task %d failed: reported by worker %d (static), by worker %d (dynamic)\n", fail_id,
               rounds[0].worker_of[fail_id], rounds[1].worker_of[fail_id]);
    bool complete =
        accounted_for(&rounds[0], count, fail_id) && accounted_for(&rounds[1], count, fail_id);
    printf("tasks accounted for: %s in each round, %d with the right answer, %d failed\n",
           complete ? "all" : "NOT all", count - (fail_id >= 0), fail_id >= 0);
    printf("shutdown: STOP sent to %d worker(s), %d confirmed; tasks each ran:", workers, stopped);
    for (int worker = 1; worker <= workers; worker++)
        printf(" %d", ran[worker]);
    printf("\n");

    if (!complete || stopped != workers) {
        printf("FAILED: a task was lost, duplicated or answered wrongly, or a worker did not "
               "stop\n");
        return 1;
    }
    printf("OK: %d tasks in each round, none lost", count);
    if (fail_id >= 0)
        printf(", task %d failed and was reported", fail_id);
    if (workers > 1)
        printf("; dynamic x%.2f faster than static", speedup);
    printf("; %d of %d workers stopped\n", stopped, workers);
    return 0;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"tasks", required_argument, NULL, 't'}, {"task-ms", required_argument, NULL, 'm'},
        {"fail", required_argument, NULL, 'f'},  {"ranks", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    long count = 24, short_ms = 10, fail_id = 5, ranks = 4;

    kit_cli_init(usage);
    mpi_job_options_begin();
    for (int opt; (opt = getopt_long(argc, argv, "t:m:f:r:h", options, NULL)) != -1;) {
        switch (opt) {
        case 't': count = kit_parse_long("--tasks", optarg, 1, MAX_TASKS); break;
        case 'm': short_ms = kit_parse_long("--task-ms", optarg, 1, 50); break;
        case 'f':
            fail_id = strcmp(optarg, "none") == 0
                          ? -1
                          : kit_parse_long("--fail", optarg, 0, MAX_TASKS - 1);
            break;
        case 'r': ranks = kit_parse_long("--ranks", optarg, 2, MAX_RANKS); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (fail_id >= count)
        kit_usage_error("--fail: there is no task %ld (tasks are 0 to %ld)", fail_id, count - 1);
    mpi_job_options_end();
    mpi_job_relaunch(argc, argv, (int)ranks, NULL);

    int size;
    int rank = mpi_job_start(&argc, &argv, &size);
    if (size < 2 || size > MAX_RANKS) { /* every rank sees the same size: all leave */
        if (rank == 0)
            fprintf(stderr, "mpi_workers: needs 2 to %d ranks (a master and workers), got %d\n",
                    MAX_RANKS, size);
        return mpi_job_finish(2);
    }
    int status = 0;
    if (rank == 0)
        status = master((int)count, (int)short_ms, (int)fail_id, size - 1);
    else
        work((int)fail_id);
    return mpi_job_finish(status);
}
