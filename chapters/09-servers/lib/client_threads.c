/**
 * @file client_threads.c
 * @brief client_threads.h: detached threads in a list under one lock, and the stop that
 *        shuts their sockets down and waits for them.
 */
#include "client_threads.h"

#include "kit.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* One connection's thread, in the set's list. */
struct client_thread {
    struct client_threads *set;
    int fd;
    client_serve_fn *serve;
    void *data;
    struct client_thread *prev, *next;
};

struct client_threads {
    pthread_attr_t attr; /* detached, the stack size asked for */
    long max_threads;
    pthread_mutex_t lock;   /* guards the three fields below */
    pthread_cond_t changed; /* a thread left, or the set is stopping */
    struct client_thread *running;
    long count;
    bool stopping;
};

struct client_threads *client_threads_create(long max_threads, size_t stack_size)
{
    struct client_threads *set = calloc(1, sizeof *set);
    if (set == NULL)
        return NULL;
    set->max_threads = max_threads;
    KIT_CHECK_EN(pthread_mutex_init(&set->lock, NULL));
    KIT_CHECK_EN(pthread_cond_init(&set->changed, NULL));
    KIT_CHECK_EN(pthread_attr_init(&set->attr));
    KIT_CHECK_EN(pthread_attr_setdetachstate(&set->attr, PTHREAD_CREATE_DETACHED));
    int en = pthread_attr_setstacksize(&set->attr, stack_size);
    if (en != 0) { /* EINVAL: smaller than PTHREAD_STACK_MIN */
        client_threads_free(set);
        errno = en;
        return NULL;
    }
    return set;
}

/* A connection's thread: serve, then leave the list and close the descriptor under the lock. */
static void *client_thread(void *arg)
{
    struct client_thread *thread = arg;
    struct client_threads *set = thread->set;
    thread->serve(thread->fd, thread->data);
    KIT_CHECK_EN(pthread_mutex_lock(&set->lock));
    *(thread->prev ? &thread->prev->next : &set->running) = thread->next;
    if (thread->next)
        thread->next->prev = thread->prev;
    set->count--;
    close(thread->fd); /* under the lock: the stop never shuts down a reused fd number */
    KIT_CHECK_EN(pthread_cond_broadcast(&set->changed));
    KIT_CHECK_EN(pthread_mutex_unlock(&set->lock)); /* the set may be freed from here on */
    free(thread);
    return NULL;
}

int client_threads_start(struct client_threads *set, int fd, client_serve_fn *serve, void *data)
{
    struct client_thread *thread = malloc(sizeof *thread);
    if (thread == NULL)
        return errno;
    *thread = (struct client_thread){.set = set, .fd = fd, .serve = serve, .data = data};
    KIT_CHECK_EN(pthread_mutex_lock(&set->lock));
    /* Created under the lock, so that the thread cannot leave the list before it is in it. */
    pthread_t id;
    int en = set->stopping ? ECANCELED
             : set->count >= set->max_threads
                 ? EAGAIN
                 : pthread_create(&id, &set->attr, client_thread, thread);
    if (en == 0) {
        thread->next = set->running;
        if (set->running)
            set->running->prev = thread;
        set->running = thread;
        set->count++;
    }
    KIT_CHECK_EN(pthread_mutex_unlock(&set->lock));
    if (en != 0)
        free(thread);
    return en;
}

void client_threads_sleep(struct client_threads *set, double seconds)
{
    struct timespec deadline = kit_deadline(CLOCK_REALTIME, seconds);
    KIT_CHECK_EN(pthread_mutex_lock(&set->lock));
    int en = 0;
    while (!set->stopping && en != ETIMEDOUT)
        en = pthread_cond_timedwait(&set->changed, &set->lock, &deadline);
    KIT_CHECK_EN(pthread_mutex_unlock(&set->lock));
}

long client_threads_stop(struct client_threads *set, double seconds)
{
    struct timespec deadline = kit_deadline(CLOCK_REALTIME, seconds);
    KIT_CHECK_EN(pthread_mutex_lock(&set->lock));
    set->stopping = true;
    for (struct client_thread *thread = set->running; thread; thread = thread->next)
        shutdown(thread->fd, SHUT_RDWR); /* a blocked recv() returns 0, a send() fails */
    KIT_CHECK_EN(pthread_cond_broadcast(&set->changed)); /* wakes the /delay sleepers */
    int en = 0;
    while (set->count > 0 && en != ETIMEDOUT)
        en = pthread_cond_timedwait(&set->changed, &set->lock, &deadline);
    long left = set->count;
    KIT_CHECK_EN(pthread_mutex_unlock(&set->lock));
    return left;
}

void client_threads_free(struct client_threads *set)
{
    KIT_CHECK_EN(pthread_attr_destroy(&set->attr));
    KIT_CHECK_EN(pthread_cond_destroy(&set->changed));
    KIT_CHECK_EN(pthread_mutex_destroy(&set->lock));
    free(set);
}
