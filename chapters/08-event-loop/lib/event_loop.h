/**
 * @file event_loop.h
 * @brief Chapter 08's event loop: watch descriptors, run callbacks after a delay, on epoll.
 *
 * This is what sits under Python's asyncio: one thread that asks the kernel "which of these
 * descriptors can I use now, and how long may I sleep?" (epoll_wait), then calls the code that
 * waits on each ready one. Shaped like Redis's ae.c: a handful of functions, callbacks with a
 * `void *` for their data, and the epoll_wait timeout taken from the nearest timer.
 *
 * - ev_loop_create() / ev_loop_free(): one loop per thread; nothing here is thread-safe.
 * - ev_watch(fd, EV_READ | EV_WRITE, fn, data): call fn whenever fd is ready for what was asked
 *   (level-triggered: again and again while it stays ready). Called again on the same fd, it
 *   changes the events and the callback. ev_unwatch(fd) before close(fd).
 * - ev_after(seconds, fn, data): call fn once, about @p seconds from now. ev_cancel() before.
 * - ev_run() waits and dispatches until ev_stop() or until nothing is watched and no timer is
 *   pending; ev_stop() may be called from any callback.
 *
 * Errors: EPOLLERR and EPOLLHUP reach the descriptor's callback as EV_ERROR (with EV_READ and
 * EV_WRITE as the kernel reported them), whatever it asked for: a closed peer is never missed.
 * (A pipe whose writer closed, with nothing left to read, is reported as EV_ERROR alone.)
 * The loop is level-triggered: a callback that leaves a hung-up descriptor watched is called
 * again on every round, so on EV_ERROR unwatch it (or read it to end of file first).
 *
 * Callbacks may do anything to the loop: unwatch or close any descriptor, watch new ones, add
 * or cancel timers, stop. An event already fetched for a descriptor that an earlier callback of
 * the same round unwatched (even if its number was reused at once, by accept() say) is dropped,
 * and a timer cancelled by an earlier callback never runs.
 * Calls that can fail for one descriptor (ev_watch, ev_after) return -1 / NULL with errno set,
 * so a server can drop that one connection and carry on; only ev_run() failing ends a loop.
 */
#ifndef EVENT_LOOP_H
#define EVENT_LOOP_H

/** Event bits for ev_watch() and for the events a callback receives. */
enum ev_events {
    EV_READ = 1,  /**< readable: data, a new connection, or end of file */
    EV_WRITE = 2, /**< writable: room in the socket's send buffer */
    EV_ERROR = 4  /**< EPOLLERR or EPOLLHUP: reported even when not asked for */
};

struct ev_loop;
struct ev_timer;

/** Called when @p fd is ready; @p events says for what (EV_READ, EV_WRITE, EV_ERROR). */
typedef void ev_io_fn(struct ev_loop *loop, int fd, unsigned events, void *data);

/** Called once when a timer is due. The timer is already gone: re-arm with ev_after(). */
typedef void ev_timer_fn(struct ev_loop *loop, void *data);

/** A new loop, or NULL with errno set (epoll_create1 failed, or out of memory). */
struct ev_loop *ev_loop_create(void);

/** Watch @p fd for @p events (EV_READ, EV_WRITE or both), or change what it is watched for.
 *  Returns 0, or -1 with errno set (EBADF, ENOMEM, ENOSPC from epoll_ctl; ENOMEM growing the
 *  table). Cost: one epoll_ctl system call; the table of watched fds is indexed by fd, O(1). */
int ev_watch(struct ev_loop *loop, int fd, unsigned events, ev_io_fn *fn, void *data);

/** Stop watching @p fd (a no-op if it was not watched). Call it before close(fd): a closed fd
 *  number may be reused at once by the next accept(). Cost: one epoll_ctl system call. */
void ev_unwatch(struct ev_loop *loop, int fd);

/** Call fn(loop, data) once, @p seconds (>= 0) from now, never earlier (a negative delay counts
 *  as 0). Timers due at the same moment run in the order they were added; a timer added by a
 *  timer callback runs on the next round at the earliest. Returns the timer, valid until its
 *  callback starts or ev_cancel() is called, or NULL with errno set (ENOMEM; EINVAL for NaN).
 *  Cost: O(log n) in the number of pending timers (a binary heap ordered by due time). */
struct ev_timer *ev_after(struct ev_loop *loop, double seconds, ev_timer_fn *fn, void *data);

/** Cancel a pending timer: its callback will not run. O(log n). */
void ev_cancel(struct ev_loop *loop, struct ev_timer *timer);

/** Run until ev_stop() or until nothing is watched and no timer is pending. Returns 0, or -1
 *  with errno set if epoll_wait itself failed (EINTR is not a failure: the loop goes on). */
int ev_run(struct ev_loop *loop);

/** Make ev_run() return after the callbacks of the current round. ev_run() clears the request
 *  when it starts, so a stopped loop can be run again. */
void ev_stop(struct ev_loop *loop);

/** The loop's clock: monotonic seconds, read once per round of ev_run (as kit_now() reads it). */
double ev_now(const struct ev_loop *loop);

/** Free the loop, its pending timers and its epoll descriptor. Watched fds are not closed. */
void ev_loop_free(struct ev_loop *loop);

#endif /* EVENT_LOOP_H */
