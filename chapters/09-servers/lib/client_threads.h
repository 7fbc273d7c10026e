/**
 * @file client_threads.h
 * @brief thread_server's threads: one per connection, a cap on how many, and a stop that
 *        reaches every one of them, even a thread blocked in recv() or asleep in /delay.
 *
 * Starting a thread per connection is one pthread_create(); stopping them is the hard part
 * of the design, and it lives here. A thread blocked in recv() does not look at any flag, so
 * client_threads_stop() shuts down every connection's socket (the recv() returns 0 at once);
 * a thread asleep in /delay waits in client_threads_sleep() on the same condition variable as
 * the stop, so the stop's broadcast wakes it. Then the stop waits, for a bounded time, until
 * every thread has left.
 *
 * The set owns a connection's descriptor from client_threads_start() on: when serve()
 * returns, the set closes it, under its lock, so that the stop never shuts down a descriptor
 * number that a newer connection has been given meanwhile. Threads are detached (nobody joins
 * them: a thread's end is told by the count it leaves), with the stack size given to
 * client_threads_create().
 */
#ifndef CLIENT_THREADS_H
#define CLIENT_THREADS_H

#include <stddef.h>

struct client_threads;

/** What a connection's thread runs: serve the client on @p fd, blocking as it likes. The set
 *  closes @p fd after it returns. */
typedef void client_serve_fn(int fd, void *data);

/** A set of at most @p max_threads threads with stacks of @p stack_size bytes. Returns it, or
 *  NULL with errno set. */
struct client_threads *client_threads_create(long max_threads, size_t stack_size);

/** Run serve(fd, data) on a new thread. Returns 0 (the set owns @p fd now), or an error
 *  number and @p fd is still the caller's: EAGAIN when max_threads are running or the system
 *  has no thread to give, ECANCELED once the set is stopping. */
int client_threads_start(struct client_threads *set, int fd, client_serve_fn *serve, void *data);

/** Sleep for @p seconds, or less if the set is stopping: /delay on a connection's thread. */
void client_threads_sleep(struct client_threads *set, double seconds);

/** Stop: shut down every connection, wake every sleeper, and wait until every thread has
 *  left, for at most @p seconds. Returns how many threads are still running (0: all left). */
long client_threads_stop(struct client_threads *set, double seconds);

/** Free the set, after client_threads_stop() returned 0 (a thread still running uses it). */
void client_threads_free(struct client_threads *set);

#endif /* CLIENT_THREADS_H */
