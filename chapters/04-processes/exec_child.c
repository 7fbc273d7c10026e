/**
 * @file exec_child.c
 * @brief fork() then exec(): the child becomes another program; the parent waits and reports.
 *
 * What to look for: the child prints its PID, then calls execl() to become `/bin/sh`. The
 * shell prints `$$`, its own PID: the same number. exec replaces the program a process runs
 * (code, data, stack) but keeps the process: its PID, its parent, its open files. The parent
 * waits and decodes the exit status. fork + exec + wait is how every shell runs a command,
 * and what Python's subprocess.run() does for you.
 *
 * When exec fails it returns (it only returns on failure): the child prints why and leaves
 * with status 127 (not found) or 126 (found, but not runnable), the codes a shell uses for the
 * same news. Try `--program=no-such-program`, or `--command=no-such-command` to let the shell
 * say it. Whatever the child's status, the parent has decoded it: the program says what it
 * means (`note:`) and exits 0; only a parent that could not fork or wait fails.
 * The child flushes stdout before exec: exec throws away whatever stdio still had buffered.
 *
 * A shell command may start a background job and exit at once (`--command='sleep 3 &'`). The
 * job's parent is gone, so it is handed to the nearest "subreaper": this program asked to be
 * one (kit_own_children), so it adopts the job, says so, and waits for it (Ctrl-C stops it).
 *
 * See also: fork_basics.c (the status word), zombie.c (a child nobody waits for).
 *
 * Usage: exec_child [--command=TEXT | --program=NAME]
 */
#define _GNU_SOURCE /* strerrorname_np */
#include "kit.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
    "Usage: exec_child [options]\n"
    "Fork a child that replaces itself with another program (exec); wait and report its status.\n"
    "  -c, --command=TEXT   shell command the child runs as /bin/sh -c TEXT\n"
    "                       (default: one that prints the shell's PID)\n"
    "  -p, --program=NAME   run program NAME directly (execvp, searched in PATH, no arguments);\n"
    "                       try one that does not exist\n"
    "  -h, --help           show this help and exit\n";

static const char default_command[] = "echo \"sh:     pid $$: I am the same process, now running "
                                      "/bin/sh\"";

enum { EXEC_NOT_FOUND = 127, EXEC_NOT_RUNNABLE = 126 }; /* the shell's codes, for the same news */

/* In the child: become the shell, or the named program. Never returns. */
_Noreturn static void child_exec(const char *command, char *program)
{
    printf("child:  pid %d: calling exec\n", (int)getpid());
    fflush(stdout);              /* exec discards stdio buffers: flush first or this line is lost */
    kit_child_signal_defaults(); /* the new program starts with the usual signal actions */
    if (program != NULL) {
        char *program_argv[] = {program, NULL};
        execvp(program, program_argv);
    } else {
        execl("/bin/sh", "sh", "-c", command, (char *)NULL);
    }
    /* Only a failed exec returns. Say why on stderr (write(2): no stdio in a child). */
    int exec_errno = errno;
    const char *name = strerrorname_np(exec_errno);
    dprintf(STDERR_FILENO, "exec_child: child: exec %s: %s (%s)\n",
            program != NULL ? program : "/bin/sh", strerror(exec_errno), name ? name : "?");
    _exit(exec_errno == ENOENT ? EXEC_NOT_FOUND : EXEC_NOT_RUNNABLE);
}

/* Orphans of the shell (its background jobs) were handed to us, the subreaper: wait for each,
 * saying so; Ctrl-C or SIGTERM stops them (kit_own_children). Returns how many there were. */
static int reap_adopted_orphans(void)
{
    int adopted = 0, status;
    if (waitpid(-1, &status, WNOHANG) == 0) /* 0: children exist, none has ended yet */
        printf("parent: the shell left a background job running; as its subreaper we adopted "
               "it and wait for it (Ctrl-C stops it)\n");
    for (pid_t orphan; (orphan = waitpid(-1, &status, 0)) != -1 || errno == EINTR;) {
        if (orphan == -1)
            continue;
        char how[64];
        printf("parent: reaped process %d, an orphan the shell left behind, which we adopted; "
               "it %s\n",
               (int)orphan, kit_describe_status(status, how, sizeof how));
        adopted++;
    }
    if (errno != ECHILD)
        kit_die_errno("waitpid for adopted orphans");
    return adopted;
}

/* Put how the child ended into how[], as the parent reports it. True if it exited with 0. */
static bool describe_status(int status, char *how, size_t size)
{
    if (WIFSIGNALED(status)) {
        snprintf(how, size, "was killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
        return false;
    }
    int code = WEXITSTATUS(status);
    const char *meaning = code == EXEC_NOT_FOUND ? " (exec's or the shell's: not found)"
                          : code == EXEC_NOT_RUNNABLE
                              ? " (exec's or the shell's: found, not runnable)"
                              : "";
    snprintf(how, size, "exited with status %d%s", code, meaning);
    return code == 0;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"command", required_argument, NULL, 'c'},
        {"program", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *command = default_command;
    char *program = NULL;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "c:p:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'c': command = optarg; break;
        case 'p': program = optarg; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (program != NULL && command != default_command)
        kit_usage_error("--command and --program do not go together");
    kit_own_children();

    const char *what = program != NULL ? program : "/bin/sh";
    printf("parent: pid %d, forking a child that will exec %s\n", (int)getpid(), what);
    fflush(stdout); /* before fork, so the child does not inherit this line in its buffer */
    pid_t child = fork();
    if (child == -1)
        kit_die_errno("fork");
    if (child == 0)
        child_exec(command, program);

    int status;
    while (waitpid(child, &status, 0) == -1) /* Ctrl-C and SIGTERM end this wait: see above */
        if (errno != EINTR)
            kit_die_errno("waitpid %d", (int)child);
    char how[128];
    bool succeeded = describe_status(status, how, sizeof how);
    printf("parent: child %d %s\n", (int)child, how);
    if (program == NULL && reap_adopted_orphans() > 0)
        printf("parent: every orphan adopted from the shell is reaped\n");
    if (succeeded) {
        printf("OK: child %d ran %s and exited with status 0\n", (int)child, what);
        return 0;
    }
    printf("note: child %d (%s) %s: the parent decoded it; %s\n", (int)child, what, how,
           WIFSIGNALED(status) ? "a signal ended the program the child had become"
           : program != NULL && (WEXITSTATUS(status) == EXEC_NOT_FOUND ||
                                 WEXITSTATUS(status) == EXEC_NOT_RUNNABLE)
               ? "exec failed, so the child said why and left with that status"
               : "that is the status the program chose to exit with");
    return 0;
}
