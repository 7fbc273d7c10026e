/**
 * @file hybrid_report.c
 * @brief hybrid_report.h: four lines of figures and the verdict.
 */
#include "hybrid_report.h"

#include <stdbool.h>
#include <stdio.h>

int hybrid_report(const struct hybrid_figures *figures, const struct ticker *ticker)
{
    double late = ticker->worst_own;
    printf("ticker: fired %ld times; at most %.1f ms late, %.1f ms of it without the time the "
           "loop's thread waited for a CPU\n",
           ticker->ticks, ticker->worst_late * 1000, late * 1000);
    printf("overlap: %zu of %zu lists arrived while workers were computing; the longest "
           "computation took %.1f ms of CPU\n",
           figures->arrived_while_computing, figures->submitted, figures->longest_cpu * 1000);
    printf("check: the same function in this process, one list after another: %zu of %zu results "
           "identical, in %.3f s (a loop computing them itself would have stalled that long)\n",
           figures->identical, figures->computed, figures->check_seconds);
    printf("summary: %zu lists: %zu computed, %zu failed (%zu transfers, %zu not lists of "
           "numbers); wall %.3f s; CPU %.3f s in the workers, %.3f s in the loop's process\n",
           figures->lists, figures->good, figures->lists - figures->good,
           figures->lists - figures->submitted, figures->computed - figures->good, figures->wall,
           figures->workers_cpu, figures->loop_cpu);
    /* A computation shorter than four ticks cannot stall the ticker much. */
    bool judged = figures->longest_cpu >= 4 * ticker->interval;
    if (figures->identical != figures->computed || figures->clean_exits != figures->workers)
        printf("FAILED: %zu of %zu results differ from the sequential computation; %d of %d "
               "workers exited cleanly\n",
               figures->computed - figures->identical, figures->computed, figures->clean_exits,
               figures->workers);
    else if (figures->good < figures->lists)
        printf("FAILED: %zu of %zu lists failed\n", figures->lists - figures->good, figures->lists);
    else if (judged && late >= figures->longest_cpu / 2)
        printf("FAILED: the loop stalled: its ticker fired up to %.1f ms late (computations took "
               "up to %.1f ms)\n",
               late * 1000, figures->longest_cpu * 1000);
    else {
        if (!judged)
            printf("note: no computation took %.0f ms: too short to tell a stalled loop from a "
                   "free one; try --numbers=200000\n",
                   4 * ticker->interval * 1000);
        printf("OK: %zu lists fetched and computed by %d worker process%s, identical to the "
               "sequential computation; the loop's ticker was at most %.1f ms late, computations "
               "took up to %.1f ms\n",
               figures->lists, figures->workers, figures->workers == 1 ? "" : "es", late * 1000,
               figures->longest_cpu * 1000);
        return 0;
    }
    return 1;
}
