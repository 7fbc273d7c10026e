/**
 * @file fork_basics.c
 * @brief fork() a child, let it exit with a status, and decode that status with waitpid().
 *
 * What to look for: fork() returns twice, once in each process. The child (fork returned 0)
 * prints its line and leaves with `_exit(3)`; the parent (fork returned the child's PID)
 * blocks in waitpid() and decodes the status word: WIFEXITED and WEXITSTATUS say "exited
 * normally, with 3". A second child never exits on its own: the parent kills it with SIGTERM,
 * and this time WIFSIGNALED and WTERMSIG say "killed by signal 15". This is what Python's
 * Process.start(), join() and exitcode (negative for a signal) do for you.
 *
 * Why `_exit` and not `exit` or `return` in the child: the child is a copy of the parent,
 * stdio buffers and atexit handlers included. exit() would run those a second time. So the
 * parent flushes stdout before fork(), and the child flushes its own line, then calls _exit.
 *
 * See also: process_ids.c (several children), exec_child.c (a child that runs another program).
 *
 * Usage: fork_basics [--exit-status=N] [--signal-after=N]
 */
#include "kit.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
    "Usage: fork_basics [options]\n"
    "Fork a child that exits with a status and one that is killed; decode both with waitpid.\n"
    "  -e, --exit-status=N    status the first child exits with, 0 to 255 (default 3)\n"
    "  -s, --signal-after=N   seconds the second child runs before SIGTERM (default 0.05)\n"
    "  -h, --help             show this help and exit\n";

/* Wait for one child and describe how it ended. Returns the raw status word. */
static int wait_and_describe(pid_t child)
{
    int status;
    if (waitpid(child, &status, 0) == -1)
        kit_die_errno("waitpid %d", (int)child);
    if (WIFEXITED(status))
        printf("parent: child %d exited normally with status %d   (WIFEXITED, WEXITSTATUS)\n",
               (int)child, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("parent: child %d was killed by signal %d (%s)   (WIFSIGNALED, WTERMSIG)\n",
               (int)child, WTERMSIG(status), strsignal(WTERMSIG(status)));
    return status;
}

/* Child one: say who we are, then leave with the chosen status. */
static pid_t fork_exiting_child(int exit_status)
{
    fflush(stdout); /* or the child's copy of the buffer would print it a second time */
    pid_t child = fork();
    if (child == -1)
        kit_die_errno("fork");
    if (child == 0) {
        printf("child:  pid %d, parent %d, exiting with status %d\n", (int)getpid(), (int)getppid(),
               exit_status);
        fflush(stdout); /* _exit does not flush stdio */
        _exit(exit_status);
    }
    return child;
}

/* Child two: wait for a signal that never comes from anyone but the parent. */
static pid_t fork_waiting_child(void)
{
    fflush(stdout);
    pid_t child = fork();
    if (child == -1)
        kit_die_errno("fork");
    if (child == 0) {
        for (;;)
            pause(); /* only a signal ends this child */
    }
    return child;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"exit-status", required_argument, NULL, 'e'},
        {"signal-after", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int exit_status = 3;
    double signal_after = 0.05;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "e:s:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'e': exit_status = (int)kit_parse_long("--exit-status", optarg, 0, 255); break;
        case 's': signal_after = kit_parse_double("--signal-after", optarg, 0, 3600); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    kit_own_children();

    printf("parent: pid %d, forking a child that exits with status %d\n", (int)getpid(),
           exit_status);
    int first = wait_and_describe(fork_exiting_child(exit_status));

    pid_t waiter = fork_waiting_child();
    printf("parent: forked child %d, which waits in pause(); SIGTERM in %.2f s\n", (int)waiter,
           signal_after);
    kit_sleep(signal_after);
    if (kill(waiter, SIGTERM) == -1) /* safe: not yet reaped, so the PID is still our child's */
        kit_die_errno("kill %d", (int)waiter);
    int second = wait_and_describe(waiter);

    if (WIFEXITED(first) && WEXITSTATUS(first) == exit_status && WIFSIGNALED(second) &&
        WTERMSIG(second) == SIGTERM) {
        printf("OK: both children reaped: one exited with status %d, one killed by signal %d\n",
               exit_status, SIGTERM);
        return 0;
    }
    printf("FAILED: the status words did not decode as expected\n");
    return 1;
}
