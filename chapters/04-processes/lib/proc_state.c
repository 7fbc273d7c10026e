/**
 * @file proc_state.c
 * @brief The state letter and parent PID of a process, read from /proc/PID/stat.
 */
#include "proc_state.h"

#include "kit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

char proc_state(pid_t pid, pid_t *parent)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        if (errno == ENOENT || errno == ESRCH)
            return 0; /* no such process: reaped, or never was */
        kit_die_errno("open %s", path);
    }
    char line[512];
    bool got_line = fgets(line, sizeof line, file) != NULL;
    if (fclose(file) != 0)
        kit_die_errno("close %s", path);
    if (!got_line)
        return 0; /* the process went away between open and read */

    /* "PID (COMMAND) STATE PPID ...": the command may hold spaces or ')', so start after the
     * last ')'. */
    const char *after_command = strrchr(line, ')');
    char state;
    int parent_pid;
    if (after_command == NULL || sscanf(after_command + 1, " %c %d", &state, &parent_pid) != 2)
        kit_die("%s: unexpected format: %s", path, line);
    *parent = (pid_t)parent_pid;
    return state;
}
