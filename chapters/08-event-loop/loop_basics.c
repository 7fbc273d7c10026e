/**
 * @file loop_basics.c
 * @brief The event loop alone: timers fire in due order, a pipe becomes readable, a hang-up is EV_ERROR.
 *
 * What to look for: three timers are added out of order (30, 10, then 20 units from now) and
 * fire in the order they are due, never early. Two more timers play the other end of a pipe:
 * at 15 units one writes "ping", and the loop calls the reader's callback with EV_READ; at 25
 * units the other closes the write end, and the reader's callback gets EV_ERROR, although it
 * asked for EV_READ only: epoll reports a hang-up (EPOLLHUP) whatever was asked, so a closed
 * peer is never missed. The reader then unwatches and closes the pipe, and ev_run() returns by
 * itself: nothing is watched and no timer is pending. One thread, no blocking call, and every
 * callback ran when its moment came: that is all an event loop is (lib/event_loop.c, in full).
 *
 * The program checks its own log: the timers fired in due order and none early, the pipe's
 * data came before its hang-up, and the hang-up came as EV_ERROR: `OK: ...` or `FAILED: ...`.
 * (How the pipe's lines fall between the timers' is timing: on a busy machine, with a small
 * --unit-ms, several things fall due in one round and the lines bunch up.)
 *
 * See also: tasks_gather.c, the same loop driving tasks that wait and resume.
 *
 * Usage: loop_basics [-u MS]
 */
#include "kit.h"
#include "lib/event_loop.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "Usage: loop_basics [options]\n"
    "Timers out of order, a pipe written then closed: watch the loop call each callback in time.\n"
    "  -u, --unit-ms=N   one time unit in milliseconds, 1 to 1000 (default 10)\n"
    "  -h, --help        show this help and exit\n";

enum { MAX_EVENTS = 8 };

/* Everything the callbacks share: the pipe, the clock's start, and a log of what happened. */
struct demo {
    int pipe_read, pipe_write;
    double start, unit;
    int timers_early;
    bool error_seen;
    int logged;
    const char *log[MAX_EVENTS];
};

/* A timer's data: its name and the earliest moment it may fire. */
struct named_timer {
    struct demo *demo;
    const char *name;
    double due;
};

static void note(struct demo *demo, const char *what)
{
    if (demo->logged < MAX_EVENTS)
        demo->log[demo->logged++] = what;
}

static void print_at(const struct demo *demo)
{
    printf("  %7.1f ms  ", 1000.0 * kit_seconds_since(demo->start));
}

static void timer_fired(struct ev_loop *loop, void *data)
{
    (void)loop;
    struct named_timer *timer = data;
    double late = kit_now() - timer->due;
    if (late < 0)
        timer->demo->timers_early++;
    print_at(timer->demo);
    printf("timer \"%s\" (%.1f ms late)\n", timer->name, 1000.0 * late);
    note(timer->demo, timer->name);
}

static void write_ping(struct ev_loop *loop, void *data)
{
    (void)loop;
    struct demo *demo = data;
    if (write(demo->pipe_write, "ping", 4) != 4)
        kit_die_errno("write to the pipe");
    print_at(demo);
    printf("wrote \"ping\" into the pipe\n");
}

static void hang_up(struct ev_loop *loop, void *data)
{
    (void)loop;
    struct demo *demo = data;
    if (close(demo->pipe_write) == -1)
        kit_die_errno("close the pipe's write end");
    demo->pipe_write = -1;
    print_at(demo);
    printf("closed the pipe's write end (a hang-up)\n");
}

