/**
 * @file cache.c
 * @brief The cache (bonus): results kept by url and rounds. Not written yet: agg_cache_new()
 *        returns NULL with ENOSYS.
 *
 * aggregate() (aggregate.c) uses it in the calling thread only, so it needs no lock. Copy the
 * url you keep (strdup): the caller's string may go away. A list searched from the start is
 * fine for the tens of sources an aggregator has.
 */
#include "methods.h"

#include <errno.h>
#include <stddef.h>

struct agg_cache *agg_cache_new(void)
{
    errno = ENOSYS; /* TODO: bonus, cache */
    return NULL;
}

void agg_cache_free(struct agg_cache *cache)
{
    (void)cache;
}

bool agg_cache_lookup(struct agg_cache *cache, uint64_t rounds, struct agg_source *source)
{
    (void)cache, (void)rounds, (void)source;
    return false;
}

int agg_cache_store(struct agg_cache *cache, uint64_t rounds, const struct agg_source *source)
{
    (void)cache, (void)rounds, (void)source;
    return 0;
}
