/**
 * @file proc_figures.c
 * @brief proc_figures.h: time, memory and run-queue figures, read from /proc's text files.
 */
#include "proc_figures.h"

#include "kit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

double proc_number(const char *path, const char *key)
{
    FILE *file = fopen(path, "r");
    double value = -1;
    char line[256];
    while (file != NULL && fgets(line, sizeof line, file) != NULL) {
        if (strncmp(line, key, strlen(key)) == 0) {
            value = strtod(line + strlen(key), NULL);
            break;
        }
    }
    if (file != NULL)
        fclose(file);
    return value;
}

struct memory_use memory_use_now(void)
{
    double page = (double)sysconf(_SC_PAGESIZE);
    struct memory_use now;
    FILE *statm = fopen("/proc/self/statm", "r"); /* sizes in pages: virtual, then resident */
    if (statm == NULL)
        kit_die_errno("open /proc/self/statm");
    if (fscanf(statm, "%lf %lf", &now.virt, &now.rss) != 2)
        kit_die("/proc/self/statm: unexpected contents");
    fclose(statm);
    now.virt *= page;
    now.rss *= page;
    double kernel_kb = proc_number("/proc/meminfo", "KernelStack:");
    now.kernel_stacks = kernel_kb < 0 ? -1 : kernel_kb * 1024;
    return now;
}

struct memory_use memory_use_since(struct memory_use before)
{
    struct memory_use now = memory_use_now();
    return (struct memory_use){
        .rss = now.rss - before.rss,
        .virt = now.virt - before.virt,
        .kernel_stacks = before.kernel_stacks < 0 || now.kernel_stacks < 0
                             ? -1
                             : now.kernel_stacks - before.kernel_stacks,
    };
}

struct cost cost_start(void)
{
    struct memory_use memory = memory_use_now();
    return (struct cost){.seconds = kit_now(), .memory = memory};
}

struct cost cost_since(struct cost start)
{
    double seconds = kit_seconds_since(start.seconds);
    return (struct cost){.seconds = seconds, .memory = memory_use_since(start.memory)};
}

double cpu_wait_seconds(void)
{
    FILE *schedstat = fopen("/proc/thread-self/schedstat", "r");
    unsigned long long on_cpu_ns, waiting_ns = 0;
    if (schedstat == NULL)
        return 0;
    if (fscanf(schedstat, "%llu %llu", &on_cpu_ns, &waiting_ns) != 2)
        waiting_ns = 0;
    fclose(schedstat);
    return (double)waiting_ns / 1e9;
}

const char *bytes_text(double bytes, char text[16])
{
    static const char *const units[] = {"B", "KB", "MB", "GB"};
    int unit = 0;
    for (; bytes >= 1024 && unit < 3; unit++)
        bytes /= 1024;
    snprintf(text, 16, "%.*f %s", unit > 0 ? 1 : 0, bytes, units[unit]);
    return text;
}

void cost_print(struct cost cost, long count, const char *each)
{
    char rss[16], rss_each[16], virt[16];
    printf("   start-up: %.1f ms (%.2f us per %s)\n", cost.seconds * 1000,
           cost.seconds * 1e6 / (double)count, each);
    printf("   RSS: +%s (%s per %s); virtual: +%s\n", bytes_text(cost.memory.rss, rss),
           bytes_text(cost.memory.rss / (double)count, rss_each), each,
           bytes_text(cost.memory.virt, virt));
}
