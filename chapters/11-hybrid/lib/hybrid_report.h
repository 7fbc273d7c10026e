/**
 * @file hybrid_report.h
 * @brief fetch_and_process's closing lines: the run's figures, then one verdict.
 *
 * The program counts as the loop runs (lists fetched, handed to the pool, computed, how many
 * arrived while a worker was busy, the workers' CPU time), checks every result against its own
 * sequential run of the same function, and hands the lot here. hybrid_report() prints four
 * lines of figures (`ticker:`, `overlap:`, `check:`, `summary:`) and the verdict, the first of:
 * - FAILED when a result differs from the sequential one or a worker did not exit cleanly;
 * - FAILED when a list failed: a transport error, an HTTP error status, not a list of numbers;
 * - FAILED when the loop stalled: its ticker fired late, not counting the time its thread waited
 *   for a CPU (lib/ticker.h), by half the longest computation or more;
 * - OK, with a `note:` first when no computation took four ticks: one that short cannot stall
 *   the ticker by much, so a stalled loop and a free one look alike.
 */
#ifndef HYBRID_REPORT_H
#define HYBRID_REPORT_H

#include "ticker.h"

#include <stddef.h>

/** What one run of fetch_and_process did. */
struct hybrid_figures {
    size_t lists;                   /**< URLs fetched */
    size_t submitted;               /**< bodies handed to the pool: the transfers that succeeded */
    size_t computed;                /**< results back from the workers */
    size_t good;                    /**< of those, lists of numbers */
    size_t identical;               /**< of those computed, equal to the parent's own result */
    size_t arrived_while_computing; /**< bodies that arrived while some worker was busy */
    int workers;                    /**< worker processes */
    int clean_exits;                /**< of those, how many exited with status 0 */
    double longest_cpu;             /**< the longest computation, CPU seconds */
    double workers_cpu;             /**< all computations, CPU seconds */
    double check_seconds;           /**< the parent's sequential check, wall seconds */
    double wall;                    /**< the run, from the first transfer to the last result */
    double loop_cpu;                /**< CPU seconds of the loop's process meanwhile */
};

/** Print the figures of @p figures and of the loop's @p ticker, then the verdict. Returns the
 *  exit status: 0 for OK, 1 for FAILED. */
int hybrid_report(const struct hybrid_figures *figures, const struct ticker *ticker);

#endif /* HYBRID_REPORT_H */
