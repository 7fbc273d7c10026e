/**
 * @file executor.c
 * @brief executor.h: workers that read whole inputs, a parent that never blocks on its pipes.
 */
#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include "executor.h"

#include "kit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* A worker to the parent, ahead of the output. No padding: every byte sent has been set. */
struct result_header {
    uint64_t id;
    uint64_t cpu_nanoseconds;
    uint32_t worker;
    uint32_t output_size;
};

struct result_record {
    struct result_header header;
    unsigned char output[EX_OUTPUT_MAX];
};

enum { PIPE_CAPACITY = 1 << 20 }; /* what a task pipe is grown to, where allowed */

_Static_assert(sizeof(struct result_header) == 24, "no padding bytes");
_Static_assert(sizeof(struct result_record) <= PIPE_BUF, "a result must be one atomic write");

/* ---- a worker ---------------------------------------------------------------------------- */

/* A worker's whole life: read a header and that many bytes of input, run the work function,
 * write the result; until end of file. @p data is the parent's executor, copied by fork. */
static void worker_main(int index, int task_fd, int result_fd, void *data)
{
    const struct executor *ex = data;
    /* One input buffer for the worker's whole life, grown as needed and never freed (the
     * worker ends with _exit). Freeing a megabyte after each task lets malloc give memory back
     * to the kernel, and the next task then pays a page fault for every 4 KiB it touches again:
     * measured here, 60 ms instead of 12 for a list of 200,000 numbers. */
    char *input = NULL;
    size_t capacity = 0;
    for (;;) {
        struct ex_task_header task;
        int got = kit_read_full(task_fd, &task, sizeof task);
        if (got == 0)
            _exit(0); /* the parent closed our pipe: the pool is shutting down */
        if (got < 0)
            kit_child_die_errno("worker %d: read a task", index);
        if (task.size > capacity || input == NULL) {
            capacity = task.size > 0 ? task.size : 1;
            if ((input = realloc(input, capacity)) == NULL)
                kit_child_die_errno("worker %d: realloc %zu bytes", index, capacity);
        }
        if (task.size > 0 && kit_read_full(task_fd, input, task.size) != 1)
            kit_child_die_errno("worker %d: read a task's input", index);

        struct result_record result;
        memset(&result, 0, sizeof result);
        uint64_t cpu_before = process_cpu_nanoseconds();
        ex->work(input, task.size, result.output);
        result.header = (struct result_header){
            .id = task.id,
            .cpu_nanoseconds = process_cpu_nanoseconds() - cpu_before,
            .worker = (uint32_t)index,
            .output_size = (uint32_t)ex->output_size,
        };
        /* At most PIPE_BUF bytes: one atomic write, never mixed with another worker's. */
        if (kit_write_full(result_fd, &result, sizeof result.header + ex->output_size) == -1)
            kit_child_die_errno("worker %d: write a result", index);
    }
}

/* ---- sending a task: as much as the pipe takes, the rest when the loop says it has room -- */

static void on_task_pipe_writable(struct ev_loop *loop, int fd, unsigned events, void *data);

/* Write more of worker @p w's job (header, then input) into its task pipe, without blocking. */
static void send_more(struct executor *ex, int w)
{
    struct ex_job *job = ex->running[w];
    int fd = ex->pool.task_fds[w];
    size_t total = sizeof job->header + job->size;
    while (job->sent < total) {
        struct iovec parts[2];
        int count = 0;
        if (job->sent < sizeof job->header)
            parts[count++] =
                (struct iovec){(char *)&job->header + job->sent, sizeof job->header - job->sent};
        size_t input_sent = job->sent > sizeof job->header ? job->sent - sizeof job->header : 0;
        if (input_sent < job->size)
            parts[count++] =
                (struct iovec){(char *)job->input + input_sent, job->size - input_sent};
        ssize_t wrote = writev(fd, parts, count);
        if (wrote >= 0) {
            job->sent += (size_t)wrote;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN) { /* the pipe is full: the worker is reading; go back to the loop */
            if (ev_watch(ex->loop, fd, EV_WRITE, on_task_pipe_writable, ex) == -1)
                kit_die_errno("ev_watch the task pipe of worker %d", w);
            return;
        }
        if (errno == EPIPE) /* nobody reads that pipe any more: the worker has died */
            pool_watch_worker_died(&ex->watch, w);
        kit_die_errno("send a task to worker %d", w);
    }
    ev_unwatch(ex->loop, fd); /* all sent (a no-op if it was never watched) */
}

static void on_task_pipe_writable(struct ev_loop *loop, int fd, unsigned events, void *data)
{
    (void)loop, (void)events; /* EV_ERROR too: the write then fails with EPIPE, and says so */
    struct executor *ex = data;
    for (int w = 0; w < ex->pool.worker_count; w++)
        if (ex->pool.task_fds[w] == fd && ex->running[w] != NULL)
            send_more(ex, w);
}

