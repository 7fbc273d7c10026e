/**
 * @file semaphore_limit.c
 * @brief A counting semaphore lets at most K of N workers in at once: the maximum is measured.
 *
 * What to look for: N workers all want in, say to a database that accepts only K connections.
 * A semaphore (sem_t) starts with K permits: sem_wait() takes one, or sleeps until one is
 * free; sem_post() gives one back. Each worker counts itself in and out with an atomic
 * counter, and the highest value that counter ever reached is printed at the end:
 * `OK: at most 3 at once (limit 3)`. The first K workers in wait for each other before they
 * start their work, so the room is full once however slowly the threads start (a busy
 * machine, a sanitizer), and the line proves both that the semaphore held the others back and
 * that it let K in, not fewer. This is Python's threading.Semaphore(K).
 *
 * A mutex is the special case K = 1. Unlike a mutex, a semaphore has no owner: any thread may
 * post, which is why it also serves to signal between threads.
 *
 * See also: event_flag.c (threads waiting for a signal), chapter 05 (a bounded queue, where
 * two counts like this one limit producers and consumers).
 *
 * Usage: semaphore_limit [-n N] [-k N] [-m N]
 */
#include "kit.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char usage[] =
    "Usage: semaphore_limit [options]\n"
    "Workers share K permits of a semaphore: at most K inside at once, measured.\n"
    "  -n, --workers=N    workers that want in (default 8)\n"
    "  -k, --limit=N      permits: workers allowed in at once, at most --workers (default 3)\n"
    "  -m, --hold-ms=N    milliseconds each worker stays inside (default 50)\n"
    "  -h, --help         show this help and exit\n";

/* The room the workers share: K permits, and the head counts that check them. */
struct room {
    sem_t permits;
    atomic_int inside;      /* workers inside right now */
    atomic_int most_inside; /* the highest value `inside` ever had */
    double hold;            /* seconds each worker stays */
    pthread_mutex_t door;   /* guards came_in */
    pthread_cond_t full;    /* broadcast when came_in reaches limit */
    int came_in;            /* workers that have taken a permit so far */
    int limit;              /* the semaphore's permits */
};

struct worker {
    pthread_t thread;
    int id;
    struct room *room;
};

/* Raise most_inside to at least `now`. A compare-and-swap loop: if another thread changed the
 * maximum since we read it, the swap fails, `seen` is refreshed, and we try again. */
static void raise_maximum(atomic_int *maximum, int now)
{
    int seen = atomic_load(maximum);
    while (now > seen && !atomic_compare_exchange_weak(maximum, &seen, now))
        ;
}

/* The first `limit` workers in wait here until all of them are in: the room is full once.
 * Later workers pass at once. A semaphore that let fewer in would leave them waiting, so the
 * wait is bounded: false when the room did not fill within 10 s. */
static bool wait_until_full_once(struct room *room)
{
    bool full = true;
    struct timespec deadline = kit_deadline(CLOCK_MONOTONIC, 10);
    KIT_CHECK_EN(pthread_mutex_lock(&room->door));
    if (++room->came_in == room->limit)
        KIT_CHECK_EN(pthread_cond_broadcast(&room->full));
    while (room->came_in < room->limit && full) {
        int en = pthread_cond_timedwait(&room->full, &room->door, &deadline);
        if (en == ETIMEDOUT)
            full = false;
        else if (en != 0)
            kit_die_en(en, "pthread_cond_timedwait");
    }
    KIT_CHECK_EN(pthread_mutex_unlock(&room->door));
    return full;
}

static void *visit(void *arg)
{
    struct worker *self = arg;
    struct room *room = self->room;
    while (sem_wait(&room->permits) == -1) { /* take a permit, or sleep until one is free */
        if (errno != EINTR)
            kit_die_errno("sem_wait");
    }
    int now = atomic_fetch_add(&room->inside, 1) + 1;
    raise_maximum(&room->most_inside, now);
    printf("worker %d in  (%d inside)\n", self->id, now);
    if (!wait_until_full_once(room))
        printf("worker %d: the room was not full after 10 s\n", self->id);
    kit_sleep(room->hold); /* the work that needs one of the K permits */
    /* Count ourselves out before giving the permit back: the other way round, the next worker
     * could come in while we are still counted, and the count would overshoot K. */
    atomic_fetch_sub(&room->inside, 1);
    if (sem_post(&room->permits) == -1)
        kit_die_errno("sem_post");
    return NULL;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"workers", required_argument, NULL, 'n'},
        {"limit", required_argument, NULL, 'k'},
        {"hold-ms", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long worker_count = 8, limit = 3, hold_ms = 50;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "n:k:m:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'n': worker_count = kit_parse_long("--workers", optarg, 1, 1000); break;
        case 'k': limit = kit_parse_long("--limit", optarg, 1, 1000); break;
        case 'm': hold_ms = kit_parse_long("--hold-ms", optarg, 0, 10000); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if ((double)worker_count * (double)hold_ms / (double)limit > 60000)
        kit_usage_error("--workers=%ld x --hold-ms=%ld / --limit=%ld is over the cap of 60 s of "
                        "holding: it would run for minutes",
                        worker_count, hold_ms, limit);
    if (limit > worker_count)
        kit_usage_error("--limit=%ld is more than --workers=%ld", limit, worker_count);

    struct room room = {.hold = (double)hold_ms / 1000, .limit = (int)limit};
    pthread_condattr_t attr;
    KIT_CHECK_EN(pthread_condattr_init(&attr));
    KIT_CHECK_EN(pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)); /* as kit_deadline's */
    KIT_CHECK_EN(pthread_cond_init(&room.full, &attr));
    KIT_CHECK_EN(pthread_condattr_destroy(&attr));
    KIT_CHECK_EN(pthread_mutex_init(&room.door, NULL));
    atomic_init(&room.inside, 0);
    atomic_init(&room.most_inside, 0);
    if (sem_init(&room.permits, 0, (unsigned)limit) == -1) /* 0: shared by threads only */
        kit_die_errno("sem_init");
    struct worker *workers = calloc((size_t)worker_count, sizeof *workers);
    if (workers == NULL)
        kit_die_errno("calloc %ld workers", worker_count);

    printf("%ld workers, %ld permits, %ld ms inside each\n", worker_count, limit, hold_ms);
    double start = kit_now();
    for (long w = 0; w < worker_count; w++) {
        workers[w] = (struct worker){.id = (int)w + 1, .room = &room};
        KIT_CHECK_EN(pthread_create(&workers[w].thread, NULL, visit, &workers[w]));
    }
    for (long w = 0; w < worker_count; w++)
        KIT_CHECK_EN(pthread_join(workers[w].thread, NULL));
    printf("all %ld workers done in %.3f s\n", worker_count, kit_seconds_since(start));
    free(workers);
    if (sem_destroy(&room.permits) == -1)
        kit_die_errno("sem_destroy");
    KIT_CHECK_EN(pthread_cond_destroy(&room.full));
    KIT_CHECK_EN(pthread_mutex_destroy(&room.door));

    int most = atomic_load(&room.most_inside);
    if (most == limit) {
        printf("OK: at most %d at once (limit %ld)\n", most, limit);
        return 0;
    }
    if (most > limit)
        printf("FAILED: %d at once, over the limit %ld\n", most, limit);
    else
        printf("FAILED: at most %d at once: the limit %ld was never reached\n", most, limit);
    return 1;
}
