/**
 * @file pipe_pingpong.h
 * @brief mpi_pingpong's yardstick: the same ping-pong between two processes of one machine,
 *        through two pipes (chapter 05's way), timed the same way as the MPI one.
 *
 * Rank 0 forks an echo child, writes each message into one pipe and reads it back from the
 * other. Each message costs a write() and a read() on each side, two copies through the
 * kernel, and a wake-up of the other process: the price MPI's shared memory avoids for small
 * messages. See ../05-queues/pipe_ipc.c for the pipe round trip as a lesson of its own.
 */
#ifndef PIPE_PINGPONG_H
#define PIPE_PINGPONG_H

#include <stddef.h>

/** @p repeats runs of @p trips round trips of @p size bytes (@p out, echoed into @p back) with
 *  a forked child that echoes them through two pipes. Returns the best run's one-way time in
 *  seconds (half its round trip), or -1 if a message came back different. The child is reaped
 *  before it returns; a child that fails is reported, with how it ended, and ends the program
 *  (exit status 1). */
double pipe_pingpong(const char *out, char *back, size_t size, long trips, int repeats);

#endif /* PIPE_PINGPONG_H */
