/**
 * @file children.c
 * @brief A program owns the processes it forks: on Ctrl-C, SIGTERM or an error exit it stops
 *        and reaps every one of them before it goes, and never waits for them without bound.
 *
 * Why: Ctrl-C sends SIGINT to the whole foreground process group, so the parent and its
 * children die together, in no particular order; a child that dies after its parent is an
 * orphan zombie that only init may reap (a container's PID 1 often never does). A SIGTERM sent
 * to the parent alone (`kill PID`, a service manager, `timeout`) is worse: the children never
 * hear of it, and a parent that waits for them waits forever. And a parent that fails half-way
 * (fork refused under `ulimit -u`, a pipe that broke) must not leave its first children
 * running.
 *
 * How: kit_own_children() makes the process the reaper of its children's orphans
 * (PR_SET_CHILD_SUBREAPER: a shell's background job comes back to us, not to init), and
 * installs one handler for SIGINT, SIGTERM and SIGHUP, and one exit handler. Both call
 * kit_stop_children(): it asks the kernel for the list of our children (the `children` file in
 * /proc, so the program needs to register nothing), sends each SIGTERM, reaps them as they
 * die, and after a second sends SIGKILL to whoever is left. Every call it makes (open, read,
 * kill, waitpid, nanosleep, write) is async-signal-safe, so the signal handler may use it.
 * The handler then dies of the signal it caught, as if it had never caught it: the shell sees
 * status 130 for Ctrl-C.
 *
 * Children are found under the thread that forked them: the kit's programs fork from their
 * main thread.
 */
#define _GNU_SOURCE /* prctl, PR_SET_CHILD_SUBREAPER, program_invocation_short_name */
#include "kit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { MAX_LISTED = 512 }; /* children stopped per pass; more are found on the next pass */

/* Decimal text of a non-negative number into text, signal-safe. Returns the length. */
static size_t decimal(long value, char *text)
{
    char digits[24];
    size_t count = 0;
    do {
        digits[count++] = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0);
    for (size_t i = 0; i < count; i++)
        text[i] = digits[count - 1 - i];
    return count;
}

/* Fill pids[] with the children of our main thread, from /proc/PID/task/PID/children.
 * Returns how many, or -1 if the file cannot be read. */
static int list_children(pid_t pids[], int capacity)
{
    char path[64] = "/proc/";
    size_t at = 6;
    pid_t self = getpid();
    at += decimal(self, path + at);
    memcpy(path + at, "/task/", 6);
    at += 6;
    at += decimal(self, path + at);
    memcpy(path + at, "/children", 10);

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return -1;
    char text[4096];
    size_t length = 0;
    for (;;) { /* read until end of file, or the buffer is full */
        ssize_t got = read(fd, text + length, sizeof text - 1 - length);
        if (got > 0)
            length += (size_t)got;
        else if (got == 0 || errno != EINTR || length == sizeof text - 1)
            break;
    }
    close(fd);

    int count = 0;
    long pid = 0;
    bool in_number = false;
    for (size_t i = 0; i < length && count < capacity; i++) {
        if (text[i] >= '0' && text[i] <= '9') {
            pid = pid * 10 + (text[i] - '0');
            in_number = true;
        } else if (in_number) {
            pids[count++] = (pid_t)pid;
            pid = 0;
            in_number = false;
        }
    }
    if (in_number && count < capacity)
        pids[count++] = (pid_t)pid;
    return count;
}

static void pause_briefly(void)
{
    struct timespec ten_ms = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
    nanosleep(&ten_ms, NULL);
}

int kit_stop_children(void)
{
    int saved_errno = errno;
    int reaped = 0;
    for (int pass = 0;; pass++) {
        while (waitpid(-1, NULL, WNOHANG) > 0) /* the dead first: nothing to send them */
            reaped++;
        pid_t pids[MAX_LISTED];
        int count = list_children(pids, MAX_LISTED);
        if (count == -1) { /* no /proc: nothing to list, so wait for those that end anyway */
            for (pid_t ended; (ended = waitpid(-1, NULL, 0)) > 0 || errno == EINTR;)
                reaped += ended > 0;
            break;
        }
        if (count == 0)
            break;
        /* SIGTERM at once and again every 100 ms (a child may be forking a child of its
         * own); SIGKILL from one second on, which no child can ignore. */
        if (pass % 10 == 0)
            for (int i = 0; i < count; i++)
                kill(pids[i], pass < 100 ? SIGTERM : SIGKILL);
        pause_briefly();
    }
    errno = saved_errno;
    return reaped;
}

/* Say on stderr how many children a signal made us stop, with write(2): signal-safe. */
static void report_stopped(int signo, int count)
{
    char line[160];
    size_t at = 0;
    const char *name = program_invocation_short_name;
    const char *signal_name = signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM" : "SIGHUP";
    size_t name_length = strlen(name);
    if (name_length > 60)
        name_length = 60;
    memcpy(line + at, name, name_length);
    at += name_length;
    memcpy(line + at, ": ", 2);
    at += 2;
    memcpy(line + at, signal_name, strlen(signal_name));
    at += strlen(signal_name);
    static const char stopped[] = ": stopped and reaped ";
    memcpy(line + at, stopped, sizeof stopped - 1);
    at += sizeof stopped - 1;
    at += decimal(count, line + at);
    const char *tail = count == 1 ? " child process before dying of it\n"
                                  : " child processes before dying of it\n";
    memcpy(line + at, tail, strlen(tail));
    at += strlen(tail);
    ssize_t ignored = write(STDERR_FILENO, line, at);
    (void)ignored;
}

/* SIGINT, SIGTERM, SIGHUP: stop and reap every child, then die of the same signal.
 * SA_RESETHAND has already put back the default action, so raise() ends the process; a
 * second Ctrl-C while we wait (SA_NODEFER) kills at once. */
static void stop_children_then_die(int signo)
{
    int stopped = kit_stop_children();
    if (stopped > 0)
        report_stopped(signo, stopped);
    raise(signo);
}

/* On exit() with children still there (an error exit: kit_die_errno calls exit), stop them. */
static void stop_children_at_exit(void)
{
    kit_stop_children();
}

void kit_own_children(void)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L) == -1)
        kit_die_errno("prctl PR_SET_CHILD_SUBREAPER");
    struct sigaction action = {.sa_handler = stop_children_then_die,
                               .sa_flags = SA_RESETHAND | SA_NODEFER};
    if (sigemptyset(&action.sa_mask) == -1)
        kit_die_errno("sigemptyset");
    static const int signals[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (sigaction(signals[i], &action, NULL) == -1)
            kit_die_errno("sigaction %d", signals[i]);
    if (atexit(stop_children_at_exit) != 0)
        kit_die("atexit failed");
}

void kit_child_signal_defaults(void)
{
    static const int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (signal(signals[i], SIG_DFL) == SIG_ERR)
            kit_child_die_errno("signal %d", signals[i]);
}

const char *kit_describe_status(int status, char *text, size_t size)
{
    if (WIFEXITED(status))
        snprintf(text, size, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(text, size, "was killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(text, size, "changed state (wait status 0x%x)", (unsigned)status);
    return text;
}
