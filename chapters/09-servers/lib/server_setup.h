/**
 * @file server_setup.h
 * @brief What both of chapter 09's servers do before serving: signals and the port file.
 */
#ifndef SERVER_SETUP_H
#define SERVER_SETUP_H

/** Ignore SIGPIPE (a client that vanishes must not kill the server), and turn SIGINT and
 *  SIGTERM into a readable descriptor (signalfd): the server reads it like any other and stops
 *  cleanly, never in the middle of something. Both are reset to their default first: a server
 *  started in the background by a shell inherits SIGINT ignored. Exits on failure. */
int stop_signals_fd(void);

/** Write @p port to @p path atomically (a temporary file renamed): a reader polling for the
 *  file sees nothing or the whole number. Exits on failure. */
void write_port_file(const char *path, int port);

/** Say that the server listens on @p port: write the port to @p port_file (unless NULL), then
 *  print `listening on http://127.0.0.1:PORT`, the one line tests and
 *  harness/loopback/local_server.c read. Exits if stdout cannot be written. */
void announce_listening(int port, const char *port_file);

#endif /* SERVER_SETUP_H */
