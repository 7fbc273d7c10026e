/**
 * @file connection.h
 * @brief loop_server's heart: an HTTP server as a set of per-connection state machines on
 *        chapter 08's event loop.
 *
 * server_create() watches a listening socket; from then on the loop drives everything. Each
 * accepted connection is a struct conn (lib/connection.c) in one of five states, and every
 * callback moves it along without ever blocking:
 *
 *     READING ---head parsed---> (WAITING on a /delay timer | STALLED for /stall) ---> WRITING
 *        ^                                                                               |
 *        +------------------- response written, keep-alive -----------------------------+
 *                             response written, close -> LINGERING -> closed
 *
 * - READING: EV_READ. Bytes are appended to the connection's buffer and the parser is run on
 *   it; a complete head is routed (lib/endpoints.c). A head must be complete within --timeout
 *   seconds of entering READING, or the connection is closed (408 if it had started one).
 *   One request a turn: a request already buffered behind another (pipelining) waits for
 *   EV_WRITE, so every other ready connection is served before it.
 * - WAITING / STALLED: the answer is decided but not due. EV_READ stays on only to notice a
 *   client that leaves (end of file): it is closed at once, and leaves "in flight".
 * - WRITING: the head and body go out with one sendmsg(), at most HTTP_BODY_PIECE (64 KiB) a
 *   turn, a body made in pieces (/bytes/N, /numbers/N) one piece at a time; EV_WRITE is asked
 *   for when the socket's buffer is full or the turn is over, dropped once all is written.
 * - LINGERING: after a response that closes, shutdown(SHUT_WR), then read and discard what the
 *   client still sends, briefly: closing with unread bytes would send a reset that can destroy
 *   the response before the client reads it.
 *
 * One connection's error (a reset, a bad request, out of memory for its buffer) closes that
 * connection, with a log line on stderr; nothing else is affected.
 */
#ifndef CONNECTION_H
#define CONNECTION_H

#include "../../08-event-loop/lib/event_loop.h"
#include "server_stats.h"

#include <stdbool.h>

/** How the server behaves; copied by server_create(). */
struct server_options {
    double timeout;      /**< seconds a connection may be idle or stuck */
    bool quiet;          /**< no log line per bad request or timeout */
    const char *program; /**< name to put before log lines */
};

struct server;

/** Serve HTTP on the non-blocking listening socket @p listen_fd with @p loop. Takes ownership
 *  of @p listen_fd. Returns the server, or NULL with errno set. */
struct server *server_create(struct ev_loop *loop, int listen_fd,
                             const struct server_options *options);

/** The server's /stats counters. */
struct server_stats *server_get_stats(struct server *server);

/** Close every connection and the listening socket, and free the server. */
void server_free(struct server *server);

#endif /* CONNECTION_H */
