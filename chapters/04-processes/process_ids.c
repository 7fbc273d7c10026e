/**
 * @file process_ids.c
 * @brief Start N child processes; each prints its own PID and its parent's; wait for them all.
 *
 * What to look for: every child prints a different PID (getpid) and the same parent PID
 * (getppid): the parent's own. The lines arrive in whatever order the scheduler runs the
 * children, not the order they were forked. The parent then waits for its children, like
 * Python's `for p in processes: p.join()`, but in the order they end (waitpid(-1)): a child
 * that dies early (try `kill -KILL` on one) is seen at once; the parent says which one it was,
 * stops and reaps the others, and exits 1. Each child checks that its parent is the process
 * that forked it and says so with its exit status, which the parent collects.
 *
 * See also: fork_basics.c (one child, the status word), separate_memory.c (what a child shares).
 *
 * Usage: process_ids [--children=N] [--sleep=N]
 */
#include "kit.h"

#include <getopt.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MAX_CHILDREN = 1000 };

static const char usage[] =
    "Usage: process_ids [options]\n"
    "Fork N children that print their PID and their parent's PID; wait for all of them.\n"
    "  -c, --children=N   how many children, 1 to 1000 (default 4)\n"
    "  -s, --sleep=N      seconds each child sleeps before it exits (default 0.05)\n"
    "  -h, --help         show this help and exit\n";

/* The child's whole life. Exit status 0 if its parent is the process that forked it. */
static void child_main(int index, pid_t forked_by, double sleep_seconds)
{
    pid_t parent = getppid();
    printf("child %d: pid %d, parent pid %d\n", index, (int)getpid(), (int)parent);
    fflush(stdout); /* one write per line, then _exit, which does not flush */
    kit_sleep(sleep_seconds);
    _exit(parent == forked_by ? 0 : 1);
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"children", required_argument, NULL, 'c'},
        {"sleep", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int children = 4;
    double sleep_seconds = 0.05;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "c:s:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'c': children = (int)kit_parse_long("--children", optarg, 1, MAX_CHILDREN); break;
        case 's': sleep_seconds = kit_parse_double("--sleep", optarg, 0, 3600); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    kit_own_children();

    pid_t me = getpid();
    printf("parent: pid %d, forking %d children\n", (int)me, children);
    fflush(stdout); /* flush before fork, or every child inherits (and prints) this line */

    static pid_t pids[MAX_CHILDREN]; /* static: each child's copy of it is no leak */
    for (int i = 0; i < children; i++) {
        pids[i] = fork();
        if (pids[i] == -1)
            kit_die_errno("fork child %d", i);
        if (pids[i] == 0)
            child_main(i, me, sleep_seconds);
    }

    /* Like join(), in the order the children end. Count those that saw the right parent. */
    int right_parent = 0;
    for (int i = 0; i < children; i++) {
        int status;
        pid_t ended = waitpid(-1, &status, 0);
        if (ended == -1)
            kit_die_errno("waitpid");
        if (WIFSIGNALED(status)) { /* nobody here sends signals: somebody killed it */
            char how[64];
            printf("child %d %s: stopping the other children\n", (int)ended,
                   kit_describe_status(status, how, sizeof how));
            printf("FAILED: a child was killed; %d others stopped and reaped\n",
                   kit_stop_children());
            return 1;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            right_parent++;
    }

    /* Distinct PIDs: compare every pair (N is small). */
    int repeats = 0;
    for (int i = 0; i < children; i++)
        for (int j = i + 1; j < children; j++)
            repeats += pids[i] == pids[j];

    printf("parent: all %d children waited for\n", children);
    if (right_parent == children && repeats == 0) {
        printf("OK: %d children, %d distinct PIDs, each saw parent %d\n", children, children,
               (int)me);
        return 0;
    }
    printf("FAILED: %d of %d children saw parent %d, %d repeated PIDs\n", right_parent, children,
           (int)me, repeats);
    return 1;
}
