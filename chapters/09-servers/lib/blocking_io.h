/**
 * @file blocking_io.h
 * @brief Blocking socket calls for a thread per connection: timeouts on every call, a whole
 *        response sent, a /stall held, a gentle close, and the main thread's accept loop.
 *
 * thread_server's serve_client() reads top to bottom because each of these blocks until it is
 * done: the thread waits, and the kernel runs other clients' threads meanwhile. What keeps a
 * blocked thread from waiting for ever is set_socket_timeouts(): SO_RCVTIMEO and SO_SNDTIMEO
 * make a recv() or send() that waits longer fail with EAGAIN (loop_server, which never blocks,
 * uses timers instead); recv_before() turns that into a deadline for a whole request head. A stop elsewhere (client_threads_stop()) shuts the socket down, which
 * ends any of these calls at once.
 */
#ifndef BLOCKING_IO_H
#define BLOCKING_IO_H

#include "endpoints.h"

#include <netinet/in.h>
#include <stdbool.h>

/** Make every recv() and send() on @p fd give up (EAGAIN) after @p seconds. Returns 0, or -1
 *  with errno set. */
int set_socket_timeouts(int fd, double seconds);

/** recv() that gives up (EAGAIN) at @p deadline (a kit_now() time), however the bytes trickle
 *  in: SO_RCVTIMEO alone starts again with every recv(), so a client sending a byte a second
 *  (slowloris) would never time out. Sets SO_RCVTIMEO to the time left before each call. */
ssize_t recv_before(int fd, char *buf, size_t len, double deadline);

/** Send the head and body of @p response (with Connection: keep-alive or close as
 *  @p keep_alive says), blocking until all is sent. Returns 0, or -1 with errno set: EPIPE or
 *  ECONNRESET when the client left, EAGAIN when it stopped reading for the send timeout. */
int send_whole_response(int fd, struct http_response *response, bool keep_alive, int version_minor);

/** /stall: hold the connection, reading and dropping whatever the client sends, until the
 *  client closes it (or a stop shuts the socket down). Idle timeouts do not end it. */
void stall_until_closed(int fd);

/** Close gently, without closing @p fd: shut our sending side, then read what the client still
 *  sends until it closes too, for at most about a second. Closing with unread bytes would send
 *  a reset, which can destroy the answer (a 414, say) before the client has read it. */
void linger_before_close(int fd);

/** What to do with an accepted connection @p fd (blocking, close-on-exec) from @p address. */
typedef void accepted_fn(int fd, const struct sockaddr_in *address);

/** The main thread of a blocking server: accept connections on @p listen_fd (blocking) and
 *  hand each to @p accepted, until @p stop_fd (a signalfd) or @p done_fd (the demo's client is
 *  done; -1: none) is readable, or @p duration seconds have passed (never, if negative). Out of
 *  descriptors (EMFILE), it pauses 100 ms to let some clients leave; a connection that failed
 *  before it was accepted is skipped. */
void accept_until_stopped(int listen_fd, int stop_fd, int done_fd, double duration,
                          accepted_fn *accepted);

#endif /* BLOCKING_IO_H */
