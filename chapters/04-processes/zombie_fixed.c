/**
 * @file zombie_fixed.c
 * @brief FIXED: every child that exits is reaped, with waitpid() or from a SIGCHLD handler.
 *
 * What to look for: the same children as zombie.c, but each is reaped. After that /proc has
 * no entry left for any of them: no state Z, nothing for ps to list. Two ways to reap:
 *  - waitpid() for each child, when the parent knows when to wait (like Python's join());
 *  - `--sigchld`: a SIGCHLD handler that calls waitpid(-1, ..., WNOHANG) in a loop until no
 *    exited child is left. The loop matters: signals do not queue, so one SIGCHLD may stand
 *    for several children. This is the way for a parent that must not block, such as a
 *    server forking a child per request.
 *
 * See also: zombie.c (the broken twin), chapter 06's process pool (children that live long).
 *
 * Usage: zombie_fixed [--children=N] [--child-time=N] [--hold=N] [--sigchld]
 */
#include "kit.h"
#include "lib/proc_state.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MAX_CHILDREN = 100 };

static const char usage[] =
    "Usage: zombie_fixed [options]\n"
    "Fork children and reap every one of them: no zombie is left.\n"
    "  -c, --children=N     how many children, 1 to 100 (default 3)\n"
    "  -t, --child-time=N   seconds each child runs before it exits (default 0)\n"
    "  -H, --hold=N         seconds to stay alive afterwards, to check with ps (default 0)\n"
    "  -s, --sigchld        reap from a SIGCHLD handler instead of calling waitpid for each\n"
    "  -h, --help           show this help and exit\n";

/* Children reaped by the SIGCHLD handler. A lock-free atomic is safe in a signal handler. */
static atomic_int reaped_by_handler;

/* SIGCHLD: reap every child that has exited, without ever blocking. */
static void on_sigchld(int signo)
{
    (void)signo;
    int saved_errno = errno; /* waitpid may change errno under the interrupted code */
    while (waitpid(-1, NULL, WNOHANG) > 0)
        atomic_fetch_add(&reaped_by_handler, 1);
    errno = saved_errno;
}

static pid_t fork_child(double child_seconds)
{
    pid_t child = fork();
    if (child == -1)
        kit_die_errno("fork");
    if (child == 0) {
        kit_sleep(child_seconds);
        _exit(0);
    }
    return child;
}

/* The plain way: wait for each child in turn. */
static void fork_and_wait(pid_t *children, int count, double child_seconds)
{
    for (int i = 0; i < count; i++)
        children[i] = fork_child(child_seconds);
    for (int i = 0; i < count; i++) {
        int status;
        if (waitpid(children[i], &status, 0) == -1)
            kit_die_errno("waitpid %d", (int)children[i]);
        printf("child %d: reaped by waitpid, exit status %d\n", (int)children[i],
               WEXITSTATUS(status));
    }
}

/* The handler way. SIGCHLD stays blocked except inside sigsuspend(), so no child can exit
 * unnoticed between checking the count and going to sleep. */
static void fork_and_reap_in_handler(pid_t *children, int count, double child_seconds)
{
    struct sigaction action = {.sa_handler = on_sigchld, .sa_flags = SA_RESTART};
    sigset_t sigchld_only, unblocked;
    if (sigemptyset(&action.sa_mask) == -1 || sigemptyset(&sigchld_only) == -1 ||
        sigaddset(&sigchld_only, SIGCHLD) == -1)
        kit_die_errno("sigset");
    if (sigaction(SIGCHLD, &action, NULL) == -1)
        kit_die_errno("sigaction SIGCHLD");
    KIT_CHECK_EN(pthread_sigmask(SIG_BLOCK, &sigchld_only, &unblocked));

    for (int i = 0; i < count; i++)
        children[i] = fork_child(child_seconds);
    while (atomic_load(&reaped_by_handler) < count)
        sigsuspend(&unblocked); /* returns after a handler ran (always -1 with EINTR) */
    KIT_CHECK_EN(pthread_sigmask(SIG_SETMASK, &unblocked, NULL));
    printf("the SIGCHLD handler reaped %d children\n", atomic_load(&reaped_by_handler));
}

/* How many of the children are still zombies of ours, according to /proc. */
static int count_zombies(const pid_t *children, int count)
{
    int zombies = 0;
    for (int i = 0; i < count; i++) {
        pid_t parent;
        char state = proc_state(children[i], &parent);
        /* A PID can be reused at once by an unrelated process: only ours count. */
        if (state == 'Z' && parent == getpid()) {
            printf("child %d: still a zombie\n", (int)children[i]);
            zombies++;
        } else {
            printf("child %d: gone from /proc\n", (int)children[i]);
        }
    }
    return zombies;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"children", required_argument, NULL, 'c'}, {"child-time", required_argument, NULL, 't'},
        {"hold", required_argument, NULL, 'H'},     {"sigchld", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    int count = 3;
    double child_seconds = 0, hold_seconds = 0;
    bool use_handler = false;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "c:t:H:sh", options, NULL)) != -1;) {
        switch (opt) {
        case 'c': count = (int)kit_parse_long("--children", optarg, 1, MAX_CHILDREN); break;
        case 't': child_seconds = kit_parse_double("--child-time", optarg, 0, 3600); break;
        case 'H': hold_seconds = kit_parse_double("--hold", optarg, 0, 3600); break;
        case 's': use_handler = true; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    kit_own_children();

    static pid_t children[MAX_CHILDREN]; /* static: each child's copy of it is no leak */
    printf("parent: pid %d, forking %d children; reaping them %s\n", (int)getpid(), count,
           use_handler ? "from a SIGCHLD handler" : "with waitpid");
    fflush(stdout);
    if (use_handler)
        fork_and_reap_in_handler(children, count, child_seconds);
    else
        fork_and_wait(children, count, child_seconds);

    int zombies = count_zombies(children, count);
    if (hold_seconds > 0) {
        printf("holding for %.1f s: ps -o pid,ppid,stat,comm --ppid %d lists nothing\n",
               hold_seconds, (int)getpid());
        fflush(stdout);
        kit_sleep(hold_seconds);
    }
    if (zombies == 0) {
        printf("OK: %d children reaped, no zombie left\n", count);
        return 0;
    }
    printf("FAILED: %d of %d children are still zombies\n", zombies, count);
    return 1;
}
