/**
 * @file processes.c
 * @brief AGG_PROCESSES: a child process per source, its result back over a pipe of its own.
 *
 * The seed's ProcessPoolExecutor version, the fork way: each child fetches its source, digests
 * it, writes one fixed-size record to its pipe and leaves with _exit() (never exit(): the
 * parent's atexit handlers and stdio buffers are not the child's to run). The parent starts
 * at most `workers` children at once, waits on all their pipes with poll(), and for each
 * record copies the result into the source, closes the pipe, reaps that child by its pid
 * (never waitpid(-1): the program's local server is a child too) and reports the source.
 *
 * A pipe per child tells the parent who finished, and a child that dies without writing is
 * seen as end of file on its pipe: its source fails, nothing hangs.
 */
#define _GNU_SOURCE /* pipe2 */
#include "kit.h"
#include "methods.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* What a child sends back: its source's results (not the url: a pointer means nothing in
 * another process). 64 bytes with no padding, so every byte written to the pipe has been set;
 * one write(2) of less than PIPE_BUF bytes: atomic. */
struct record {
    struct agg_digest digest;
    double fetch_seconds, process_seconds;
    long status;
    int32_t attempts, processed_by, ok, unused;
};
_Static_assert(sizeof(struct record) == 64, "a record has no padding");

struct child {
    pid_t pid;
    int fd; /* the read end of its pipe */
    struct agg_source *source;
};

/* In the child: fetch, digest, send, leave. */
static void run_child(int fd, struct agg_source *source, const struct agg_options *options)
{
    struct agg_body body = {0};
    if (agg_fetch_blocking(source, options, &body))
        agg_digest_source(source, &body, options->rounds);
    agg_body_free(&body);
    struct record record = {.digest = source->digest,
                            .fetch_seconds = source->fetch_seconds,
                            .process_seconds = source->process_seconds,
                            .status = source->status,
                            .attempts = source->attempts,
                            .processed_by = source->processed_by,
                            .ok = source->ok};
    _exit(kit_write_full(fd, &record, sizeof record) == 0 ? 0 : 1);
}

/* Fork a child for @p source into @p child. Returns 0, or -1 with errno (fork or pipe). */
static int start_child(struct child *child, struct agg_source *source,
                       const struct agg_options *options)
{
    int ends[2];
    if (pipe2(ends, O_CLOEXEC) == -1)
        return -1;
    pid_t pid = fork();
    if (pid == -1) {
        int saved = errno;
        close(ends[0]), close(ends[1]);
        errno = saved;
        return -1;
    }
    if (pid == 0) {
        if (close(ends[0]) == -1)
            kit_child_die_errno("close");
        run_child(ends[1], source, options);
    }
    if (close(ends[1]) == -1) /* the child holds the only write end: its exit means EOF */
        kit_die_errno("close");
    *child = (struct child){.pid = pid, .fd = ends[0], .source = source};
    return 0;
}

/* The child's pipe is readable (a record, or end of file): take the result, reap, report. */
static void finish_child(struct child *child, struct agg_run *run)
{
    struct record record;
    int got = kit_read_full(child->fd, &record, sizeof record);
    if (close(child->fd) == -1)
        kit_die_errno("close");
    struct agg_source *source = child->source;
    if (got == 1) {
        source->digest = record.digest;
        source->fetch_seconds = record.fetch_seconds;
        source->process_seconds = record.process_seconds;
        source->status = record.status;
        source->attempts = record.attempts;
        source->processed_by = record.processed_by;
        source->ok = record.ok;
    } else { /* it died before it could say anything: the source failed */
        source->attempts = 1;
    }
    while (waitpid(child->pid, NULL, 0) == -1) /* it has written or died: no long wait */
        if (errno != EINTR)
            kit_die_errno("waitpid %ld", (long)child->pid);
    agg_report(run, child->source);
}

int agg_by_processes(struct agg_run *run, struct agg_source *sources[], size_t count)
{
    size_t most = (size_t)run->options->workers;
    if (most == 0 || most > count)
        most = count;
    struct child *children = calloc(most, sizeof children[0]);
    struct pollfd *ready = calloc(most, sizeof ready[0]);
    if (children == NULL || ready == NULL) {
        free(children), free(ready);
        return -1;
    }
    size_t next = 0, alive = 0;
    int fork_error = 0;
    while (alive > 0 || (next < count && fork_error == 0)) {
        while (alive < most && next < count && fork_error == 0) {
            if (start_child(&children[alive], sources[next], run->options) == 0)
                alive++, next++;
            else
                fork_error = errno; /* finish the children we have, start no more */
        }
        if (alive == 0)
            break;
        for (size_t c = 0; c < alive; c++)
            ready[c] = (struct pollfd){.fd = children[c].fd, .events = POLLIN};
        if (poll(ready, alive, -1) == -1) { /* every child's transfer has a timeout */
            if (errno == EINTR)
                continue;
            fork_error = errno; /* cannot happen with valid descriptors; do not spin */
            for (size_t c = 0; c < alive; c++)
                ready[c].revents = POLLHUP; /* read each child to its end */
        }
        for (size_t c = alive; c-- > 0;) /* backwards: the last child moves into a freed slot */
            if (ready[c].revents != 0) {
                finish_child(&children[c], run);
                children[c] = children[--alive];
            }
    }
    free(children), free(ready);
    if (fork_error != 0) {
        errno = fork_error;
        return -1;
    }
    return 0;
}
