/**
 * @file loopback_get.h
 * @brief A blocking HTTP GET on loopback, and the local server's /stats figures, for a client
 *        that measures the server (c10k_client.c; the exercises' programs read /stats with it).
 *
 * Enough HTTP/1.1 for a measuring client and no more: one request per connection
 * (`Connection: close`), the answer read until the server closes or the buffer is full, the
 * status taken from the status line. A read waits at most 10 s (SO_RCVTIMEO), so a server
 * that stops answering cannot hang the client. /stats is one JSON object of whole numbers
 * (chapters/09-servers/lib/server_stats.h), so a figure is found by its key, without a JSON library. For anything
 * more, the kit's clients use libcurl (chapter 10).
 */
#ifndef LOOPBACK_GET_H
#define LOOPBACK_GET_H

#include <stddef.h>

/** GET @p path from 127.0.0.1:@p port on a new connection; the answer (head and body, cut to
 *  fit, NUL-terminated) into @p buf. Returns the HTTP status, or -1 with errno set (EPROTO:
 *  no status line). */
int loopback_get(int port, const char *path, char *buf, size_t size);

/** The port of @p url, `http://127.0.0.1:PORT` or `http://localhost:PORT` with an optional
 *  trailing '/', or -1 for anything else (the kit stays on loopback). */
int loopback_port_of_url(const char *url);

/** One figure of the local server's, from @p path (`/stats`, or `/stats/reset`, which answers
 *  with the figures before it zeroes them): @p name is "connections", "max_in_flight", ...
 *  Returns -1 when there is no such figure, or no server there (@p port -1 included, as
 *  loopback_port_of_url() returns for a URL off loopback). */
long loopback_stat(int port, const char *path, const char *name);

#endif /* LOOPBACK_GET_H */
