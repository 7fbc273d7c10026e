/**
 * @file stale_events.c
 * @brief A callback closes a descriptor whose number is reused at once: the old event must not reach the new owner.
 *
 * What to look for: the trap every event-loop server meets. epoll_wait hands the loop a batch:
 * "fd 4 readable, fd 6 readable". The callback for fd 4 decides to drop the connection on
 * fd 6: it unwatches and closes it, then accepts a new client, and the kernel hands out the
 * lowest free number, 6 again. The batch still says "fd 6 readable", but that was the *old*
 * file. A loop that looks up "whoever owns fd 6 now" calls the new client's callback for data
 * that is not there: a blocking read() would hang the whole server, a non-blocking one gets
 * EAGAIN, and a server that takes EAGAIN as an error drops a client that did nothing wrong.
 *
 * Here two pipes stand in for the two clients, and a fresh pipe for the new client. The loop
 * (lib/event_loop.c) keeps a generation number per fd, bumped by ev_unwatch() and stored in the
 * event, and drops the event whose generation is old. The program shows that the new owner's
 * callback is not called until its own data arrives, and also that a timer cancelled by an
 * earlier callback of the same round never runs. `OK: ...` or `FAILED: ...`.
 *
 * See also: loop_basics.c; chapter 09's loop_server, where the descriptors are sockets.
 *
 * Usage: stale_events
 */
#include "kit.h"
#include "lib/event_loop.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

static const char usage[] =
    "Usage: stale_events [options]\n"
    "A callback closes a descriptor and its number is reused in the same round: the loop must\n"
    "not deliver the old event to the new owner.\n"
    "  -h, --help   show this help and exit\n";

struct demo {
    int old_fds[2][2]; /* the two "clients": pipes, both readable when the loop starts */
    int new_fds[2];    /* the "new client", on the number of the one closed */
    int closed;        /* which old pipe was closed (0 or 1), -1 before */
    int new_owner_calls, new_owner_spurious, new_owner_data;
    int cancelled_runs;
    struct ev_timer *doomed; /* cancelled by an earlier timer of the same round */
};

static void new_client_ready(struct ev_loop *loop, int fd, unsigned events, void *data);

static void make_pipe(int fds[2])
{
    if (pipe(fds) == -1)
        kit_die_errno("pipe");
    if (fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1) /* so a wrong wake-up shows as EAGAIN */
        kit_die_errno("fcntl O_NONBLOCK");
}

/* Both old pipes have this callback; whichever runs first drops the other, then a new
 * client arrives on the number just freed. */
static void old_client_ready(struct ev_loop *loop, int fd, unsigned events, void *data)
{
    (void)events;
    struct demo *demo = data;
    int self = fd == demo->old_fds[0][0] ? 0 : 1;
    char byte;
    if (read(fd, &byte, 1) != 1)
        kit_die_errno("read fd %d", fd);
    ev_unwatch(loop, fd); /* done with this client: the demo needs one byte from each */
    int other = 1 - self;
    int other_fd = demo->old_fds[other][0];
    ev_unwatch(loop, other_fd);
    if (close(other_fd) == -1 || close(demo->old_fds[other][1]) == -1)
        kit_die_errno("close pipe %d", other);
    demo->closed = other;
    make_pipe(demo->new_fds); /* the lowest free numbers: other_fd's comes back */
    printf("fd %d ready: read its byte, dropped the client on fd %d (readable too, its event is "
           "in this batch), and a new client got fd %d\n",
           fd, other_fd, demo->new_fds[0]);
    if (demo->new_fds[0] != other_fd)
        kit_die("the new pipe got fd %d, not the number %d just freed", demo->new_fds[0], other_fd);
    if (ev_watch(loop, demo->new_fds[0], EV_READ, new_client_ready, demo) == -1)
        kit_die_errno("ev_watch fd %d", demo->new_fds[0]);
}

static void new_client_ready(struct ev_loop *loop, int fd, unsigned events, void *data)
{
    (void)events;
    struct demo *demo = data;
    char byte;
    demo->new_owner_calls++;
    if (read(fd, &byte, 1) == 1) {
        demo->new_owner_data++;
        printf("fd %d ready: the new client's own byte, read\n", fd);
        ev_unwatch(loop, fd);
    } else if (errno == EAGAIN) {
        demo->new_owner_spurious++;
        printf("fd %d ready: but nothing to read (EAGAIN): the old client's stale event\n", fd);
    } else {
        kit_die_errno("read fd %d", fd);
    }
}

static void new_client_writes(struct ev_loop *loop, void *data)
{
    (void)loop;
    struct demo *demo = data;
    if (write(demo->new_fds[1], "n", 1) != 1)
        kit_die_errno("write to the new pipe");
}

static void cancel_doomed(struct ev_loop *loop, void *data)
{
    struct demo *demo = data;
    ev_cancel(loop, demo->doomed);
    printf("a timer due now cancelled the next timer, due now too\n");
}

static void doomed_runs(struct ev_loop *loop, void *data)
{
    (void)loop;
    ((struct demo *)data)->cancelled_runs++;
    printf("the cancelled timer ran\n");
}

static void add_timer(struct ev_loop *loop, double seconds, ev_timer_fn *fn, void *data,
                      struct ev_timer **handle)
{
    struct ev_timer *timer = ev_after(loop, seconds, fn, data);
    if (timer == NULL)
        kit_die_errno("ev_after");
    if (handle != NULL)
        *handle = timer;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "h", options, NULL)) != -1;) {
        if (opt == 'h')
            kit_usage_exit(0);
        kit_usage_exit(2);
    }
    kit_no_operands(argc, argv, optind);

    struct demo demo = {.closed = -1};
    struct ev_loop *loop = ev_loop_create();
    if (loop == NULL)
        kit_die_errno("ev_loop_create");
    for (int i = 0; i < 2; i++) {
        make_pipe(demo.old_fds[i]);
        if (write(demo.old_fds[i][1], "x", 1) != 1)
            kit_die_errno("write to pipe %d", i);
        if (ev_watch(loop, demo.old_fds[i][0], EV_READ, old_client_ready, &demo) == -1)
            kit_die_errno("ev_watch fd %d", demo.old_fds[i][0]);
    }
    printf("two clients, fd %d and fd %d, both readable before the loop starts\n",
           demo.old_fds[0][0], demo.old_fds[1][0]);
    add_timer(loop, 0, cancel_doomed, &demo, NULL);
    add_timer(loop, 0, doomed_runs, &demo, &demo.doomed);
    add_timer(loop, 0.020, new_client_writes, &demo, NULL);

    if (ev_run(loop) == -1)
        kit_die_errno("ev_run");
    ev_loop_free(loop);
    if (demo.closed == -1)
        kit_die("neither client's callback ran");
    int kept = 1 - demo.closed;
    close(demo.old_fds[kept][0]);
    close(demo.old_fds[kept][1]);
    close(demo.new_fds[0]);
    close(demo.new_fds[1]);

    if (demo.new_owner_spurious > 0 || demo.new_owner_data != 1 || demo.cancelled_runs > 0) {
        printf("FAILED: the new client's callback ran %d time(s) for nothing; the cancelled "
               "timer ran %d time(s)\n",
               demo.new_owner_spurious, demo.cancelled_runs);
        return 1;
    }
    printf("OK: the stale event for the reused fd was dropped (the new client's callback ran "
           "once, for its own data), and the cancelled timer never ran\n");
    return 0;
}
