/**
 * @file report.h
 * @brief A comparison table of approaches, printed, written as CSV, and drawn as a chart.
 *
 * Chapter 12's two programs report the same way with it: groups of rows (one group per kind of
 * work), each row one approach with its wall time, its CPU time and how much of it ran at once,
 * and a last column that compares it with the group's reference row (the sequential baseline,
 * or the winner) in the kit's notation, `x1.93 faster` / `x1.05 slower` (kit_ratio_text). The
 * ratio is always reference time / row time, so "faster" means faster than the reference.
 *
 * A program keeps each approach's fastest round (report_keep_fastest()), prints the table, and
 * writes it to the files its --csv and --chart options name (struct report_files), which it
 * opens before the measuring so that a path that cannot be written fails the run at once.
 */
#ifndef REPORT_H
#define REPORT_H

#include "chart.h"

#include <stdbool.h>
#include <stdio.h>

/** One approach, measured. */
struct report_row {
    const char *label;    /**< in the table: "thread pool" */
    const char *csv_name; /**< in the CSV and under the chart's bar: "threads" */
    double wall, cpu;     /**< seconds */
    double at_once;       /**< transfers in flight, or CPUs busy, on average */
};

/** Rows that compare with one another, e.g. every approach to the I/O-bound work. */
struct report_group {
    const char *title;    /**< "I/O-bound: 8 x /delay/0.1" */
    const char *csv_name; /**< "io" */
    const struct report_row *rows;
    size_t count;
    size_t reference;           /**< the row the others are compared with */
    const char *reference_word; /**< what that row says instead of a ratio: "baseline" */
};

/** The table's files besides the screen: the CSV and the chart a program's options asked for. */
struct report_files {
    const char *csv_path;   /**< NULL when no CSV was asked for */
    FILE *csv;              /**< open when csv_path is set */
    const char *chart_path; /**< NULL when no chart was asked for */
    struct chart chart;     /**< open when charting */
    bool charting;          /**< a chart was asked for and gnuplot is on PATH */
};

/** CPU seconds used so far by this process (all its threads) and by its children reaped so far
 *  (a process pool's workers, once they are waited for): getrusage SELF + CHILDREN. */
double report_cpu_seconds(void);

/** The system's load average over the last minute (getloadavg), or -1 when it cannot say. */
double report_load_average(void);

/** Keep @p round's figures (wall, CPU, at once) in @p best when it is the first round measured
 *  (@p best's wall time still 0) or a faster one: each approach's fastest round counts. */
void report_keep_fastest(struct report_row *best, const struct report_row *round);

/** Print the table: a heading, each group's title and rows, and what "at once" means. */
void report_print(const struct report_group groups[], size_t count, const char *at_once_meaning);

/** Write the table as CSV to @p csv (opened by the caller), then close it. Exits 1 (with the
 *  errno name) if a write fails. Columns: workload, approach, wall_seconds, cpu_seconds,
 *  at_once, speedup (reference time / this time). */
void report_csv(FILE *csv, const char *path, const struct report_group groups[], size_t count);

/** Draw the table's wall times as a bar chart, one panel per group (chart.h). */
void report_chart(struct chart *chart, const char *title, const struct report_group groups[],
                  size_t count);

/** Open the files asked for (a NULL path: not asked for), before any measuring. Exits 1, with
 *  the errno name, when a path cannot be opened; a missing gnuplot only leaves charting false. */
void report_files_open(struct report_files *files, const char *csv_path, const char *chart_path);

/** Write the table to the files opened (report_csv(), report_chart() titled "@p program on N
 *  CPU(s)") and close them, printing where each went, or a note when there is no gnuplot. */
void report_files_write(struct report_files *files, const char *program,
                        const struct report_group groups[], size_t count);

#endif /* REPORT_H */