static void pipe_ready(struct ev_loop *loop, int fd, unsigned events, void *data)
{
    struct demo *demo = data;
    char text[16];
    ssize_t got = read(fd, text, sizeof text - 1);
    if (got == -1)
        kit_die_errno("read from the pipe");
    print_at(demo);
    printf("fd %d ready:%s%s%s, ", fd, (events & EV_READ) ? " EV_READ" : "",
           (events & EV_WRITE) ? " EV_WRITE" : "", (events & EV_ERROR) ? " EV_ERROR" : "");
    if (got > 0) {
        text[got] = '\0';
        printf("read \"%s\"\n", text);
        note(demo, "readable");
        return;
    }
    /* End of file: the writer is gone. Unwatch before close, or a level-triggered loop
     * would report the hang-up again on every round. */
    printf("read() says end of file: unwatch, close\n");
    demo->error_seen = (events & EV_ERROR) != 0;
    note(demo, "hang-up");
    ev_unwatch(loop, fd);
    if (close(fd) == -1)
        kit_die_errno("close the pipe's read end");
    demo->pipe_read = -1;
}

static void add_timer(struct ev_loop *loop, double seconds, ev_timer_fn *fn, void *data)
{
    if (ev_after(loop, seconds, fn, data) == NULL)
        kit_die_errno("ev_after %.3f s", seconds);
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"unit-ms", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    double unit_ms = 10;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "u:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'u': unit_ms = (double)kit_parse_long("--unit-ms", optarg, 1, 1000); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    struct demo demo = {.unit = unit_ms / 1000.0};
    int fds[2];
    if (pipe(fds) == -1)
        kit_die_errno("pipe");
    demo.pipe_read = fds[0];
    demo.pipe_write = fds[1];
    struct ev_loop *loop = ev_loop_create();
    if (loop == NULL)
        kit_die_errno("ev_loop_create");

    printf("timers added for 30, 10 and 20 units (1 unit = %.0f ms); the pipe is written at 15\n"
           "and its write end closed at 25; the reader asked for EV_READ only\n",
           unit_ms);
    demo.start = kit_now();
    struct named_timer timers[] = {{&demo, "third", 0}, {&demo, "first", 0}, {&demo, "second", 0}};
    const double units[] = {30, 10, 20};
    for (int i = 0; i < 3; i++) {
        timers[i].due = kit_now() + units[i] * demo.unit;
        add_timer(loop, units[i] * demo.unit, timer_fired, &timers[i]);
    }
    add_timer(loop, 15 * demo.unit, write_ping, &demo);
    add_timer(loop, 25 * demo.unit, hang_up, &demo);
    if (ev_watch(loop, demo.pipe_read, EV_READ, pipe_ready, &demo) == -1)
        kit_die_errno("ev_watch the pipe");

    if (ev_run(loop) == -1)
        kit_die_errno("ev_run");
    printf("ev_run returned by itself: nothing watched, no timer pending\n");
    ev_loop_free(loop);
    if (demo.pipe_read != -1) /* only if the hang-up never came, which the verdict reports */
        close(demo.pipe_read);

    /* Each stream keeps its order whatever the timing; how the two interleave depends on
     * how promptly the loop ran (on a busy machine several may fall due in one round). */
    char timers_seen[64] = "", pipe_seen[64] = "";
    for (int i = 0; i < demo.logged; i++) {
        bool from_pipe =
            strcmp(demo.log[i], "readable") == 0 || strcmp(demo.log[i], "hang-up") == 0;
        char *seen = from_pipe ? pipe_seen : timers_seen;
        snprintf(seen + strlen(seen), 64 - strlen(seen), "%s%s", seen[0] ? " " : "", demo.log[i]);
    }
    bool in_order = strcmp(timers_seen, "first second third") == 0 &&
                    strcmp(pipe_seen, "readable hang-up") == 0;
    if (!in_order || demo.timers_early > 0 || !demo.error_seen) {
        printf("FAILED:%s%s%s (timers: %s; pipe: %s)\n", in_order ? "" : " events out of order",
               demo.timers_early > 0 ? " a timer fired early" : "",
               demo.error_seen ? "" : " no EV_ERROR on the hang-up", timers_seen, pipe_seen);
        return 1;
    }
    printf("OK: timers in due order (first second third), none early; the pipe: data, then the "
           "hang-up as EV_ERROR\n");
    return 0;
}
