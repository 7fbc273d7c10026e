/**
 * @file reap.c
 * @brief On SIGINT, SIGTERM or SIGHUP: wait for every child, then die of the same signal.
 *
 * See reap.h for why. Everything the handler calls (waitpid, raise) is async-signal-safe.
 * An exit() with children still running (an error exit) waits for them too.
 */
#define _GNU_SOURCE /* prctl, PR_SET_CHILD_SUBREAPER */
#include "reap.h"

#include "kit.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>

/* Reap until no child is left (ECHILD), then re-raise: SA_RESETHAND has already put back the
 * default action, which ends the process with this signal, as the shell expects (status 130
 * for SIGINT). SA_NODEFER leaves the signal unblocked here, so a second one kills at once. */
static void reap_then_die(int signo)
{
    int saved_errno = errno; /* in case raise() returns here first (ThreadSanitizer defers it) */
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
        continue;
    errno = saved_errno;
    raise(signo);
}

/* The same on an error exit (kit_die_errno calls exit): wait for the children still running.
 * Every child in this chapter ends soon on its own, or is killed before anything can fail
 * (fork_basics.c's waiting child), so this wait ends too. */
static void reap_at_exit(void)
{
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
        continue;
}

void reap_children_before_dying(void)
{
    /* Orphans of our children (a shell's own children) come to us instead of to init. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L) == -1)
        kit_die_errno("prctl PR_SET_CHILD_SUBREAPER");

    struct sigaction action = {.sa_handler = reap_then_die, .sa_flags = SA_RESETHAND | SA_NODEFER};
    if (sigemptyset(&action.sa_mask) == -1)
        kit_die_errno("sigemptyset");
    static const int signals[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (sigaction(signals[i], &action, NULL) == -1)
            kit_die_errno("sigaction %d", signals[i]);
    if (atexit(reap_at_exit) != 0)
        kit_die("atexit failed");
}
