/**
 * @file pipe_pingpong.c
 * @brief mpi_pingpong's yardstick: ping-pong with a forked child through two pipes.
 */
#include "pipe_pingpong.h"

#include "kit.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Reap the echo child; if it did not exit with status 0, say how it ended and exit 1 (mpirun
 * then ends the whole job). */
static void reap_echo_child(pid_t child)
{
    int status;
    char how[64];
    if (waitpid(child, &status, 0) != child)
        kit_die_errno("waitpid echo child %d", (int)child);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        kit_die("the echo child (pid %d) %s", (int)child,
                kit_describe_status(status, how, sizeof how));
}

/* The same round trips as MPI's, with a forked child through two pipes. */
double pipe_pingpong(const char *out, char *back, size_t size, long trips, int repeats)
{
    int requests[2], replies[2];
    if (pipe(requests) != 0 || pipe(replies) != 0)
        kit_die_errno("pipe");
    pid_t child = fork();
    if (child < 0)
        kit_die_errno("fork");
    if (child == 0) { /* the echo child: each message straight back, then leave */
        if (close(requests[1]) != 0 || close(replies[0]) != 0)
            kit_child_die_errno("echo child: close");
        for (long trip = 0; trip < repeats * trips; trip++)
            if (kit_read_full(requests[0], back, size) != 1 ||
                kit_write_full(replies[1], back, size) != 0)
                _exit(1); /* rank 0 is gone (end of file, EPIPE): nobody left to tell */
        _exit(0);
    }
    if (close(requests[0]) != 0 || close(replies[1]) != 0)
        kit_die_errno("close");
    double best = INFINITY;
    bool intact = true;
    for (int repeat = 0; repeat < repeats; repeat++) {
        memset(back, 0, size);
        double start = kit_now();
        for (long trip = 0; trip < trips; trip++)
            if (kit_write_full(requests[1], out, size) != 0 ||
                kit_read_full(replies[0], back, size) != 1) {
                reap_echo_child(child); /* it has closed its pipes: it is gone */
                kit_die("the echo child (pid %d) stopped answering", (int)child);
            }
        best = fmin(best, kit_seconds_since(start) / (double)trips / 2);
        intact = intact && memcmp(out, back, size) == 0;
    }
    if (close(requests[1]) != 0 || close(replies[0]) != 0)
        kit_die_errno("close");
    reap_echo_child(child);
    return intact ? best : -1;
}
