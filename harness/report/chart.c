/**
 * @file chart.c
 * @brief chart.h: find gnuplot, open the PNG file, spawn gnuplot, feed it a script, wait.
 */
#define _GNU_SOURCE /* pipe2, environ */
#include "chart.h"

#include "kit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { GNUPLOT_SECONDS = 30 }; /* a chart of a few bars takes well under a second */

/* The first executable "gnuplot" in the folders of PATH, into path. False if there is none. */
static bool find_on_path(const char *program, char path[PATH_MAX])
{
    const char *folders = getenv("PATH");
    while (folders != NULL && *folders != '\0') {
        size_t length = strcspn(folders, ":");
        int written = snprintf(path, PATH_MAX, "%.*s/%s", (int)length, folders, program);
        if (length > 0 && written > 0 && written < PATH_MAX && access(path, X_OK) == 0)
            return true;
        folders += length + (folders[length] == ':');
    }
    return false;
}

bool chart_open(struct chart *chart, const char *path)
{
    if (!find_on_path("gnuplot", chart->gnuplot))
        return false;
    chart->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (chart->fd == -1)
        kit_die_errno("open %s for the chart", path);
    return true;
}

/* The script: a PNG on standard output, one panel of labelled bars per group. Every text in it
 * is the program's own (labels, titles), never input, so it is quoted as it is. */
static void write_script(FILE *script, const char *title, const struct chart_panel panels[],
                         size_t count)
{
    fprintf(script, "set terminal pngcairo noenhanced size %zu,480 font 'sans,10'\nset output\n",
            480 * count + 60);
    for (size_t p = 0; p < count; p++) {
        fprintf(script, "$panel%zu << EOD\n", p);
        for (size_t b = 0; b < panels[p].count; b++)
            fprintf(script, "\"%s\" %.6f \"%s\"\n", panels[p].bars[b].label,
                    panels[p].bars[b].seconds, panels[p].bars[b].note);
        fprintf(script, "EOD\n");
    }
    fprintf(script,
            "set multiplot layout 1,%zu title \"%s\"\n"
            "set style fill solid 0.7 border -1\nset boxwidth 0.6\n"
            "set ylabel 'wall time (s), lower is better'\nset yrange [0:*]\n"
            "set offsets 0.5, 0.5, graph 0.12, 0\nset grid ytics\n",
            count, title);
    for (size_t p = 0; p < count; p++)
        fprintf(script,
                "set title \"%s\"\nplot $panel%zu using 0:2:xtic(1) with boxes "
                "lc rgb '#4477aa' notitle, '' using 0:2:3 with labels offset 0,1 notitle\n",
                panels[p].title, p);
    fprintf(script, "unset multiplot\n");
}

/* Wait for gnuplot at most GNUPLOT_SECONDS; its wait status. Never waits without bound. */
static int wait_bounded(pid_t pid)
{
    int status;
    for (double start = kit_now(); kit_seconds_since(start) < GNUPLOT_SECONDS; kit_sleep(0.01)) {
        pid_t ended = waitpid(pid, &status, WNOHANG);
        if (ended == pid)
            return status;
        if (ended == -1 && errno != EINTR)
            kit_die_errno("waitpid gnuplot (pid %d)", (int)pid);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) == -1)
        if (errno != EINTR)
            kit_die_errno("waitpid gnuplot (pid %d)", (int)pid);
    kit_die("gnuplot took over %d s: killed, no chart", GNUPLOT_SECONDS);
}

void chart_draw(struct chart *chart, const char *title, const struct chart_panel panels[],
                size_t count)
{
    int script_pipe[2];
    if (pipe2(script_pipe, O_CLOEXEC) == -1) /* CLOEXEC: gnuplot must not hold our end */
        kit_die_errno("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    sigset_t defaults;
    KIT_CHECK_EN(posix_spawn_file_actions_init(&actions));
    KIT_CHECK_EN(posix_spawn_file_actions_adddup2(&actions, script_pipe[0], STDIN_FILENO));
    KIT_CHECK_EN(posix_spawn_file_actions_adddup2(&actions, chart->fd, STDOUT_FILENO));
    KIT_CHECK_EN(posix_spawnattr_init(&attributes));
    /* We ignore SIGPIPE (kit_cli_init), and an ignored signal stays ignored across exec. */
    if (sigemptyset(&defaults) == -1 || sigaddset(&defaults, SIGPIPE) == -1)
        kit_die_errno("sigset");
    KIT_CHECK_EN(posix_spawnattr_setsigdefault(&attributes, &defaults));
    KIT_CHECK_EN(posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF));
    pid_t pid;
    char *const argv[] = {"gnuplot", NULL};
    int en = posix_spawn(&pid, chart->gnuplot, &actions, &attributes, argv, environ);
    if (en != 0)
        kit_die_en(en, "posix_spawn %s", chart->gnuplot);
    KIT_CHECK_EN(posix_spawn_file_actions_destroy(&actions));
    KIT_CHECK_EN(posix_spawnattr_destroy(&attributes));
    if (close(script_pipe[0]) == -1)
        kit_die_errno("close");

    FILE *script = fdopen(script_pipe[1], "w");
    if (script == NULL)
        kit_die_errno("fdopen");
    write_script(script, title, panels, count);
    int write_errno = ferror(script) ? errno : 0; /* EPIPE: gnuplot died early (why: above) */
    if (fclose(script) != 0 && write_errno == 0)
        write_errno = errno;
    int status = wait_bounded(pid);
    char how[64];
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        kit_die("gnuplot %s: no chart", kit_describe_status(status, how, sizeof how));
    if (write_errno != 0) {
        errno = write_errno;
        kit_die_errno("write the script to gnuplot");
    }
    struct stat file;
    if (fstat(chart->fd, &file) == -1)
        kit_die_errno("fstat the chart");
    if (file.st_size == 0)
        kit_die("gnuplot exited 0 but wrote no chart");
    if (close(chart->fd) == -1)
        kit_die_errno("close the chart");
}
