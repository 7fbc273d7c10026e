/**
 * @file event_loop.c
 * @brief The event loop of chapter 08: epoll for descriptors, a binary min-heap for timers.
 *
 * One round of ev_run(), the whole idea of asyncio's loop in four steps:
 * 1. How long may we sleep? Until the nearest timer is due (the top of the heap), or for ever
 *    when there is none, or not at all when one is already due.
 * 2. epoll_wait(): the kernel puts us to sleep until a watched descriptor is ready or the
 *    timeout passes, and hands back only the ready ones (at most READY_BATCH per round).
 * 3. Call the callback of each ready descriptor.
 * 4. Call the callback of each timer that is now due, earliest first.
 *
 * What a callback may do: anything to the loop. Unwatch or close any descriptor, watch new
 * ones, add or cancel timers, stop the loop. Two dangers follow, and how the loop avoids them:
 * - A stale event. epoll_wait returned a batch; callback 1 closes fd 7 and accept() hands out
 *   fd 7 again for a new client. The batch still holds "fd 7 readable" for the *old* file.
 *   So each fd's table entry has a generation number, bumped by every ev_unwatch(), and the
 *   number is stored next to the fd in the event (epoll_data.u64). An event whose generation
 *   is not the entry's current one is dropped: it was meant for an owner that is gone.
 * - A cancelled timer. Timers are taken from the heap one at a time, so a timer cancelled by
 *   an earlier callback is simply no longer there. A timer added by a callback during step 4
 *   waits for the next round even when it is already due (ev_at() a time already past): a
 *   timer that re-arms itself with a delay of 0 cannot starve the descriptors.
 *
 * Level-triggered: a descriptor that stays ready is reported again every round, so a callback
 * may read only part of what is there; it must unwatch a descriptor that hung up (EV_ERROR),
 * or the loop reports it for ever.
 */
#include "event_loop.h"

#include "kit.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Ready descriptors taken per epoll_wait. More stay queued in the kernel for the next round:
 * a bigger batch saves system calls under heavy load, a smaller one keeps rounds short. */
enum { READY_BATCH = 256 };

/* What the loop knows about one descriptor: the table is indexed by the fd number. */
struct ev_watcher {
    ev_io_fn *fn;        /* NULL when the fd is not watched */
    void *data;          /* handed to fn */
    unsigned events;     /* EV_READ | EV_WRITE asked for */
    uint32_t generation; /* bumped by ev_unwatch: events of an older one are stale */
};

struct ev_timer {
    double due;        /* monotonic seconds */
    uint64_t order;    /* creation number: equal due times fire in the order added */
    size_t heap_index; /* where it sits in loop->heap, kept up to date for ev_cancel */
    ev_timer_fn *fn;
    void *data;
};

struct ev_loop {
    int epoll_fd;
    struct ev_watcher *watchers; /* indexed by fd, grown on demand, never shrunk */
    int watcher_capacity;
    int watched_count;      /* entries with fn != NULL */
    struct ev_timer **heap; /* binary min-heap: heap[0] is the next timer due */
    size_t timer_count;
    size_t heap_capacity;
    uint64_t timers_created;
    double now; /* kit_now() after the last epoll_wait */
    bool stopping;
    struct epoll_event ready[READY_BATCH];
};

struct ev_loop *ev_loop_create(void)
{
    struct ev_loop *loop = calloc(1, sizeof *loop);
    if (loop == NULL)
        return NULL;
    loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epoll_fd == -1) {
        int saved = errno;
        free(loop);
        errno = saved;
        return NULL;
    }
    loop->now = kit_now();
    return loop;
}

void ev_loop_free(struct ev_loop *loop)
{
    if (loop == NULL)
        return;
    for (size_t i = 0; i < loop->timer_count; i++)
        free(loop->heap[i]);
    free(loop->heap);
    free(loop->watchers);
    close(loop->epoll_fd);
    free(loop);
}

/* ---- descriptors ---------------------------------------------------------------------------- */

/* Make room in the table for @p fd. Doubling keeps the cost amortised O(1) per new fd. */
static int grow_watchers(struct ev_loop *loop, int fd)
{
    if (fd < loop->watcher_capacity)
        return 0;
    int capacity = loop->watcher_capacity > 0 ? loop->watcher_capacity : 64;
    while (capacity <= fd)
        capacity = capacity > INT_MAX / 2 ? INT_MAX : capacity * 2;
    struct ev_watcher *grown = realloc(loop->watchers, (size_t)capacity * sizeof *grown);
    if (grown == NULL)
        return -1; /* errno is ENOMEM */
    memset(grown + loop->watcher_capacity, 0,
           (size_t)(capacity - loop->watcher_capacity) * sizeof *grown);
    loop->watchers = grown;
    loop->watcher_capacity = capacity;
    return 0;
}

