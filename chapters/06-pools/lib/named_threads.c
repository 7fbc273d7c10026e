/**
 * @file named_threads.c
 * @brief Counting this process's threads by name: each folder of /proc/self/task, its `comm`.
 */
#include "named_threads.h"

#include "kit.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

int named_threads_count(const char *prefix)
{
    DIR *tasks = opendir("/proc/self/task");
    if (tasks == NULL)
        kit_die_errno("opendir /proc/self/task");
    int count = 0;
    for (struct dirent *entry; (entry = readdir(tasks)) != NULL;) {
        if (entry->d_name[0] == '.')
            continue;
        char path[300], name[32] = ""; /* d_name holds up to 255 characters */
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", entry->d_name);
        FILE *comm = fopen(path, "r");
        if (comm == NULL)
            continue; /* the thread ended between readdir and fopen */
        if (fgets(name, sizeof name, comm) != NULL && strncmp(name, prefix, strlen(prefix)) == 0)
            count++;
        fclose(comm);
    }
    closedir(tasks);
    return count;
}

int named_threads_after_join(const char *prefix)
{
    int left = named_threads_count(prefix);
    for (double start = kit_now(); left > 0 && kit_seconds_since(start) < 1.0;) {
        kit_sleep(0.001);
        left = named_threads_count(prefix);
    }
    return left;
}
