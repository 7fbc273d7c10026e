/**
 * @file event_flag.c
 * @brief An event, like Python's threading.Event, built on a mutex and a condition variable.
 *
 * What to look for: C has no ready-made event, so this program builds one from the two
 * pthread tools every waiting construct is made of: a mutex guarding a flag, and a condition
 * variable to sleep on until the flag changes. Workers call event_wait() and sleep; main
 * checks that none got past while the event was clear, then calls event_set(), and all of
 * them wake and go. Then main clears the event and shows that a wait now times out:
 * `OK: 3 workers waited until the event was set; after clear, a wait timed out`.
 *
 * The pitfalls the event hides from its users: always check the flag in a loop around
 * pthread_cond_timedwait(), because a wait may return without anyone signalling (a spurious
 * wakeup) or after another thread has cleared the flag again; change the flag only with the
 * mutex held, or a waiter can miss the signal between checking the flag and going to sleep;
 * and bound every wait, so a lost signal shows up as a timeout instead of a hang.
 *
 * See also: semaphore_limit.c (waiting for a permit), chapter 05's bounded queue (the same
 * mutex + condition variable pair, waiting for room or for items).
 *
 * Usage: event_flag [-n N] [-d N]
 */
#include "kit.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char usage[] =
    "Usage: event_flag [options]\n"
    "Workers wait on an event (a flag, a mutex and a condition variable) until main sets it.\n"
    "  -n, --workers=N    workers waiting for the event (default 3)\n"
    "  -d, --delay-ms=N   milliseconds main waits before setting the event (default 100)\n"
    "  -h, --help         show this help and exit\n";

enum { WORKER_PATIENCE_S = 10 }; /* a worker gives up after this long: no wait is unbounded */

/* ---- the event: set, clear, wait ---------------------------------------------------------- */

struct event {
    pthread_mutex_t lock;   /* guards is_set */
    pthread_cond_t changed; /* broadcast when is_set becomes true */
    bool is_set;
};

static void event_init(struct event *event)
{
    pthread_condattr_t attr;
    KIT_CHECK_EN(pthread_condattr_init(&attr));
    /* Time waits on the monotonic clock, which never jumps when someone sets the date. */
    KIT_CHECK_EN(pthread_condattr_setclock(&attr, CLOCK_MONOTONIC));
    KIT_CHECK_EN(pthread_cond_init(&event->changed, &attr));
    KIT_CHECK_EN(pthread_condattr_destroy(&attr));
    KIT_CHECK_EN(pthread_mutex_init(&event->lock, NULL));
    event->is_set = false;
}

static void event_destroy(struct event *event)
{
    KIT_CHECK_EN(pthread_cond_destroy(&event->changed));
    KIT_CHECK_EN(pthread_mutex_destroy(&event->lock));
}

/* Set the flag and wake every waiter (broadcast, not signal: all of them may go). */
static void event_set(struct event *event)
{
    KIT_CHECK_EN(pthread_mutex_lock(&event->lock));
    event->is_set = true;
    KIT_CHECK_EN(pthread_cond_broadcast(&event->changed));
    KIT_CHECK_EN(pthread_mutex_unlock(&event->lock));
}

static void event_clear(struct event *event)
{
    KIT_CHECK_EN(pthread_mutex_lock(&event->lock));
    event->is_set = false;
    KIT_CHECK_EN(pthread_mutex_unlock(&event->lock));
}

/* Wait until the flag is set or `seconds` have passed; true if it is set. Like Python's
 * Event.wait(timeout). pthread_cond_timedwait() unlocks the mutex while it sleeps and locks
 * it again before returning, so the flag is always read under the lock. */
static bool event_wait(struct event *event, double seconds)
{
    struct timespec deadline = kit_deadline(CLOCK_MONOTONIC, seconds);
    KIT_CHECK_EN(pthread_mutex_lock(&event->lock));
    while (!event->is_set) { /* a loop: wakeups can be spurious */
        int en = pthread_cond_timedwait(&event->changed, &event->lock, &deadline);
        if (en == ETIMEDOUT)
            break;
        if (en != 0)
            kit_die_en(en, "pthread_cond_timedwait");
    }
    bool is_set = event->is_set;
    KIT_CHECK_EN(pthread_mutex_unlock(&event->lock));
    return is_set;
}

/* ---- the demonstration -------------------------------------------------------------------- */

struct shared {
    struct event go;
    atomic_int waiting; /* workers that have reached event_wait() */
    atomic_int passed;  /* workers that got past it */
};

struct worker {
    pthread_t thread;
    int id;
    struct shared *shared;
};

static void *wait_for_go(void *arg)
{
    struct worker *self = arg;
    atomic_fetch_add(&self->shared->waiting, 1);
    if (!event_wait(&self->shared->go, WORKER_PATIENCE_S)) {
        printf("worker %d: gave up after %d s: the event was never set\n", self->id,
               WORKER_PATIENCE_S);
        return NULL;
    }
    atomic_fetch_add(&self->shared->passed, 1);
    printf("worker %d: the event is set, going\n", self->id);
    return NULL;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"workers", required_argument, NULL, 'n'},
        {"delay-ms", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long worker_count = 3, delay_ms = 100;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "n:d:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'n': worker_count = kit_parse_long("--workers", optarg, 1, 1000); break;
        case 'd': delay_ms = kit_parse_long("--delay-ms", optarg, 0, 5000); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    struct shared shared;
    event_init(&shared.go);
    atomic_init(&shared.waiting, 0);
    atomic_init(&shared.passed, 0);
    struct worker *workers = calloc((size_t)worker_count, sizeof *workers);
    if (workers == NULL)
        kit_die_errno("calloc %ld workers", worker_count);
    for (long w = 0; w < worker_count; w++) {
        workers[w] = (struct worker){.id = (int)w + 1, .shared = &shared};
        KIT_CHECK_EN(pthread_create(&workers[w].thread, NULL, wait_for_go, &workers[w]));
    }

    kit_sleep((double)delay_ms / 1000);
    int passed_early = atomic_load(&shared.passed); /* nobody may pass a clear event */
    printf("main: after %ld ms, %d of %ld workers waiting, %d got past the clear event\n", delay_ms,
           atomic_load(&shared.waiting), worker_count, passed_early);
    printf("main: set\n");
    event_set(&shared.go);
    for (long w = 0; w < worker_count; w++)
        KIT_CHECK_EN(pthread_join(workers[w].thread, NULL));
    free(workers);
    int passed = atomic_load(&shared.passed);

    event_clear(&shared.go);
    bool set_after_clear = event_wait(&shared.go, 0.05);
    printf("main: clear; a wait of 50 ms then %s\n",
           set_after_clear ? "returned true" : "timed out");
    event_destroy(&shared.go);

    if (passed_early == 0 && passed == worker_count && !set_after_clear) {
        printf("OK: %d workers waited until the event was set; after clear, a wait timed out\n",
               passed);
        return 0;
    }
    printf("FAILED: %d workers passed before set, %d of %ld after; after clear, the wait %s\n",
           passed_early, passed, worker_count, set_after_clear ? "did not time out" : "timed out");
    return 1;
}
