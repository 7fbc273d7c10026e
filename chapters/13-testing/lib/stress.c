/**
 * @file stress.c
 * @brief The stress-test harness of chapter 13: random numbers, pauses, threads under a watchdog.
 *
 * The watchdog polls: a sem_timedwait() of 50 ms for the next thread to end, then a look at
 * the progress count. That costs nothing the threads would notice (20 wake-ups a second of one
 * thread), and it keeps the code under test free of any watchdog code.
 */
#include "stress.h"

#include "kit.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

long stress_new_seed(void)
{
    return (long)(((unsigned long)time(NULL) ^ (unsigned long)getpid() << 10) % 1000000);
}

uint64_t stress_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void stress_pause(uint64_t *state)
{
    uint64_t r = stress_random(state);
    if (r % 64 == 0)
        kit_sleep((double)((r >> 32) % 128) * 1e-6);
    else if (r % 8 == 0)
        sched_yield();
}

/* One thread of a run: its number, what it runs, and the semaphore it posts as it ends. */
struct thread {
    pthread_t id;
    long number;
    void (*body)(long thread, void *data);
    void *data;
    sem_t *ended;
};

static void *run_then_post(void *arg)
{
    struct thread *self = arg;
    self->body(self->number, self->data);
    if (sem_post(self->ended) == -1)
        kit_die_errno("sem_post");
    return NULL;
}

/* Wait for @p threads posts of @p ended; see stress_run(). */
static double watch(sem_t *ended, long threads, double stall, long (*progress)(void *data),
                    void (*rescue)(void *data), void *data)
{
    long last_seen = progress(data);
    double last_change = kit_now(), stuck = 0;
    while (threads > 0) {
        struct timespec deadline = kit_deadline(CLOCK_REALTIME, 0.05); /* sem_timedwait's clock */
        if (sem_timedwait(ended, &deadline) == 0) {
            threads--;
            last_change = kit_now(); /* a thread ending is a sign of life too */
            continue;
        }
        if (errno != ETIMEDOUT && errno != EINTR)
            kit_die_errno("sem_timedwait");
        long seen = progress(data);
        if (seen != last_seen) {
            last_seen = seen;
            last_change = kit_now();
        }
        if (stuck == 0 && kit_seconds_since(last_change) < stall)
            continue;
        if (stuck == 0)
            stuck = kit_seconds_since(last_change);
        rescue(data);
    }
    return stuck;
}

double stress_run(long threads, void (*body)(long thread, void *data), void *data, double stall,
                  long (*progress)(void *data), void (*rescue)(void *data))
{
    sem_t ended;
    struct thread *thread = calloc((size_t)threads, sizeof *thread);
    if (thread == NULL)
        kit_die_errno("calloc for %ld threads", threads);
    if (sem_init(&ended, 0, 0) == -1)
        kit_die_errno("sem_init");
    for (long i = 0; i < threads; i++) {
        thread[i] = (struct thread){.number = i, .body = body, .data = data, .ended = &ended};
        KIT_CHECK_EN(pthread_create(&thread[i].id, NULL, run_then_post, &thread[i]));
    }
    double stuck = watch(&ended, threads, stall, progress, rescue, data);
    for (long i = 0; i < threads; i++) /* each has posted: it is ending, the join is short */
        KIT_CHECK_EN(pthread_join(thread[i].id, NULL));
    if (sem_destroy(&ended) == -1)
        kit_die_errno("sem_destroy");
    free(thread);
    return stuck;
}
