/**
 * @file statistics.c
 * @brief agg_statistics(): the seed's analyze_results(), over the ok sources.
 *
 * Two passes: sums, counts and the extremes first; then the standard deviation, which needs the
 * mean. Failed sources are only counted: their times say nothing about the data.
 */
#include "methods.h"

#include <math.h>

void agg_statistics(const struct agg_source sources[], size_t count, struct agg_stats *stats)
{
    *stats = (struct agg_stats){.largest = count, .slowest = count};
    for (size_t i = 0; i < count; i++) {
        const struct agg_source *s = &sources[i];
        if (!s->ok) {
            stats->failed++;
            continue;
        }
        stats->ok++;
        stats->total_bytes += s->digest.chars;
        stats->total_words += s->digest.words;
        stats->total_fetch_seconds += s->fetch_seconds;
        stats->total_process_seconds += s->process_seconds;
        if (stats->largest == count || s->digest.chars > sources[stats->largest].digest.chars)
            stats->largest = i;
        if (stats->slowest == count || s->fetch_seconds > sources[stats->slowest].fetch_seconds)
            stats->slowest = i;
    }
    if (stats->ok == 0)
        return;
    double ok = (double)stats->ok;
    stats->mean_bytes = (double)stats->total_bytes / ok;
    stats->mean_fetch_seconds = stats->total_fetch_seconds / ok;
    stats->mean_seconds_per_source =
        (stats->total_fetch_seconds + stats->total_process_seconds) / ok;
    double squares = 0;
    for (size_t i = 0; i < count; i++)
        if (sources[i].ok) {
            double distance = sources[i].fetch_seconds - stats->mean_fetch_seconds;
            squares += distance * distance;
        }
    stats->stddev_fetch_seconds = sqrt(squares / ok); /* population: divide by ok, not ok - 1 */
}
