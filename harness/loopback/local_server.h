/**
 * @file local_server.h
 * @brief Start the kit's local server (loop_server) on a free port from any client program.
 *
 * Every networked lesson talks to chapter 09's loop_server on 127.0.0.1 when no URL is given.
 * local_server_start() runs it as a child process with `--port 0`, reads its line
 * `listening on http://127.0.0.1:PORT`, and hands back the URL; local_server_stop() ends it.
 * The program is found next to the running one, in the same build tree:
 * dirname(/proc/self/exe)/../../chapters/09-servers/loop_server (programs live in
 * build/VARIANT/{chapters,exercises,solutions}/NN-x/), so a sanitizer build starts the server
 * built with the same sanitizers.
 *
 * A client that links this (chapters 09-12, exercises 05-06) declares
 * `uses_code := harness/loopback` in its uses.mk; the Makefile then builds chapter 09's
 * servers first.
 *
 * The server dies with its client: it is started with PR_SET_PDEATHSIG (SIGTERM when the
 * thread that started it ends), so a client that crashes leaves nothing listening. Start it
 * from the main thread, or from a thread that lives as long as the server is needed.
 */
#ifndef LOCAL_SERVER_H
#define LOCAL_SERVER_H

#include <sys/types.h>

/** A running local server. */
struct local_server {
    pid_t pid;    /**< the server process, 0 when not running */
    int port;     /**< the port it listens on, on 127.0.0.1 */
    char url[64]; /**< "http://127.0.0.1:PORT", no trailing slash */
};

/** Start this build's loop_server on a free port as a child, wait (at most a few seconds) for
 *  its listening line and fill @p server. Returns 0, or -1 after printing why to stderr. */
int local_server_start(struct local_server *server);

/** Like local_server_start(), for another server program of chapter 09 (@p program is
 *  "loop_server" or "thread_server"), passing it @p extra_args (NULL-terminated, may be NULL). */
int local_server_start_program(struct local_server *server, const char *program,
                               const char *const extra_args[]);

/** SIGTERM, then wait for the server to exit (SIGKILL after about 2 s), never leaving a
 *  zombie. Says on stderr if it did not exit cleanly. A no-op when it is not running. */
void local_server_stop(struct local_server *server);

#endif /* LOCAL_SERVER_H */
