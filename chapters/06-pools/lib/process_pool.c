/**
 * @file process_pool.c
 * @brief The process pool of process_pool.h: pipes, fork, a worker loop, result collection.
 */
#define _GNU_SOURCE /* prctl */
#include "process_pool.h"

#include "kit.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

_Static_assert(sizeof(struct pp_task) == 24 && sizeof(struct pp_result) == 32, "no padding bytes");
_Static_assert(sizeof(struct pp_result) <= PIPE_BUF, "a record must fit in PIPE_BUF");

/* ---- the tasks --------------------------------------------------------------------------- */

void pp_cut_into_chunks(uint64_t numbers, size_t chunks, struct pp_task tasks[])
{
    uint64_t size = numbers / chunks;
    for (size_t i = 0; i < chunks; i++) {
        tasks[i].first = i * size;
        tasks[i].count = i + 1 < chunks ? size : numbers - i * size;
        tasks[i].id = i;
    }
}

/* ---- a worker ---------------------------------------------------------------------------- */

uint64_t process_cpu_nanoseconds(void)
{
    return (uint64_t)(kit_cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) * 1e9);
}

/* A worker's whole life: read a task, compute, write the result, until end of file. */
_Noreturn static void worker_main(int index, int task_fd, int result_fd, void *data)
{
    (void)data;
    for (;;) {
        struct pp_task task;
        int got = kit_read_full(task_fd, &task, sizeof task);
        if (got == 0)
            _exit(0); /* the parent closed our pipe: the pool is shutting down */
        if (got < 0)
            kit_child_die_errno("worker %d: read a task", index);
        uint64_t cpu_before = process_cpu_nanoseconds();
        struct pp_result result = {.sum = sum_of_squares(task.first, task.count),
                                   .id = (uint32_t)task.id,
                                   .worker = (uint32_t)index};
        result.cpu_nanoseconds = process_cpu_nanoseconds() - cpu_before;
        /* One write of at most PIPE_BUF bytes: atomic. EPIPE if the parent is gone. */
        if (kit_write_full(result_fd, &result, sizeof result) == -1)
            kit_child_die_errno("worker %d: write a result", index);
    }
}

static void close_fd(int fd)
{
    if (close(fd) == -1)
        kit_die_errno("close fd %d", fd);
}

void pp_start(struct process_pool *pool, int workers)
{
    pp_start_with(pool, workers, worker_main, NULL);
}

void pp_start_with(struct process_pool *pool, int workers, pp_worker_fn *run_worker, void *data)
{
    int result_pipe[2];
    if (pipe(result_pipe) == -1)
        kit_die_errno("pipe");
    pid_t parent = getpid();
    fflush(stdout); /* else a child that called exit() would print this output a second time */
    for (int i = 0; i < workers; i++) {
        int task_pipe[2];
        if (pipe(task_pipe) == -1)
            kit_die_errno("pipe"); /* kit_own_children stops the workers already started */
        pid_t pid = fork();
        if (pid == -1)
            kit_die_errno("fork worker %d", i);
        if (pid == 0) {
            /* Die with the parent, even if it is killed outright (SIGKILL runs no handler). */
            if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
                kit_child_die_errno("prctl PR_SET_PDEATHSIG");
            if (getppid() != parent) /* the parent died before the line above */
                _exit(1);
            /* Keep only our own ends. A copy of an older sibling's task pipe kept here would
             * stop that sibling from ever reading end of file at shutdown. */
            for (int older = 0; older < i; older++)
                if (close(pool->task_fds[older]) == -1)
                    kit_child_die_errno("close worker %d's task pipe", older);
            if (close(task_pipe[1]) == -1 || close(result_pipe[0]) == -1)
                kit_child_die_errno("close the parent's pipe ends");
            run_worker(i, task_pipe[0], result_pipe[1], data);
            _exit(0); /* run_worker should not return; if it does, the worker ends here */
        }
        close_fd(task_pipe[0]);
        pool->pids[i] = pid;
        pool->task_fds[i] = task_pipe[1];
        pool->worker_count = i + 1;
    }
    close_fd(result_pipe[1]); /* only workers write results */
    pool->result_fd = result_pipe[0];
    pool->cpu_nanoseconds = 0;
}

/* ---- the parent's side ------------------------------------------------------------------- */

/* A worker that has ended before shutdown is a failure: name it, stop the others, exit 1. */
static void check_workers_alive(const struct process_pool *pool)
{
    for (int i = 0; i < pool->worker_count; i++) {
        int status;
        pid_t ended = waitpid(pool->pids[i], &status, WNOHANG);
        if (ended == 0)
            continue; /* still running */
        if (ended == -1)
            kit_die_errno("waitpid worker %d (pid %d)", i, (int)pool->pids[i]);
        char how[64];
        printf("worker %d (pid %d) %s: stopping the pool\n", i, (int)ended,
               kit_describe_status(status, how, sizeof how));
        printf("FAILED: a worker died; %d other workers stopped and reaped\n", kit_stop_children());
        exit(1);
    }
}

/* Wait until a result can be read, looking at the workers every 100 ms meanwhile: a worker
 * that died holds no task any more, and its result would never come. */
static void wait_for_result(const struct process_pool *pool)
{
    struct pollfd ready = {.fd = pool->result_fd, .events = POLLIN};
    for (;;) {
        int count = poll(&ready, 1, 100);
        if (count == -1 && errno != EINTR)
            kit_die_errno("poll the result pipe");
        check_workers_alive(pool);
        if (count == 1)
            return;
    }
}

static void send_task(const struct process_pool *pool, int worker, const struct pp_task *task)
{
    if (kit_write_full(pool->task_fds[worker], task, sizeof *task) == 0)
        return;
    if (errno == EPIPE) /* nobody reads that pipe: the worker has died */
        check_workers_alive(pool);
    kit_die_errno("send task %llu to worker %d", (unsigned long long)task->id, worker);
}

void pp_run(struct process_pool *pool, const struct pp_task tasks[], size_t count, u128 sums[],
            int ran_on[])
{
    size_t sent = 0, received = 0;
    for (int w = 0; w < pool->worker_count && sent < count; w++, sent++)
        send_task(pool, w, &tasks[sent]);
    while (received < count) {
        struct pp_result result;
        wait_for_result(pool);
        int got = kit_read_full(pool->result_fd, &result, sizeof result);
        if (got != 1)
            check_workers_alive(pool); /* end of file: every worker is gone */
        if (got == 0)
            kit_die("every worker has gone: %zu of %zu results received", received, count);
        if (got < 0)
            kit_die_errno("read a result");
        if (result.id >= count || result.worker >= (uint32_t)pool->worker_count)
            kit_die("a result for task %lu from worker %lu makes no sense",
                    (unsigned long)result.id, (unsigned long)result.worker);
        sums[result.id] = result.sum;
        ran_on[result.id] = (int)result.worker;
        pool->cpu_nanoseconds += result.cpu_nanoseconds;
        received++;
        if (sent < count) {
            send_task(pool, (int)result.worker, &tasks[sent]);
            sent++;
        }
    }
}

int pp_stop(struct process_pool *pool)
{
    for (int i = 0; i < pool->worker_count; i++)
        close_fd(pool->task_fds[i]);
    int clean_exits = 0;
    for (int i = 0; i < pool->worker_count; i++) {
        int status;
        while (waitpid(pool->pids[i], &status, 0) == -1) /* each is reading end of file */
            if (errno != EINTR)
                kit_die_errno("waitpid worker %d (pid %d)", i, (int)pool->pids[i]);
        clean_exits += WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    close_fd(pool->result_fd);
    return clean_exits;
}
