/**
 * @file statistics.c
 * @brief agg_statistics(): the seed's analyze_results(), over the ok sources. Not written yet:
 *        it gives all zeros.
 *
 * Every field is defined in lib/aggregator.h (struct agg_stats). Only ok sources count, the
 * others only as failed; the standard deviation needs the mean first.
 */
#include "methods.h"

void agg_statistics(const struct agg_source sources[], size_t count, struct agg_stats *stats)
{
    (void)sources, (void)count;
    *stats = (struct agg_stats){0}; /* TODO: exercise 06 */
}
