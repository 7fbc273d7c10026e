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
 * with `_exit(1)`, and the parent sees exit status 1. Try `--program=no-such-program`. A shell
 * asked to run a command that does not exist reports 127 instead: `--command=no-such-command`.
 * The child flushes stdout before exec: exec throws away whatever stdio still had buffered.
 *
 * See also: fork_basics.c (the status word), zombie.c (a child nobody waits for).
 *
 * Usage: exec_child [--command=TEXT | --program=NAME]
 */
#include "kit.h"
#include "lib/reap.h"

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

/* In the child: become the shell, or the named program. Returns only if exec failed. */
static void child_exec(const char *command, char *program)
{
    printf("child:  pid %d: calling exec\n", (int)getpid());
    fflush(stdout); /* exec discards stdio buffers: flush first or this line is lost */
    if (program != NULL) {
        char *program_argv[] = {program, NULL};
        execvp(program, program_argv);
        kit_child_die_errno("execvp %s", program); /* prints why, then _exit(1) */
    }
    execl("/bin/sh", "sh", "-c", command, (char *)NULL);
    kit_child_die_errno("execl /bin/sh");
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
    const char *meaning = code == 127   ? " (the shell's code for: command not found)"
                          : code == 126 ? " (the shell's code for: found, but not executable)"
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
    reap_children_before_dying();

    const char *what = program != NULL ? program : "/bin/sh";
    printf("parent: pid %d, forking a child that will exec %s\n", (int)getpid(), what);
    fflush(stdout); /* before fork, so the child does not inherit this line in its buffer */
    pid_t child = fork();
    if (child == -1)
        kit_die_errno("fork");
    if (child == 0)
        child_exec(command, program);

    int status;
    if (waitpid(child, &status, 0) == -1)
        kit_die_errno("waitpid %d", (int)child);
    char how[128];
    bool succeeded = describe_status(status, how, sizeof how);
    printf("parent: child %d %s\n", (int)child, how);
    if (succeeded) {
        printf("OK: child %d ran %s and exited with status 0\n", (int)child, what);
        return 0;
    }
    printf("FAILED: child %d (%s) %s\n", (int)child, what, how);
    return 1;
}
