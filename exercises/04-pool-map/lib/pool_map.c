/**
 * @file pool_map.c
 * @brief Exercise 04: an ordered map on worker threads. Not written yet: it returns ENOSYS.
 *
 * The plan, in four parts (README.md gives the hints one at a time):
 * 1. A struct shared by every worker: fn, args, arg_size, count, results, the index of the
 *    next input nobody has taken yet, the errors, and a mutex guarding what changes.
 * 2. A worker function: take the next input's index (under the mutex), run fn on it with no
 *    lock held, store the result at that index, remember the error, repeat until none is left.
 * 3. pool_map(): start `workers` threads on the worker function, join every one of them.
 * 4. The return value: the error of the first failing input in input order.
 */
#include "pool_map.h"

#include <errno.h>

int pool_map(int workers, map_fn *fn, void *args, size_t arg_size, size_t count, long results[])
{
    (void)workers, (void)fn, (void)args, (void)arg_size, (void)count, (void)results;
    return ENOSYS; /* TODO: exercise 04 */
}
