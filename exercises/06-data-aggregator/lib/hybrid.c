/**
 * @file hybrid.c
 * @brief AGG_HYBRID (bonus): the event loop fetches; child processes digest, beside the loop.
 *        Not written yet: ENOSYS.
 *
 * The seed's `loop.run_in_executor(ProcessPoolExecutor(), process_data, data)`. The plan (the
 * agg_children_* functions of methods.h):
 * 1. agg_by_hybrid() runs agg_loop() (loop.c) with a struct agg_children, which the loop
 *    hands each ok body to (agg_children_submit) instead of digesting it.
 * 2. A body handed over is digested in a child forked for it (the child has the body already:
 *    fork copies the memory), at most options->workers children at once (queue the rest);
 *    the child writes its digest, process_seconds and pid to a pipe and _exit()s.
 * 3. The loop waits on those pipes too (curl_multi_poll's extra_fds: agg_children_fds), and
 *    when one is readable, agg_children_collect() reads the result, closes the pipe, reaps
 *    that child and reports the source. The loop never waits for a child that is not done.
 */
#include "methods.h"

#include <errno.h>

int agg_by_hybrid(struct agg_run *run, struct agg_source *sources[], size_t count)
{
    (void)run, (void)sources, (void)count;
    errno = ENOSYS; /* TODO: bonus, hybrid */
    return -1;
}
