/**
 * @file report.c
 * @brief report.h: the comparison table as text, as CSV and as a chart.
 */
#define _GNU_SOURCE /* getloadavg */
#include "report.h"

#include "kit.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>

enum { MAX_BARS = 64 };

double report_cpu_seconds(void)
{
    struct rusage self, children;
    if (getrusage(RUSAGE_SELF, &self) != 0 || getrusage(RUSAGE_CHILDREN, &children) != 0)
        kit_die_errno("getrusage");
    return (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec + children.ru_utime.tv_sec +
                    children.ru_stime.tv_sec) +
           (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec + children.ru_utime.tv_usec +
                    children.ru_stime.tv_usec) /
               1e6;
}

void report_keep_fastest(struct report_row *best, const struct report_row *round)
{
    if (best->wall == 0 || round->wall < best->wall) {
        best->wall = round->wall;
        best->cpu = round->cpu;
        best->at_once = round->at_once;
    }
}

double report_load_average(void)
{
    double load;
    return getloadavg(&load, 1) == 1 ? load : -1;
}

/* The last column of a row: the reference row's word, or reference time / this time. */
static const char *compared(const struct report_group *group, size_t row, char text[32])
{
    if (row == group->reference)
        return group->reference_word;
    return kit_ratio_text(group->rows[group->reference].wall / group->rows[row].wall, text);
}

void report_print(const struct report_group groups[], size_t count, const char *at_once_meaning)
{
    char ratio[32];
    printf("\n%-34s %10s %10s %8s   %s\n", "approach", "wall", "CPU", "at once", "compared");
    for (size_t g = 0; g < count; g++) {
        printf("%s\n", groups[g].title);
        for (size_t r = 0; r < groups[g].count; r++) {
            const struct report_row *row = &groups[g].rows[r];
            printf("  %-32s %8.4f s %8.4f s %8.2f   %s\n", row->label, row->wall, row->cpu,
                   row->at_once, compared(&groups[g], r, ratio));
        }
    }
    printf("(at once: %s)\n\n", at_once_meaning);
}

void report_csv(FILE *csv, const char *path, const struct report_group groups[], size_t count)
{
    fprintf(csv, "workload,approach,wall_seconds,cpu_seconds,at_once,speedup\n");
    for (size_t g = 0; g < count; g++)
        for (size_t r = 0; r < groups[g].count; r++) {
            const struct report_row *row = &groups[g].rows[r];
            fprintf(csv, "%s,%s,%.6f,%.6f,%.3f,%.3f\n", groups[g].csv_name, row->csv_name,
                    row->wall, row->cpu, row->at_once,
                    groups[g].rows[groups[g].reference].wall / row->wall);
        }
    int failed = ferror(csv) ? errno : 0;
    if (fclose(csv) != 0 && failed == 0)
        failed = errno;
    if (failed != 0) {
        errno = failed;
        kit_die_errno("write %s", path);
    }
}

void report_chart(struct chart *chart, const char *title, const struct report_group groups[],
                  size_t count)
{
    struct chart_bar bars[MAX_BARS];
    struct chart_panel panels[MAX_BARS];
    char notes[MAX_BARS][32];
    size_t used = 0;
    for (size_t g = 0; g < count && g < MAX_BARS; g++) {
        panels[g] = (struct chart_panel){groups[g].title, bars + used, 0};
        for (size_t r = 0; r < groups[g].count && used < MAX_BARS; r++, used++) {
            bars[used] = (struct chart_bar){groups[g].rows[r].csv_name, groups[g].rows[r].wall,
                                            compared(&groups[g], r, notes[used])};
            panels[g].count++;
        }
    }
    chart_draw(chart, title, panels, count < MAX_BARS ? count : MAX_BARS);
}

void report_files_open(struct report_files *files, const char *csv_path, const char *chart_path)
{
    *files = (struct report_files){.csv_path = csv_path, .chart_path = chart_path};
    if (csv_path != NULL && (files->csv = fopen(csv_path, "w")) == NULL)
        kit_die_errno("open %s for the CSV", csv_path);
    files->charting = chart_path != NULL && chart_open(&files->chart, chart_path);
}

void report_files_write(struct report_files *files, const char *program,
                        const struct report_group groups[], size_t count)
{
    if (files->csv != NULL) {
        report_csv(files->csv, files->csv_path, groups, count);
        files->csv = NULL; /* report_csv closed it */
        printf("CSV written to %s\n", files->csv_path);
    }
    if (files->charting) {
        char title[64];
        snprintf(title, sizeof title, "%s on %d CPU(s)", program, kit_cpu_count());
        report_chart(&files->chart, title, groups, count);
        files->charting = false; /* chart_draw closed it */
        printf("chart written to %s\n", files->chart_path);
    } else if (files->chart_path != NULL) {
        printf("note: no gnuplot on PATH (Debian: apt-get install gnuplot-nox): no chart drawn\n");
    }
}
