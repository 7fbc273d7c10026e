/**
 * @file pipe_ipc.c
 * @brief A parent and a child process talk through two pipes: requests one way, replies back.
 *
 * What to look for: a pipe is a one-way byte channel in the kernel with a read end and a write
 * end. Python's `multiprocessing.Pipe()` gives two connected ends you can send and receive on;
 * here two pipes do the same: the parent writes numbers into one, the child reads them and writes
 * their squares into the other. After the last request the parent closes its write end; the
 * child's next read returns 0 (end of file), so the child sends a summary, closes its end and
 * exits. The parent then reads end of file too, reaps the child with waitpid(), and checks
 * every answer. The round-trip time shows what a message between processes costs.
 *
 * If the child dies early (try `kill -KILL` on it), the parent's next read sees end of file,
 * or its next write fails with EPIPE: it reaps the child, says how it ended, and exits 1.
 *
 * What goes wrong if you forget to close the ends you do not use: end of file comes only when
 * EVERY copy of the write end is closed, and fork() copies them all. A child still holding the
 * request pipe's write end would wait for more requests forever.
 *
 * See also: process_queue.c (many writers, one pipe), bounded_queue.c (the same hand-over
 * between threads, a hundred times cheaper).
 *
 * Usage: pipe_ipc [-n N]
 */
#include "kit.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
    "Usage: pipe_ipc [options]\n"
    "A parent sends numbers to a child through a pipe; the child answers through another.\n"
    "  -n, --requests=N   numbers to send, 1 to 2000000 (about 10 us each; default 10000)\n"
    "  -h, --help         show this help and exit\n";

enum { READ_END = 0, WRITE_END = 1 }; /* pipe() fills fds[0] for reading, fds[1] for writing */

/* The child: answer each number with its square until end of file, then send how many it
 * answered. Leaves with _exit(): the parent's stdio buffers and atexit handlers are not ours. */
static void child_serve(int requests_fd, int replies_fd)
{
    int64_t number, answered = 0;
    int got;
    while ((got = kit_read_full(requests_fd, &number, sizeof number)) == 1) {
        int64_t square = number * number;
        if (kit_write_full(replies_fd, &square, sizeof square) == -1)
            kit_child_die_errno("child: write reply");
        answered++;
    }
    if (got == -1)
        kit_child_die_errno("child: read request");
    /* got == 0: end of file, the parent closed its write end. Send the summary and leave. */
    if (kit_write_full(replies_fd, &answered, sizeof answered) == -1)
        kit_child_die_errno("child: write summary");
    if (close(requests_fd) == -1 || close(replies_fd) == -1)
        kit_child_die_errno("child: close");
    _exit(0);
}

/* The child went away early (killed, or it failed): reap it, say how it ended, exit 1. */
_Noreturn static void child_went_away(pid_t child, const char *while_doing)
{
    int status;
    while (waitpid(child, &status, 0) == -1) /* it closed its ends: it has ended, or is ending */
        if (errno != EINTR)
            kit_die_errno("waitpid %d", (int)child);
    char how[64];
    printf("FAILED: %s: child %d went away: it %s\n", while_doing, (int)child,
           kit_describe_status(status, how, sizeof how));
    exit(1);
}

/* Read one 8-byte value from the child; anything but a whole value is fatal. */
static int64_t read_value(int fd, pid_t child, const char *what)
{
    int64_t value;
    int got = kit_read_full(fd, &value, sizeof value);
    if (got == -1 && errno != EPROTO)
        kit_die_errno("read %s", what);
    if (got != 1) /* end of file: the child closed its end, whole or torn */
        child_went_away(child, what);
    return value;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"requests", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long requests = 10000;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "n:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'n': requests = kit_parse_long("--requests", optarg, 1, 2000000); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    /* kit_cli_init ignored SIGPIPE: writing to a pipe whose reader has died fails with EPIPE,
     * instead of killing us silently, and we can say what happened. kit_own_children: Ctrl-C,
     * SIGTERM or an error exit stop and reap the child first. */
    kit_own_children();

    int request_pipe[2], reply_pipe[2];
    if (pipe(request_pipe) == -1 || pipe(reply_pipe) == -1)
        kit_die_errno("pipe");
    fflush(stdout); /* or the child inherits unprinted output and might print it twice */
    pid_t child = fork();
    if (child == -1)
        kit_die_errno("fork");
    if (child == 0) {
        /* The child reads requests and writes replies: close the two ends it does not use. */
        if (close(request_pipe[WRITE_END]) == -1 || close(reply_pipe[READ_END]) == -1)
            kit_child_die_errno("child: close unused pipe ends");
        child_serve(request_pipe[READ_END], reply_pipe[WRITE_END]);
    }
    /* The parent writes requests and reads replies: close the other two ends. */
    if (close(request_pipe[READ_END]) == -1 || close(reply_pipe[WRITE_END]) == -1)
        kit_die_errno("close unused pipe ends");
    printf("parent %d sends %ld numbers to child %d and reads back their squares\n", (int)getpid(),
           requests, (int)child);

    long wrong = 0;
    double start = kit_now();
    for (int64_t number = 1; number <= requests; number++) {
        if (kit_write_full(request_pipe[WRITE_END], &number, sizeof number) == -1) {
            if (errno != EPIPE)
                kit_die_errno("write request %lld", (long long)number);
            child_went_away(child, "write request"); /* EPIPE: nobody reads the pipe now */
        }
        if (read_value(reply_pipe[READ_END], child, "reply") != number * number)
            wrong++;
    }
    double seconds = kit_seconds_since(start);
    printf("%ld round trips in %.3f s: %.1f microseconds each\n", requests, seconds,
           seconds / (double)requests * 1e6);

    /* Closing our write end is how the child learns there is no more work. */
    if (close(request_pipe[WRITE_END]) == -1)
        kit_die_errno("close request pipe");
    int64_t answered = read_value(reply_pipe[READ_END], child, "summary");
    int64_t extra;
    int got = kit_read_full(reply_pipe[READ_END], &extra, sizeof extra); /* now end of file */
    if (got == -1)
        kit_die_errno("read after the summary");
    if (close(reply_pipe[READ_END]) == -1)
        kit_die_errno("close reply pipe");

    int status;
    while (waitpid(child, &status, 0) == -1) /* reap the child: no zombie left behind */
        if (errno != EINTR)
            kit_die_errno("waitpid %d", (int)child);
    printf("child said it answered %lld requests, then closed its end (end of file: %s)\n",
           (long long)answered, got == 0 ? "yes" : "no");

    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        printf("FAILED: the child did not exit with status 0 (wait status %d)\n", status);
        return 1;
    }
    if (wrong != 0 || answered != requests || got != 0) {
        printf("FAILED: %ld wrong replies, %lld of %ld answered, end of file %s\n", wrong,
               (long long)answered, requests, got == 0 ? "seen" : "missing");
        return 1;
    }
    printf("OK: %ld requests answered, child saw end of file and exited 0\n", requests);
    return 0;
}
