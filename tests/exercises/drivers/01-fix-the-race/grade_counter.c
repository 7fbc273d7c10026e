/**
 * @file grade_counter.c
 * @brief The grader's driver for exercise 01: the student's counter.c, with its threads watched.
 *
 * The grader builds this file beside the student's counter.c (tests/grade/prepare). It compiles
 * counter.c into itself with four of its calls renamed to the grader's wrappers, then runs the
 * student's main with the same arguments:
 *
 * - pthread_create: each new thread waits, before it runs the student's function, until all
 *   --threads threads are alive at once (a rendezvous, at most RENDEZVOUS_S). A counter whose
 *   threads really run at the same time meets it at once; one that joins each thread before it
 *   creates the next (no overlap, so no race and an exact total) never does.
 * - pthread_mutex_lock / pthread_mutex_unlock and sched_yield: how many sched_yield() calls,
 *   that is increments, each hold of a mutex covered. A lock around one read-yield-write covers
 *   one; a lock around a thread's whole loop covers all of them and runs the threads one after
 *   another. A counter that takes no mutex (an atomic compare-and-swap loop) is not judged here.
 *
 * Both are counted, not timed: the counts are the same on an idle machine, beside busy loops
 * and on one CPU. The student's program prints its own lines and sets the exit status; this
 * driver adds two lines when it exits, which the grader's tests read:
 *
 *   threads at once: 4 of 4
 *   longest hold of a mutex: 1 increments (20000 holds)
 *
 * Usage: grade_counter --threads=N [counter's other options]
 */
#include "kit.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double RENDEZVOUS_S = 3.0; /* how long a new thread waits for the others */

static long grade_threads_expected;          /* --threads, as given */
static atomic_long grade_threads_alive;      /* threads started and not yet returned */
static atomic_long grade_most_at_once;       /* the most threads seen alive at the rendezvous */
static atomic_bool grade_rendezvous_missed;  /* a thread waited RENDEZVOUS_S for the others */
static atomic_long grade_longest_hold;       /* the most increments one hold of a mutex covered */
static atomic_long grade_holds;              /* holds of a mutex, in all */
static _Thread_local long grade_held;        /* mutexes this thread holds now */
static _Thread_local long grade_hold_yields; /* sched_yield() calls in this thread's hold */

struct grade_start {
    void *(*function)(void *);
    void *arg;
};

static void *grade_thread_start(void *arg)
{
    struct grade_start start = *(struct grade_start *)arg;
    free(arg);
    long alive = atomic_fetch_add(&grade_threads_alive, 1) + 1;
    double since = kit_now();
    while (!atomic_load(&grade_rendezvous_missed) && alive < grade_threads_expected) {
        if (kit_seconds_since(since) > RENDEZVOUS_S) {
            atomic_store(&grade_rendezvous_missed, true);
            break;
        }
        kit_sleep(0.001);
        alive = atomic_load(&grade_threads_alive);
    }
    long most = atomic_load(&grade_most_at_once);
    while (alive > most && !atomic_compare_exchange_weak(&grade_most_at_once, &most, alive))
        ;
    void *result = start.function(start.arg);
    atomic_fetch_sub(&grade_threads_alive, 1);
    return result;
}

/* The wrappers below stand in for the calls of the student's counter.c; one it never makes (no
 * mutex at all in an atomic counter, or in the untouched stub) is left unused, which is no
 * warning worth failing its build for. */
__attribute__((unused)) static int grade_pthread_create(pthread_t *thread,
                                                        const pthread_attr_t *attr,
                                                        void *(*function)(void *), void *arg)
{
    struct grade_start *start = malloc(sizeof *start);
    if (start == NULL)
        return ENOMEM;
    *start = (struct grade_start){.function = function, .arg = arg};
    int error = pthread_create(thread, attr, grade_thread_start, start);
    if (error != 0)
        free(start);
    return error;
}

__attribute__((unused)) static int grade_pthread_mutex_lock(pthread_mutex_t *mutex)
{
    int error = pthread_mutex_lock(mutex);
    if (error == 0 && grade_held++ == 0)
        grade_hold_yields = 0;
    return error;
}

__attribute__((unused)) static int grade_pthread_mutex_unlock(pthread_mutex_t *mutex)
{
    if (grade_held > 0 && --grade_held == 0) {
        atomic_fetch_add(&grade_holds, 1);
        long longest = atomic_load(&grade_longest_hold);
        while (grade_hold_yields > longest &&
               !atomic_compare_exchange_weak(&grade_longest_hold, &longest, grade_hold_yields))
            ;
    }
    return pthread_mutex_unlock(mutex);
}

__attribute__((unused)) static int grade_sched_yield(void)
{
    if (grade_held > 0)
        grade_hold_yields++;
    return sched_yield();
}

/* The student's program, with its main renamed and the calls above routed through the
 * wrappers. Its headers are already included, so the renaming reaches its code only. */
int counter_main(int argc, char *argv[]);
#define main counter_main
#define pthread_create grade_pthread_create
#define pthread_mutex_lock grade_pthread_mutex_lock
#define pthread_mutex_unlock grade_pthread_mutex_unlock
#define sched_yield grade_sched_yield
#include "counter.c"
#undef main
#undef pthread_create
#undef pthread_mutex_lock
#undef pthread_mutex_unlock
#undef sched_yield

/* Runs when the student's main returns or calls exit(): the two counts, last. */
static void grade_report(void)
{
    printf("threads at once: %ld of %ld\n", atomic_load(&grade_most_at_once),
           grade_threads_expected);
    printf("longest hold of a mutex: %ld increments (%ld holds)\n",
           atomic_load(&grade_longest_hold), atomic_load(&grade_holds));
}

int main(int argc, char *argv[])
{
    for (int a = 1; a < argc; a++)
        if (strncmp(argv[a], "--threads=", 10) == 0)
            grade_threads_expected = atol(argv[a] + 10);
    if (grade_threads_expected < 2) {
        fprintf(stderr, "grade_counter: give --threads=N, N 2 or more\n");
        return 2;
    }
    if (atexit(grade_report) != 0)
        kit_die("atexit failed");
    return counter_main(argc, argv);
}
