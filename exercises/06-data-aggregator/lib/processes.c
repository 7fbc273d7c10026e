/**
 * @file processes.c
 * @brief AGG_PROCESSES: a child process per source, its result back over a pipe of its own.
 *        Not written yet: ENOSYS.
 *
 * The seed's ProcessPoolExecutor version, the fork way. The plan:
 * 1. For each source (at most options->workers children at once; 0: no limit): a pipe, then
 *    fork. The child fetches (agg_fetch_blocking), digests if ok, writes a record of the
 *    results (every field but the url: a pointer means nothing in another process) to the
 *    pipe in one write (kit_write_full) and leaves with _exit(), never exit().
 * 2. The parent closes the pipe's write end at once, and waits on the read ends of every
 *    child alive with poll(). For each that is readable: read the record (kit_read_full), copy
 *    it into the source, close the pipe, waitpid() that child's pid, report the source.
 * 3. When every source is done, every child has been reaped and every pipe closed.
 */
#include "methods.h"

#include <errno.h>

int agg_by_processes(struct agg_run *run, struct agg_source *sources[], size_t count)
{
    (void)run, (void)sources, (void)count;
    errno = ENOSYS; /* TODO: exercise 06 */
    return -1;
}
