/**
 * @file tool_run.c
 * @brief The runner of chapter 13's sanitizers.c: fork, exec and wait, a few runs at a time.
 *
 * Each run's output goes to a temporary file rather than a pipe: the driver reads it only
 * after the run has ended, so nothing has to drain a pipe meanwhile, however much a tool
 * prints.
 */
#include "tool_run.h"

#include "kit.h"

#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void tool_run_command(struct tool_run *run, const char *const tool[], const char *program,
                      const char *const args[])
{
    size_t tools = 0, arguments = 0;
    while (tool[tools] != NULL)
        tools++;
    while (args[arguments] != NULL)
        arguments++;
    if (tools + 1 + arguments >= sizeof run->argv / sizeof run->argv[0]) /* and the NULL */
        kit_die("the command of %s has too many words for struct tool_run", program);
    memcpy(run->argv, tool, tools * sizeof *tool);
    run->argv[tools] = program;
    memcpy(run->argv + tools + 1, args, (arguments + 1) * sizeof *args); /* the NULL too */
}

/* Start @p run, its stdout and stderr going to a fresh unlinked temporary file. */
static void start(struct tool_run *run, unsigned limit)
{
    if ((run->output = tmpfile()) == NULL)
        kit_die_errno("tmpfile");
    if ((run->pid = fork()) == -1)
        kit_die_errno("fork");
    if (run->pid == 0) {
        int fd = fileno(run->output);
        if (dup2(fd, STDOUT_FILENO) == -1 || dup2(fd, STDERR_FILENO) == -1)
            kit_child_die_errno("dup2");
        kit_child_signal_defaults();
        alarm(limit); /* a run that hangs dies of SIGALRM */
        execvp(run->argv[0], (char *const *)run->argv);
        kit_child_die_errno("exec %s", run->argv[0]);
    }
}

void tool_run_all(struct tool_run runs[], size_t count, int parallel, unsigned limit)
{
    size_t next = 0;
    for (int running = 0; next < count || running > 0;) {
        if (next < count && running < parallel) { /* start the next run */
            if (runs[next].argv[0] != NULL) {
                start(&runs[next], limit);
                running++;
            }
            next++;
            continue;
        }
        int status; /* or wait for one to end */
        pid_t pid = waitpid(-1, &status, 0);
        if (pid == -1 && errno == EINTR)
            continue;
        if (pid == -1)
            kit_die_errno("waitpid");
        for (size_t i = 0; i < count; i++) {
            if (runs[i].pid == pid) { /* (an orphan a tool left us is no run of ours) */
                runs[i].status = status;
                rewind(runs[i].output);
                running--;
            }
        }
    }
}

bool tool_run_line(struct tool_run *run, char line[TOOL_LINE], const char **text)
{
    if (fgets(line, TOOL_LINE, run->output) == NULL) {
        if (ferror(run->output) || fclose(run->output) != 0)
            kit_die_errno("read the output of %s", run->argv[0]);
        return false;
    }
    line[strcspn(line, "\n")] = '\0';
    if (strstr(line, ": exec ") != NULL) /* start()'s message: "DRIVER: exec NAME: reason" */
        run->exec_failed = true;
    char *registers = strstr(line, " at pc "); /* ASan: "... on address 0x... at pc 0x... bp" */
    if (registers != NULL)
        *registers = '\0';
    const char *end_of_pid = strncmp(line, "==", 2) == 0 ? strstr(line + 2, "==") : NULL;
    *text = end_of_pid != NULL ? end_of_pid + 2 + strspn(end_of_pid + 2, " ") : line;
    return true;
}

const char *tool_run_ending(const struct tool_run *run, char *text, size_t size)
{
    if (run->exec_failed) /* a path is a build of the kit's; a bare name, a tool on the PATH */
        snprintf(text, size, strchr(run->argv[0], '/') != NULL ? "not built" : "not installed");
    else if (WIFSIGNALED(run->status))
        snprintf(text, size, "killed (signal %d)", WTERMSIG(run->status));
    else
        snprintf(text, size, WEXITSTATUS(run->status) ? "exit %d" : "-", WEXITSTATUS(run->status));
    return text;
}

void tool_build_path(char path[PATH_MAX], const char *suffix, const char *program)
{
    char self[PATH_MAX];
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    if (length == -1)
        kit_die_errno("readlink /proc/self/exe");
    self[length] = '\0';
    /* self is PREFIX/VARIANT/chapters/NN-x/PROGRAM: find the slash after VARIANT. */
    char *lesson = self + length;
    for (int up = 0; up < 3; up++)
        while (lesson > self && *--lesson != '/')
            continue;
    char *variant = lesson;
    while (variant > self && variant[-1] != '/')
        variant--;
    if (variant == self)
        kit_die("%s is not in a build folder PREFIX/VARIANT/chapters/NN-x", self);
    *lesson++ = '\0';             /* self: PREFIX/VARIANT; lesson: chapters/NN-x/PROGRAM */
    *strrchr(lesson, '/') = '\0'; /* lesson: chapters/NN-x */
    char *sanitizer = strstr(variant, "-address"); /* gcc-address-undefined: gcc */
    if (sanitizer != NULL || (sanitizer = strstr(variant, "-thread")) != NULL)
        *sanitizer = '\0';
    if (snprintf(path, PATH_MAX, "%s%s/%s/%s", self, suffix, lesson, program) >= PATH_MAX)
        kit_die("the path of %s in the %s build is too long", program, suffix);
}
