/**
 * @file cache.c
 * @brief The cache (bonus): a list of results keyed by url and rounds.
 *
 * Used only by aggregate(), in the calling thread, so it has no lock. A linear search is fine
 * for the tens of sources an aggregator has; a hash table would be the next step. The url is
 * copied: the caller's string may go away.
 */
#define _GNU_SOURCE /* strdup */
#include "methods.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    char *url;
    uint64_t rounds;
    struct agg_source result;
    struct entry *next;
};

struct agg_cache {
    struct entry *first;
};

struct agg_cache *agg_cache_new(void)
{
    return calloc(1, sizeof(struct agg_cache)); /* NULL and ENOMEM when it fails */
}

void agg_cache_free(struct agg_cache *cache)
{
    if (cache == NULL)
        return;
    for (struct entry *e = cache->first, *next; e != NULL; e = next) {
        next = e->next;
        free(e->url);
        free(e);
    }
    free(cache);
}

static struct entry *find(struct agg_cache *cache, const char *url, uint64_t rounds)
{
    for (struct entry *e = cache->first; e != NULL; e = e->next)
        if (e->rounds == rounds && strcmp(e->url, url) == 0)
            return e;
    return NULL;
}

bool agg_cache_lookup(struct agg_cache *cache, uint64_t rounds, struct agg_source *source)
{
    struct entry *e = find(cache, source->url, rounds);
    if (e == NULL)
        return false;
    *source = (struct agg_source){.url = source->url,
                                  .ok = e->result.ok,
                                  .status = e->result.status,
                                  .digest = e->result.digest,
                                  .processed_by = e->result.processed_by,
                                  .from_cache = true};
    return true;
}

int agg_cache_store(struct agg_cache *cache, uint64_t rounds, const struct agg_source *source)
{
    struct entry *e = find(cache, source->url, rounds);
    if (e != NULL) { /* the same url twice in one call: keep the first */
        return 0;
    }
    e = malloc(sizeof *e);
    char *url = strdup(source->url);
    if (e == NULL || url == NULL) {
        free(e);
        free(url);
        errno = ENOMEM;
        return -1;
    }
    *e = (struct entry){.url = url, .rounds = rounds, .result = *source, .next = cache->first};
    cache->first = e;
    return 0;
}
