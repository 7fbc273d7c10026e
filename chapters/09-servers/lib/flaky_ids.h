/**
 * @file flaky_ids.h
 * @brief /flaky's memory: how many requests each id has made, shared by every thread.
 *
 * `/flaky/K?id=X` fails K times for each id, then succeeds, so the server must remember ids
 * between requests (and between connections). The memory is a fixed table of FLAKY_MAX_IDS
 * entries in struct server_state (endpoints.h), searched one by one (O(ids), fine for a test
 * fixture) and guarded by state->flaky_lock: loop_server has one thread, but thread_server's
 * threads all count here. Once the table is full, the oldest id is forgotten first.
 * server_state_init() and server_state_destroy() (declared in endpoints.h) live in
 * flaky_ids.c, since the table is all they allocate.
 */
#ifndef FLAKY_IDS_H
#define FLAKY_IDS_H

#include "endpoints.h"
#include "http_parser.h"

/** Count one more request for @p id (at most 127 bytes, no NUL) and return how many it has
 *  made, this one included. */
long flaky_count_request(struct server_state *state, struct http_text id);

/** Forget every id (/stats/reset). */
void flaky_forget_all(struct server_state *state);

#endif /* FLAKY_IDS_H */