static void give(struct executor *ex, int w, struct ex_job *job)
{
    ex->running[w] = job;
    send_more(ex, w);
}

/* ---- a result arrives -------------------------------------------------------------------- */

static void on_result(struct ev_loop *loop, int fd, unsigned events, void *data)
{
    struct executor *ex = data;
    if (!(events & EV_READ)) { /* end of file: every worker has closed its end, dying */
        ev_unwatch(loop, fd);  /* their pidfds are about to say who and how */
        return;
    }
    struct result_record result;
    /* Readable means a whole record is there: each was written in one atomic write. */
    int got = kit_read_full(fd, &result, sizeof result.header + ex->output_size);
    if (got == 0) {
        ev_unwatch(loop, fd);
        return;
    }
    if (got < 0)
        kit_die_errno("read a result");
    uint32_t w = result.header.worker;
    if (w >= (uint32_t)ex->pool.worker_count || ex->running[w] == NULL ||
        ex->running[w]->header.id != result.header.id ||
        result.header.output_size != ex->output_size)
        kit_die("a result for task %llu from worker %lu makes no sense",
                (unsigned long long)result.header.id, (unsigned long)w);
    struct ex_job *job = ex->running[w];
    ex->running[w] = NULL;
    if (ex->queue_first != NULL) { /* the worker is free: the next waiting job is its */
        struct ex_job *next = ex->queue_first;
        ex->queue_first = next->next;
        if (ex->queue_first == NULL)
            ex->queue_last = NULL;
        give(ex, (int)w, next);
    }
    struct ex_info info = {.worker = (int)w,
                           .cpu_seconds = (double)result.header.cpu_nanoseconds / 1e9};
    job->done(job->data, result.output, &info);
}

/* ---- the caller's side ------------------------------------------------------------------- */

void executor_start(struct executor *ex, struct ev_loop *loop, int workers, ex_work_fn *work,
                    size_t output_size)
{
    if (output_size > EX_OUTPUT_MAX)
        kit_die("executor_start: a result of %zu bytes is over EX_OUTPUT_MAX", output_size);
    *ex = (struct executor){.loop = loop, .work = work, .output_size = output_size};
    pp_start_with(&ex->pool, workers, worker_main, ex);
    for (int w = 0; w < ex->pool.worker_count; w++) {
        int fd = ex->pool.task_fds[w], flags = fcntl(fd, F_GETFL);
        if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
            kit_die_errno("make the task pipe of worker %d non-blocking", w);
        /* A pipe holds 64 KiB: a 1 MiB input would take 16 rounds of "the worker read some,
         * the loop writes more", each a wake-up of both, slow on a busy machine. Grow it to
         * the most an unprivileged process may ask (/proc/sys/fs/pipe-max-size, 1 MiB by
         * default); where that is refused, the default size works too, in more rounds. */
        if (fcntl(fd, F_SETPIPE_SZ, PIPE_CAPACITY) == -1 && errno != EPERM)
            kit_die_errno("grow the task pipe of worker %d to %d bytes", w, PIPE_CAPACITY);
    }
    if (ev_watch(loop, ex->pool.result_fd, EV_READ, on_result, ex) == -1)
        kit_die_errno("ev_watch the result pipe");
    pool_watch_start(&ex->watch, loop, &ex->pool);
}

int executor_submit(struct executor *ex, struct ex_job *job, const void *input, size_t size,
                    ex_done_fn *done, void *data)
{
    *job = (struct ex_job){.input = input,
                           .size = size,
                           .done = done,
                           .data = data,
                           .header = {.size = size, .id = ex->next_id++}};
    for (int w = 0; w < ex->pool.worker_count; w++)
        if (ex->running[w] == NULL) {
            give(ex, w, job);
            return w;
        }
    if (ex->queue_last != NULL) /* every worker is busy: wait in line */
        ex->queue_last->next = job;
    else
        ex->queue_first = job;
    ex->queue_last = job;
    return -1;
}

int executor_busy_workers(const struct executor *ex)
{
    int busy = 0;
    for (int w = 0; w < ex->pool.worker_count; w++)
        busy += ex->running[w] != NULL;
    return busy;
}

int executor_shutdown(struct executor *ex)
{
    pool_watch_stop(&ex->watch); /* from here on, workers are meant to exit */
    ev_unwatch(ex->loop, ex->pool.result_fd);
    for (int w = 0; w < ex->pool.worker_count; w++)
        ev_unwatch(ex->loop, ex->pool.task_fds[w]);
    return pp_stop(&ex->pool);
}
