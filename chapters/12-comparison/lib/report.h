/**
 * @file report.h
 * @brief The chapter's comparison table, printed, written as CSV, and drawn as a chart.
 *
 * Both programs report the same way: groups of rows (one group per kind of work), each row one
 * approach with its wall time, its CPU time and how much of it ran at once, and a last column
 * that compares it with the group's reference row (the sequential baseline, or the winner) in
 * the kit's notation, `x1.93 faster` / `x1.05 slower` (kit_ratio_text). The ratio is always
 * reference time / row time, so "faster" means faster than the reference.
 */
#ifndef REPORT_H
#define REPORT_H

#include "chart.h"

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

/** CPU seconds used so far by this process (all its threads) and by its children reaped so far
 *  (a process pool's workers, once they are waited for): getrusage SELF + CHILDREN. */
double report_cpu_seconds(void);

/** Print the table: a heading, each group's title and rows, and what "at once" means. */
void report_print(const struct report_group groups[], size_t count, const char *at_once_meaning);

/** Write the table as CSV to @p csv (opened by the caller), then close it. Exits 1 (with the
 *  errno name) if a write fails. Columns: workload, approach, wall_seconds, cpu_seconds,
 *  at_once, speedup (reference time / this time). */
void report_csv(FILE *csv, const char *path, const struct report_group groups[], size_t count);

/** Draw the table's wall times as a bar chart, one panel per group (chart.h). */
void report_chart(struct chart *chart, const char *title, const struct report_group groups[],
                  size_t count);

#endif /* REPORT_H */
