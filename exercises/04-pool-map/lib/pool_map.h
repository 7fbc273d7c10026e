/**
 * @file pool_map.h
 * @brief Exercise 04's ordered parallel map: Python's `executor.map(fn, inputs)`, in C.
 *
 * The API you implement in lib/pool_map.c; keep it as it is, because the grader's own programs
 * call exactly this function. pool_map() starts a few worker threads, lets them share out the
 * inputs (the next free input goes to whichever worker is free), writes each result in the
 * input's own slot, and joins every worker before it returns. Like Python's map:
 *
 * - results come back in input order, whatever order the calls finish in;
 * - a call's error reaches the caller: the error of the first failing input in input order,
 *   as `list(executor.map(...))` re-raises the first exception in input order;
 * - nothing is left running when it returns (the end of a `with ThreadPoolExecutor()` block).
 */
#ifndef POOL_MAP_H
#define POOL_MAP_H

#include <stddef.h>

/** One call: read the input at @p arg, write the result to @p result, return 0 or an error
 *  number (EDOM, ERANGE, ...). The same shape as chapter 06's tp_task_fn. */
typedef int map_fn(void *arg, long *result);

/** Run @p fn on each of @p count inputs, @p arg_size bytes apart from @p args (like qsort's base
 *  and size), on @p workers threads (1 or more) started by this call, and store the result of
 *  input i in results[i]. Every worker has been joined when it returns. Returns 0 if every
 *  call returned 0, else the error of the first failing input in input order; the result of a
 *  failed input is 0. If not even one thread can be started, returns pthread_create's error. */
int pool_map(int workers, map_fn *fn, void *args, size_t arg_size, size_t count, long results[]);

#endif /* POOL_MAP_H */
