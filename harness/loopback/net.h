/**
 * @file net.h
 * @brief Sockets on loopback for the kit's servers and clients: listen, connect, and enough
 *        descriptors for C10K.
 *
 * Every server and client of the kit binds or connects to 127.0.0.1 only: the kit never
 * needs the network. Each function returns -1 with errno set on failure, so the caller decides
 * whether that ends the program (a server that cannot listen) or one connection (accept).
 */
#ifndef NET_H
#define NET_H

#include <stdbool.h>
#include <stddef.h>

/** A listening TCP socket on 127.0.0.1:@p port (0: a free port chosen by the kernel), with
 *  SO_REUSEADDR, the longest backlog the system allows, close-on-exec, and non-blocking if
 *  @p nonblocking. Stores the port actually bound in @p bound_port. Returns the fd or -1. */
int listen_loopback(int port, bool nonblocking, int *bound_port);

/** A TCP connection to 127.0.0.1:@p port, blocking, close-on-exec. Returns the fd or -1. */
int connect_loopback(int port);

/** Raise the soft limit on open descriptors to the hard limit (one connection is one
 *  descriptor: 10,000 clients need more than the usual soft limit of 1024). Prints a note to
 *  stderr, naming @p program, when the hard limit is below @p wanted. Returns the new limit. */
long raise_open_files_limit(const char *program, long wanted);

/** Running out of something, in words a reader can act on: "out of file descriptors (this
 *  process's limit: ulimit -n)" for EMFILE, likewise ENFILE, ENOMEM, ENOBUFS and EADDRNOTAVAIL
 *  (out of local ports); NULL for any other @p error. A server or client hitting a limit says
 *  which one, not only the errno text. */
const char *out_of_what(int error);

/** Write the whole of @p buf to @p fd (a socket), resuming after partial writes and EINTR,
 *  without SIGPIPE. Returns 0, or -1 with errno set (EPIPE, ECONNRESET, EAGAIN on a timeout). */
int send_all(int fd, const void *buf, size_t len);

#endif /* NET_H */