int ev_watch(struct ev_loop *loop, int fd, unsigned events, ev_io_fn *fn, void *data)
{
    if (fd < 0 || fn == NULL || (events & ~(unsigned)(EV_READ | EV_WRITE)) != 0) {
        errno = fd < 0 ? EBADF : EINVAL;
        return -1;
    }
    if (grow_watchers(loop, fd) == -1)
        return -1;
    struct ev_watcher *watcher = &loop->watchers[fd];
    struct epoll_event interest = {
        .events = ((events & EV_READ) ? EPOLLIN : 0u) | ((events & EV_WRITE) ? EPOLLOUT : 0u),
        .data.u64 = (uint64_t)watcher->generation << 32 | (uint32_t)fd,
    };
    /* EPOLLERR and EPOLLHUP need not be asked for: epoll always reports them. */
    if (watcher->fn != NULL) {
        if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_MOD, fd, &interest) == 0)
            goto watched;
        if (errno != ENOENT)
            return -1;
        /* The fd was closed without ev_unwatch (which removed it from epoll) and its number
         * reused: the old owner is gone, so its events are stale from now on. */
        watcher->generation++;
        interest.data.u64 = (uint64_t)watcher->generation << 32 | (uint32_t)fd;
        watcher->fn = NULL;
        loop->watched_count--;
    }
    if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &interest) == -1)
        return -1;
    loop->watched_count++;
watched:
    watcher->fn = fn;
    watcher->data = data;
    watcher->events = events;
    return 0;
}

void ev_unwatch(struct ev_loop *loop, int fd)
{
    if (fd < 0 || fd >= loop->watcher_capacity || loop->watchers[fd].fn == NULL)
        return;
    /* Fails only if fd was already closed, which removed it from epoll anyway. */
    (void)epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
    struct ev_watcher *watcher = &loop->watchers[fd];
    watcher->fn = NULL;
    watcher->data = NULL;
    watcher->generation++; /* events of this round for fd are now stale */
    loop->watched_count--;
}

/* ---- timers: a binary min-heap ordered by (due, order) ---------------------------------------- */

static bool fires_before(const struct ev_timer *a, const struct ev_timer *b)
{
    return a->due < b->due || (a->due == b->due && a->order < b->order);
}

static void heap_place(struct ev_loop *loop, size_t index, struct ev_timer *timer)
{
    loop->heap[index] = timer;
    timer->heap_index = index;
}

/* Move the timer at @p index up while it fires before its parent: O(log n). */
static void sift_up(struct ev_loop *loop, size_t index)
{
    struct ev_timer *timer = loop->heap[index];
    while (index > 0) {
        size_t parent = (index - 1) / 2;
        if (!fires_before(timer, loop->heap[parent]))
            break;
        heap_place(loop, index, loop->heap[parent]);
        index = parent;
    }
    heap_place(loop, index, timer);
}

/* Move the timer at @p index down while a child fires before it: O(log n). */
static void sift_down(struct ev_loop *loop, size_t index)
{
    struct ev_timer *timer = loop->heap[index];
    for (;;) {
        size_t child = 2 * index + 1;
        if (child >= loop->timer_count)
            break;
        if (child + 1 < loop->timer_count && fires_before(loop->heap[child + 1], loop->heap[child]))
            child++;
        if (!fires_before(loop->heap[child], timer))
            break;
        heap_place(loop, index, loop->heap[child]);
        index = child;
    }
    heap_place(loop, index, timer);
}

/* Take the timer at @p index out of the heap: the last one fills the hole and moves up or
 * down to where it belongs. O(log n). */
static void heap_remove(struct ev_loop *loop, size_t index)
{
    struct ev_timer *last = loop->heap[--loop->timer_count];
    if (index == loop->timer_count)
        return;
    heap_place(loop, index, last);
    sift_up(loop, index);
    sift_down(loop, last->heap_index);
}

