/**
 * @file mpi_job.h
 * @brief The kit's MPI job harness: start under mpirun, check MPI calls, leave nothing running.
 *
 * None of this is the lesson: it is the plumbing every MPI program needs and that the
 * lessons would otherwise repeat. The programs show MPI's own calls (MPI_Send, MPI_Recv,
 * MPI_Reduce, ...); this file gets a job started, agreed and ended properly.
 *
 * Each program of the chapter is started plainly (`mpi_sum`), parses its options, and then
 * runs itself under mpirun with mpi_job_relaunch(), printing the exact command, so that
 * `--help` and a bad option never need MPI and the learner sees how a job is launched. It stays
 * as mpirun's parent, copying the job's output: a failed write to stdout and Ctrl-C or SIGTERM
 * are then told as in every program of the kit, which mpirun alone does not do. Started
 * by mpirun (by the program itself or by hand, with a hostfile), every rank parses the same
 * command line; only rank 0 speaks (mpi_job_options_begin()).
 *
 * MPI's default error handler aborts the whole job with a message of its own. mpi_job_start()
 * asks for error codes instead (MPI_ERRORS_RETURN), and MPI_CHECK() turns a failed call into
 * `demo: rank 1: MPI_Recv(small, 4, ...): MPI_ERR_TRUNCATE: message truncated [demo.c:8]`
 * followed by MPI_Abort(), which ends every rank of the job with exit status 1; mpi_job_abort()
 * does the same for a failure of the program's own. A job that needs a number of ranks says
 * so with mpi_job_need_ranks(); a rank that waits for others does it with a deadline
 * (mpi_job_recv_within()) or without spinning (mpi_job_barrier_politely()).
 */
#ifndef MPI_JOB_H
#define MPI_JOB_H

#include "kit.h" /* KIT_PRINTF, KIT_NORETURN */

#include <mpi.h>
#include <stdbool.h>

/** Call before parsing the options, and mpi_job_options_end() after. Outside an mpirun job,
 *  they do nothing. In a job, every rank parses the same command line and reaches the same
 *  verdict, so ranks other than 0 parse with stdout and stderr sent to /dev/null: `--help` or
 *  a bad option is printed once, by rank 0. And a rank that exits while parsing first waits
 *  for every other rank (at exit: MPI_Init, an MPI_Allreduce, MPI_Finalize), so that rank 0's
 *  message is out before mpirun sees any rank end; then all leave with the same status. */
void mpi_job_options_begin(void);

/** Call after parsing the options: gives ranks other than 0 their stdout and stderr back. */
void mpi_job_options_end(void);

/** Outside an mpirun job: print the mpirun command that runs this program (same arguments) on
 *  @p ranks ranks of this machine, run it as a child, copy its output to stdout, and exit as it
 *  did (never returns). A failed write to stdout stops the job and exits 1, saying why
 *  (`> /dev/full` stops it before it starts); SIGINT, SIGTERM or SIGHUP stop mpirun and its
 *  ranks, say
 *  `interrupted by SIGINT: stopped mpirun and its 2 ranks`, and end this process with that
 *  signal. Inside a job: return at once. mpirun gets --oversubscribe when @p ranks exceeds the
 *  CPUs this process may use, --allow-run-as-root when run as root, and @p mpirun_options
 *  (NULL-terminated, or NULL for none) before the program. */
void mpi_job_relaunch(int argc, char *argv[], int ranks, const char *const mpirun_options[]);

/** MPI_Init, with errors returned rather than fatal on MPI_COMM_WORLD; stdout line-buffered so
 *  a killed job has printed its progress; and the rank is killed if its launcher (mpirun or
 *  Open MPI's daemon) dies. Sets *size to the number of ranks; returns this rank. */
int mpi_job_start(int *argc, char ***argv, int *size);

/** Call on every rank after mpi_job_start(): if the job has fewer than @p min or more than
 *  @p max ranks (INT_MAX: no limit), rank 0 says so once, `needs 2 to 16 ranks (@p why), got
 *  1`, and every rank leaves with status 2, as for a bad option (every rank sees the same
 *  size, so all of them leave). */
void mpi_job_need_ranks(int size, int min, int max, const char *why);

/** Print `program: rank N: ` and the message on stderr, then end every rank of the job with
 *  MPI_Abort() (mpirun then exits with status 1). For a failure that is not an MPI call's. */
void mpi_job_abort(const char *format, ...) KIT_PRINTF(1, 2) KIT_NORETURN;

/** MPI_Recv of a message with @p tag from any rank, with a deadline: if none has come within
 *  @p seconds, say so and end the whole job with MPI_Abort() (exit status 1), rather than wait
 *  forever for a rank that is stuck. Returns the message's status (MPI_SOURCE: who sent it).
 *  Like MPI_Recv itself, it polls while it waits. */
MPI_Status mpi_job_recv_within(void *buffer, int count, MPI_Datatype type, int tag, double seconds);

/** MPI_Finalize, checked; then 1 if rank 0 could not write its output (a full disk, a closed
 *  pipe), else @p status. Use as `return mpi_job_finish(status);`. */
int mpi_job_finish(int status);

/** MPI_Barrier without the spinning: wait until every rank has called it, sleeping 1 ms
 *  between looks. Open MPI's blocking calls poll in a loop, so a rank waiting in MPI_Barrier
 *  keeps a CPU busy; with more ranks than CPUs, that CPU is taken from a rank at work. Use it
 *  where ranks wait for a long time while one of them measures something. */
void mpi_job_barrier_politely(void);

/** Run an MPI call; if it does not return MPI_SUCCESS, print which rank, which call, MPI's own
 *  reason and where, then end the whole job with MPI_Abort(MPI_COMM_WORLD, 1). */
#define MPI_CHECK(call) mpi_job_check_at(__FILE__, __LINE__, (call), #call)

void mpi_job_check_at(const char *file, int line, int rc, const char *call);

#endif /* MPI_JOB_H */
