/**
 * @file sim_gil.c
 * @brief The simulated global interpreter lock: take, drop, and the forced switch.
 *
 * How a switch happens, step by step (the same dance as CPython's take_gil and drop_gil):
 * 1. Thread B wants the lock, finds it taken, and sleeps on `released` for one interval.
 * 2. The interval runs out and the lock has not changed hands meanwhile: B sets `drop_request`.
 * 3. Thread A, between two steps, sees the request, marks the lock free and signals `released`.
 * 4. A then waits on `switched` until B has really taken the lock (B clears the request and
 *    broadcasts `switched`), and only then queues up to take it back, as B did in step 1.
 * Without step 4, A (already running on a CPU) would often retake the lock before B (just
 * woken) got to it, and B would wait another interval, or many: CPython's FORCE_SWITCHING.
 */
#include "sim_gil.h"

#include "kit.h"

#include <errno.h>
#include <time.h>

void sim_gil_init(struct sim_gil *gil, double interval_seconds)
{
    pthread_condattr_t monotonic;
    KIT_CHECK_EN(pthread_condattr_init(&monotonic));
    /* Waiters time out on the monotonic clock, which never jumps when the wall clock is set. */
    KIT_CHECK_EN(pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC));
    KIT_CHECK_EN(pthread_mutex_init(&gil->mutex, NULL));
    KIT_CHECK_EN(pthread_cond_init(&gil->released, &monotonic));
    KIT_CHECK_EN(pthread_cond_init(&gil->switched, NULL));
    KIT_CHECK_EN(pthread_condattr_destroy(&monotonic));
    gil->locked = false;
    gil->has_holder = false;
    gil->waiting = 0;
    gil->switches = 0;
    gil->interval = interval_seconds;
    atomic_init(&gil->drop_request, false);
}

void sim_gil_destroy(struct sim_gil *gil)
{
    KIT_CHECK_EN(pthread_cond_destroy(&gil->switched));
    KIT_CHECK_EN(pthread_cond_destroy(&gil->released));
    KIT_CHECK_EN(pthread_mutex_destroy(&gil->mutex));
}

void sim_gil_acquire(struct sim_gil *gil)
{
    KIT_CHECK_EN(pthread_mutex_lock(&gil->mutex));
    gil->waiting++;
    while (gil->locked) {
        /* Wait politely for one interval. If the lock changed hands meanwhile, the new holder
         * has only just started: give it a full interval too before asking again. */
        unsigned long switches_before = gil->switches;
        struct timespec deadline = kit_deadline(CLOCK_MONOTONIC, gil->interval);
        int en = pthread_cond_timedwait(&gil->released, &gil->mutex, &deadline);
        if (en != 0 && en != ETIMEDOUT)
            kit_die_en(en, "pthread_cond_timedwait");
        if (en == ETIMEDOUT && gil->locked && gil->switches == switches_before)
            atomic_store(&gil->drop_request, true);
    }
    gil->waiting--;

    /* The lock is ours. Count a switch when it passes to a different thread. */
    pthread_t self = pthread_self();
    gil->locked = true;
    if (gil->has_holder && !pthread_equal(gil->last_holder, self))
        gil->switches++;
    gil->last_holder = self;
    gil->has_holder = true;
    /* Any pending request was aimed at the previous holder, which has let go: clear it, and
     * wake a previous holder waiting in sim_gil_yield_if_asked() for this very moment. */
    atomic_store(&gil->drop_request, false);
    KIT_CHECK_EN(pthread_cond_broadcast(&gil->switched));
    KIT_CHECK_EN(pthread_mutex_unlock(&gil->mutex));
}

/* Mark the lock free and wake one waiter. The caller holds gil->mutex. */
static void let_go(struct sim_gil *gil)
{
    gil->locked = false;
    KIT_CHECK_EN(pthread_cond_signal(&gil->released));
}

void sim_gil_release(struct sim_gil *gil)
{
    KIT_CHECK_EN(pthread_mutex_lock(&gil->mutex));
    let_go(gil);
    KIT_CHECK_EN(pthread_mutex_unlock(&gil->mutex));
}

void sim_gil_yield_if_asked(struct sim_gil *gil)
{
    /* The common case, between almost every two steps: nobody asked, carry on. This read
     * happens without the mutex (taking it every step would cost far more than the step), which
     * is why drop_request is an atomic and not a plain bool. */
    if (!atomic_load(&gil->drop_request))
        return;

    pthread_t self = pthread_self();
    KIT_CHECK_EN(pthread_mutex_lock(&gil->mutex));
    let_go(gil);
    /* Forced switch: stay out until another thread has taken the lock. This ends: a waiter leaves
     * sim_gil_acquire() only by taking the lock, the lock is free, and a waiter that missed the
     * signal still wakes within one interval. With nobody waiting, there is nothing to wait for. */
    while (gil->waiting > 0 && pthread_equal(gil->last_holder, self))
        KIT_CHECK_EN(pthread_cond_wait(&gil->switched, &gil->mutex));
    KIT_CHECK_EN(pthread_mutex_unlock(&gil->mutex));

    sim_gil_acquire(gil); /* back in the queue, like every other thread */
}

unsigned long sim_gil_switches(struct sim_gil *gil)
{
    KIT_CHECK_EN(pthread_mutex_lock(&gil->mutex));
    unsigned long switches = gil->switches;
    KIT_CHECK_EN(pthread_mutex_unlock(&gil->mutex));
    return switches;
}
