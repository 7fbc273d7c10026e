/**
 * @file flaky_ids.c
 * @brief flaky_ids.h: a table of ids and their request counts, under one mutex.
 */
#include "flaky_ids.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* /flaky's memory of one id. */
struct flaky_entry {
    char id[128];
    long seen; /* requests for this id so far */
};

int server_state_init(struct server_state *state)
{
    *state = (struct server_state){0};
    state->flaky = calloc(FLAKY_MAX_IDS, sizeof *state->flaky);
    if (state->flaky == NULL)
        return -1;
    int en = pthread_mutex_init(&state->flaky_lock, NULL);
    if (en != 0) {
        free(state->flaky);
        errno = en;
        return -1;
    }
    return 0;
}

void server_state_destroy(struct server_state *state)
{
    pthread_mutex_destroy(&state->flaky_lock);
    free(state->flaky);
}

long flaky_count_request(struct server_state *state, struct http_text id)
{
    pthread_mutex_lock(&state->flaky_lock);
    struct flaky_entry *entry = NULL;
    for (size_t i = 0; i < state->flaky_count && !entry; i++)
        if (strlen(state->flaky[i].id) == id.len &&
            memcmp(state->flaky[i].id, id.start, id.len) == 0)
            entry = &state->flaky[i];
    if (entry == NULL) {
        if (state->flaky_count < FLAKY_MAX_IDS) {
            entry = &state->flaky[state->flaky_count++];
        } else { /* full: forget the oldest id */
            entry = &state->flaky[state->flaky_next_evicted];
            state->flaky_next_evicted = (state->flaky_next_evicted + 1) % FLAKY_MAX_IDS;
        }
        memcpy(entry->id, id.start, id.len);
        entry->id[id.len] = '\0';
        entry->seen = 0;
    }
    long seen = ++entry->seen;
    pthread_mutex_unlock(&state->flaky_lock);
    return seen;
}

void flaky_forget_all(struct server_state *state)
{
    pthread_mutex_lock(&state->flaky_lock);
    state->flaky_count = 0;
    state->flaky_next_evicted = 0;
    pthread_mutex_unlock(&state->flaky_lock);
}
