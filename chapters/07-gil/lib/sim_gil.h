/**
 * @file sim_gil.h
 * @brief A simulated global interpreter lock, built the way CPython builds its GIL.
 *
 * Chapter 07's programs share this lock. Threads that "run Python" hold it; between two small
 * steps of work (the stand-in for bytecodes) they call sim_gil_yield_if_asked(), which is cheap
 * unless another thread has been waiting a whole switch interval. The parts, and the CPython
 * names they stand for (Python/ceval_gil.c):
 *
 * - `locked`, guarded by `mutex`: who may run. CPython's `gil->locked` and `gil->mutex`.
 * - `released`: a waiter sleeps on it, at most one switch interval at a time. `gil->cond`.
 * - `drop_request`: set by a waiter whose interval ran out with no switch in between; the holder
 *   polls it between steps without taking the mutex, so it is an atomic. `gil_drop_request`.
 * - `switched`: a holder that was asked to let go waits on it until another thread has really
 *   taken the lock, so it cannot grab it straight back. `gil->switch_cond` (FORCE_SWITCHING).
 * - `switches`: how often the lock changed hands. `gil->switch_number`.
 *
 * The lock is not fair in general and does not try to be: like CPython's, it only promises that a
 * thread waiting for it gets it within about one interval when the holder is busy computing.
 */
#ifndef SIM_GIL_H
#define SIM_GIL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

/** The simulated interpreter lock. Set up with sim_gil_init(), never copied. */
struct sim_gil {
    pthread_mutex_t mutex;    /**< guards every field below except drop_request */
    pthread_cond_t released;  /**< signalled each time the lock is let go */
    pthread_cond_t switched;  /**< broadcast each time a thread takes the lock */
    bool locked;              /**< a thread holds the lock (is "running Python") */
    bool has_holder;          /**< last_holder is valid (false until the first acquire) */
    pthread_t last_holder;    /**< the thread that took the lock most recently */
    int waiting;              /**< threads blocked in sim_gil_acquire() */
    unsigned long switches;   /**< times the lock passed to a different thread */
    double interval;          /**< switch interval in seconds: how long a waiter waits politely */
    atomic_bool drop_request; /**< a waiter asks the holder to let go (read without the mutex) */
};

/** Set up @p gil with a switch interval of @p interval_seconds (CPython's default is 0.005). */
void sim_gil_init(struct sim_gil *gil, double interval_seconds);

/** Free what sim_gil_init() set up. No thread may hold or wait for the lock. */
void sim_gil_destroy(struct sim_gil *gil);

/** Take the lock, waiting for it if another thread holds it. After each switch interval spent
 *  waiting with no switch in between, ask the holder to drop it. CPython: take_gil(). */
void sim_gil_acquire(struct sim_gil *gil);

/** Let go of the lock of one's own accord: before blocking I/O or when the thread is done.
 *  The caller may take it again at once. CPython: drop_gil() in Py_BEGIN_ALLOW_THREADS. */
void sim_gil_release(struct sim_gil *gil);

/** Called by the holder between two steps. If a waiter asked, hand the lock over, wait until
 *  the waiter has it, then queue up to take it back. Otherwise return at once (one atomic load).
 *  CPython: the eval loop's check of gil_drop_request between bytecodes. */
void sim_gil_yield_if_asked(struct sim_gil *gil);

/** How many times the lock has passed from one thread to another so far. */
unsigned long sim_gil_switches(struct sim_gil *gil);

#endif /* SIM_GIL_H */
