/**
 * @file zombie.c
 * @brief BROKEN on purpose: children exit, nobody waits for them, and they linger as zombies.
 *
 * What to look for: each child exits at once, but the parent "forgets" to call waitpid().
 * The kernel must keep what is left of each child (its PID and exit status) until a parent
 * collects it, so /proc/PID/stat shows the child in state Z, a zombie (`ps` writes
 * `defunct`). A zombie uses no CPU and no memory, but it keeps its PID: a long-running parent
 * that forgets to wait, a server forking per request, fills the process table until fork()
 * fails with EAGAIN. Python's multiprocessing reaps finished children whenever you start a
 * new one or call active_children(); in C nobody does it for you.
 *
 * To see the zombies reliably the program does wait, but with waitid() and WNOWAIT: that
 * returns once the child has exited and leaves it unreaped, exactly as if we had forgotten.
 * The lesson is seeing the Z state: before it exits, this demo reaps its zombies after all, so
 * the program itself leaves nothing behind (also on Ctrl-C: see common/children.c).
 *
 * See also: zombie_fixed.c (reap with waitpid, or from a SIGCHLD handler).
 *
 * Usage: zombie [--children=N] [--hold=N]
 */
#define _GNU_SOURCE /* WNOWAIT */
#include "kit.h"
#include "lib/proc_state.h"

#include <getopt.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MAX_CHILDREN = 100 };

static const char usage[] =
    "Usage: zombie [options]\n"
    "Fork children that exit at once, never wait for them, and see them as zombies (state Z).\n"
    "  -c, --children=N   how many children, 1 to 100 (default 3)\n"
    "  -H, --hold=N       seconds to keep the zombies, to look at them with ps (default 0)\n"
    "  -h, --help         show this help and exit\n";

/* Fork a child that exits at once; wait until it has exited, but leave it unreaped. */
static pid_t fork_and_forget(void)
{
    pid_t child = fork();
    if (child == -1)
        kit_die_errno("fork");
    if (child == 0)
        _exit(0);
    siginfo_t info;
    if (waitid(P_PID, (id_t)child, &info, WEXITED | WNOWAIT) == -1) /* WNOWAIT: do not reap */
        kit_die_errno("waitid %d", (int)child);
    return child;
}

/* Print what /proc says about each child. Returns how many are zombies of ours. */
static int count_zombies(const pid_t *children, int count)
{
    int zombies = 0;
    for (int i = 0; i < count; i++) {
        pid_t parent;
        char state = proc_state(children[i], &parent);
        if (state == 0) {
            printf("child %d: gone from /proc\n", (int)children[i]);
            continue;
        }
        printf("child %d: /proc says state %c%s, parent %d\n", (int)children[i], state,
               state == 'Z' ? " (zombie)" : "", (int)parent);
        zombies += state == 'Z' && parent == getpid();
    }
    return zombies;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"children", required_argument, NULL, 'c'},
        {"hold", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int count = 3;
    double hold_seconds = 0;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "c:H:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'c': count = (int)kit_parse_long("--children", optarg, 1, MAX_CHILDREN); break;
        case 'H': hold_seconds = kit_parse_double("--hold", optarg, 0, 3600); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    kit_own_children();

    static pid_t children[MAX_CHILDREN]; /* static: each child's copy of it is no leak */
    printf("parent: pid %d, forking %d children that exit at once; no waitpid\n", (int)getpid(),
           count);
    fflush(stdout);
    for (int i = 0; i < count; i++)
        children[i] = fork_and_forget();

    int zombies = count_zombies(children, count);
    if (hold_seconds > 0) {
        printf("holding them for %.1f s: try  ps -o pid,ppid,stat,comm --ppid %d\n", hold_seconds,
               (int)getpid());
        fflush(stdout);
        kit_sleep(hold_seconds);
    }

    /* Not part of the mistake: the demo cleans up after itself. */
    for (int i = 0; i < count; i++)
        if (waitpid(children[i], NULL, 0) == -1)
            kit_die_errno("waitpid %d", (int)children[i]);
    printf("cleanup: the demo reaped its %d children before exiting\n", count);

    if (zombies == count) {
        printf("BROKEN: %d children exited and were never waited for: %d zombies (state Z)\n",
               count, zombies);
        return 0;
    }
    printf("FAILED: expected %d zombies, /proc showed %d\n", count, zombies);
    return 1;
}