struct ev_timer *ev_at(struct ev_loop *loop, double when, ev_timer_fn *fn, void *data)
{
    if (isnan(when) || fn == NULL) {
        errno = EINVAL;
        return NULL;
    }
    if (loop->timer_count == loop->heap_capacity) {
        size_t capacity = loop->heap_capacity > 0 ? 2 * loop->heap_capacity : 64;
        struct ev_timer **grown = realloc(loop->heap, capacity * sizeof *grown);
        if (grown == NULL)
            return NULL;
        loop->heap = grown;
        loop->heap_capacity = capacity;
    }
    struct ev_timer *timer = malloc(sizeof *timer);
    if (timer == NULL)
        return NULL;
    timer->due = when;
    timer->order = loop->timers_created++;
    timer->fn = fn;
    timer->data = data;
    loop->heap[loop->timer_count++] = timer;
    sift_up(loop, loop->timer_count - 1);
    return timer;
}

struct ev_timer *ev_after(struct ev_loop *loop, double seconds, ev_timer_fn *fn, void *data)
{
    /* From the clock now, not from ev_now(): a callback that ran long must not make its new
     * timer fire early. A negative delay is taken as "as soon as possible" (NaN stays NaN). */
    return ev_at(loop, kit_now() + (seconds < 0 ? 0 : seconds), fn, data);
}

void ev_cancel(struct ev_loop *loop, struct ev_timer *timer)
{
    if (timer == NULL)
        return;
    heap_remove(loop, timer->heap_index);
    free(timer);
}

/* Run every timer due by loop->now that existed when this step began, earliest first. */
static void run_due_timers(struct ev_loop *loop)
{
    uint64_t created_before = loop->timers_created;
    while (loop->timer_count > 0) {
        struct ev_timer *next = loop->heap[0];
        if (next->due > loop->now || next->order >= created_before)
            break; /* a timer added by a callback of this step waits for the next round */
        ev_timer_fn *fn = next->fn;
        void *data = next->data;
        heap_remove(loop, 0);
        free(next); /* the handle dies before its callback runs, as the header promises */
        fn(loop, data);
    }
}

/* ---- the loop --------------------------------------------------------------------------------- */

/* Milliseconds epoll_wait may sleep: -1 (for ever) with no timer, 0 when one is due, else the
 * time to the nearest timer rounded *up*, so that a timer never fires early. */
static int wait_timeout_ms(const struct ev_loop *loop)
{
    if (loop->timer_count == 0)
        return -1;
    double wait_ms = ceil((loop->heap[0]->due - kit_now()) * 1000.0);
    if (wait_ms <= 0)
        return 0;
    return wait_ms >= INT_MAX ? INT_MAX : (int)wait_ms;
}

/* Call the callback of each ready descriptor that still has the owner the event was for. */
static void dispatch_ready(struct ev_loop *loop, int ready_count)
{
    for (int i = 0; i < ready_count; i++) {
        int fd = (int)(uint32_t)loop->ready[i].data.u64;
        uint32_t generation = (uint32_t)(loop->ready[i].data.u64 >> 32);
        uint32_t happened = loop->ready[i].events;
        /* Looked up afresh for every event: an earlier callback may have grown the table. */
        struct ev_watcher *watcher = &loop->watchers[fd];
        if (watcher->fn == NULL || watcher->generation != generation)
            continue; /* unwatched, or the fd number now belongs to someone else */
        unsigned events =
            ((happened & EPOLLIN) ? EV_READ : 0u) | ((happened & EPOLLOUT) ? EV_WRITE : 0u);
        events &= watcher->events; /* an earlier callback may have changed what is asked */
        if (happened & (EPOLLERR | EPOLLHUP))
            events |= EV_ERROR | (happened & EPOLLIN ? EV_READ : 0u) |
                      (happened & EPOLLOUT ? EV_WRITE : 0u);
        if (events != 0)
            watcher->fn(loop, fd, events, watcher->data);
    }
}

int ev_run(struct ev_loop *loop)
{
    loop->stopping = false;
    while (!loop->stopping && (loop->watched_count > 0 || loop->timer_count > 0)) {
        /* Cost per round: one epoll_wait, O(ready descriptors) however many are watched
         * (select and poll cost O(watched)); O(log n) per timer that fires. */
        int ready_count =
            epoll_wait(loop->epoll_fd, loop->ready, READY_BATCH, wait_timeout_ms(loop));
        if (ready_count == -1) {
            if (errno == EINTR)
                continue; /* a signal handler ran: recompute the timeout and wait again */
            return -1;
        }
        loop->now = kit_now();
        dispatch_ready(loop, ready_count);
        run_due_timers(loop);
    }
    return 0;
}

void ev_stop(struct ev_loop *loop)
{
    loop->stopping = true;
}

double ev_now(const struct ev_loop *loop)
{
    return loop->now;
}
