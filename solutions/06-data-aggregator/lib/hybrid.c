/**
 * @file hybrid.c
 * @brief AGG_HYBRID (bonus): the event loop fetches; child processes digest, beside the loop.
 *
 * The seed's `loop.run_in_executor(ProcessPoolExecutor(), process_data, data)`: the loop hands
 * each body to a child process and goes back to its transfers at once; the child digests, and
 * its one-record result arrives on a pipe the loop waits on with its sockets
 * (curl_multi_poll's extra descriptors). No body is copied: a child forked after the body
 * arrived has it already (fork copies the address space, lazily: copy-on-write), so a child
 * per body is both the simplest hand-over and cheap (well under a millisecond, against the
 * digest's tens). At most `workers` children at once; further bodies wait in a queue.
 */
#define _GNU_SOURCE /* pipe2 */
#include "kit.h"
#include "methods.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* What a child sends back: 40 bytes with no padding (every byte written has been set). */
struct record {
    struct agg_digest digest;
    double process_seconds;
    int32_t processed_by, unused;
};
_Static_assert(sizeof(struct record) == 40, "a record has no padding");

struct child {
    pid_t pid;
    int fd; /* the read end of its pipe */
    struct agg_source *source;
};

struct queued {
    struct agg_source *source;
    struct agg_body body;
};

struct agg_children {
    size_t max; /* children at once */
    uint64_t rounds;
    struct child *alive;
    size_t alive_count;
    struct queued *queue; /* bodies waiting for a child, first come first served */
    size_t queue_head, queue_tail;
};

struct agg_children *agg_children_new(int max, uint64_t rounds, size_t sources)
{
    struct agg_children *children = calloc(1, sizeof *children);
    if (children == NULL)
        return NULL;
    *children = (struct agg_children){
        .max = max > 0 && (size_t)max < sources ? (size_t)max : sources,
        .rounds = rounds,
        .alive = calloc(sources + 1, sizeof children->alive[0]),
        .queue = calloc(sources + 1, sizeof children->queue[0]),
    };
    if (children->alive == NULL || children->queue == NULL) {
        agg_children_free(children);
        return NULL;
    }
    return children;
}

/* Fork a child to digest @p body for @p source. Returns 0, or -1 with errno. */
static int fork_child(struct agg_children *children, struct agg_source *source,
                      const struct agg_body *body)
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
    if (pid == 0) { /* the child: digest, send, leave with _exit (the loop is not ours) */
        struct agg_source digested = {0};
        agg_digest_source(&digested, body, children->rounds);
        struct record record = {digested.digest, digested.process_seconds, digested.processed_by,
                                0};
        _exit(kit_write_full(ends[1], &record, sizeof record) == 0 ? 0 : 1);
    }
    if (close(ends[1]) == -1) /* the child holds the only write end */
        kit_die_errno("close");
    children->alive[children->alive_count++] = (struct child){pid, ends[0], source};
    return 0;
}

size_t agg_children_submit(struct agg_children *children, struct agg_run *run,
                           struct agg_source *source, struct agg_body *body)
{
    if (children->alive_count < children->max && fork_child(children, source, body) == 0) {
        agg_body_free(body); /* the child has its own copy */
        return 0;
    }
    if (children->alive_count < children->max) { /* fork failed: digest here, late but right */
        agg_digest_source(source, body, children->rounds);
        agg_body_free(body);
        agg_report(run, source);
        return 1;
    }
    children->queue[children->queue_tail++] = (struct queued){source, *body};
    *body = (struct agg_body){0}; /* the queue owns it now */
    return 0;
}

unsigned agg_children_fds(struct agg_children *children, struct curl_waitfd fds[], unsigned max)
{
    unsigned n = 0;
    for (size_t c = 0; c < children->alive_count && n < max; c++)
        fds[n++] = (struct curl_waitfd){.fd = children->alive[c].fd, .events = CURL_WAIT_POLLIN};
    return n;
}

size_t agg_children_collect(struct agg_children *children, struct agg_run *run)
{
    size_t finished = 0;
    for (size_t c = children->alive_count; c-- > 0;) {
        struct child *child = &children->alive[c];
        struct pollfd ready = {.fd = child->fd, .events = POLLIN};
        if (poll(&ready, 1, 0) != 1) /* not done yet (a child that died: POLLHUP, done) */
            continue;
        struct record record;
        if (kit_read_full(child->fd, &record, sizeof record) == 1) {
            child->source->digest = record.digest;
            child->source->process_seconds = record.process_seconds;
            child->source->processed_by = record.processed_by;
            child->source->ok = true;
        } /* else it died without a word: the source stays not ok */
        if (close(child->fd) == -1)
            kit_die_errno("close");
        while (waitpid(child->pid, NULL, 0) == -1) /* it has written or died: no long wait */
            if (errno != EINTR)
                kit_die_errno("waitpid %ld", (long)child->pid);
        agg_report(run, child->source);
        finished++;
        *child = children->alive[--children->alive_count];
    }
    while (children->queue_head < children->queue_tail &&
           children->alive_count < children->max) { /* slots freed: start queued bodies */
        struct queued *q = &children->queue[children->queue_head++];
        finished += agg_children_submit(children, run, q->source, &q->body);
    }
    return finished;
}

void agg_children_free(struct agg_children *children)
{
    if (children == NULL)
        return;
    for (size_t c = 0; c < children->alive_count; c++) { /* only after an error */
        kill(children->alive[c].pid, SIGKILL);
        close(children->alive[c].fd);
        while (waitpid(children->alive[c].pid, NULL, 0) == -1 && errno == EINTR)
            continue;
    }
    for (size_t q = children->queue_head; children->queue && q < children->queue_tail; q++)
        agg_body_free(&children->queue[q].body);
    free(children->alive);
    free(children->queue);
    free(children);
}

int agg_by_hybrid(struct agg_run *run, struct agg_source *sources[], size_t count)
{
    struct agg_children *children =
        agg_children_new(run->options->workers, run->options->rounds, count);
    if (children == NULL)
        return -1;
    int result = agg_loop(run, sources, count, children);
    int saved = errno;
    agg_children_free(children);
    errno = saved;
    return result;
}
