/**
 * @file named_threads.h
 * @brief Counting this process's threads by name, as /proc/self/task lists them.
 *
 * How thread_pool.c checks its pool from outside: tp_create() names each worker
 * `pool-worker-N` (pthread_setname_np), and the kernel shows every thread of a process as a
 * folder /proc/self/task/TID whose file `comm` holds that name, as `ps -L` and `top -H` show
 * it. Counting the names that start with `pool-worker-` before and after tp_shutdown() tells
 * whether the pool started its workers and whether it joined every one (the code is in
 * lib/named_threads.c).
 */
#ifndef NAMED_THREADS_H
#define NAMED_THREADS_H

/** Threads of this process whose name starts with @p prefix, as listed in /proc/self/task.
 *  Exits saying why if /proc/self/task cannot be opened. */
int named_threads_count(const char *prefix);

/** Like named_threads_count(), for threads that have just been joined: pthread_join returns
 *  once the kernel has cleared the thread's ID, a moment before the thread leaves /proc, so
 *  this looks again for up to a second before it counts a thread as left behind. */
int named_threads_after_join(const char *prefix);

#endif /* NAMED_THREADS_H */
