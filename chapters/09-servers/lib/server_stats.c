/**
 * @file server_stats.c
 * @brief The /stats counters of server_stats.h: atomic adds and a compare-and-swap maximum.
 */
#include "server_stats.h"

#include <stdio.h>

/* Raise *max to at least value. Another thread may raise it meanwhile: the compare-and-swap
 * fails then, reloads the newer maximum into seen, and the loop stops once seen >= value. */
static void raise_max(atomic_long *max, long value)
{
    long seen = atomic_load(max);
    while (seen < value && !atomic_compare_exchange_weak(max, &seen, value))
        ;
}

void stats_request_enters(struct server_stats *stats)
{
    long now = atomic_fetch_add(&stats->in_flight, 1) + 1;
    raise_max(&stats->max_in_flight, now);
}

void stats_request_leaves(struct server_stats *stats, bool served)
{
    atomic_fetch_sub(&stats->in_flight, 1);
    if (served)
        atomic_fetch_add(&stats->requests, 1);
}

void stats_connection_opened(struct server_stats *stats)
{
    long now = atomic_fetch_add(&stats->connections, 1) + 1;
    raise_max(&stats->max_connections, now);
}

void stats_connection_closed(struct server_stats *stats)
{
    atomic_fetch_sub(&stats->connections, 1);
}

void stats_reset(struct server_stats *stats)
{
    atomic_store(&stats->requests, 0);
    atomic_store(&stats->max_in_flight, atomic_load(&stats->in_flight));
    atomic_store(&stats->max_connections, atomic_load(&stats->connections));
}

size_t stats_json(struct server_stats *stats, char *buf, size_t size)
{
    int len = snprintf(buf, size,
                       "{\"requests\": %ld, \"in_flight\": %ld, \"max_in_flight\": %ld, "
                       "\"connections\": %ld, \"max_connections\": %ld}\n",
                       atomic_load(&stats->requests), atomic_load(&stats->in_flight),
                       atomic_load(&stats->max_in_flight), atomic_load(&stats->connections),
                       atomic_load(&stats->max_connections));
    if (len < 0)
        return 0;
    return (size_t)len < size ? (size_t)len : size - 1;
}
