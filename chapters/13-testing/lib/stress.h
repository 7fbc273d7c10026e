/**
 * @file stress.h
 * @brief Chapter 13's stress-test harness: a seeded generator per thread, pauses that shake the
 *        timing up, and a watchdog that tells a stuck run from a slow one.
 *
 * Not the lesson of stress_queue.c (its invariants, thread counts and broken twin are), but
 * what any stress test of threads needs:
 *
 * - stress_new_seed(): a seed of the run, new each run, short enough to type back to replay it;
 * - stress_random(): splitmix64, a tiny generator of good quality. Each thread keeps its own
 *   state, derived from the run's seed: the plan needs no lock, and the seed replays it;
 * - stress_pause(): before a step, now and then a yield, rarely a short sleep, so that threads
 *   fall behind and catch up at moments that differ from run to run;
 * - stress_run(): runs the threads of a round and waits for them to end while it watches for
 *   signs of life. A run that is slow (a busy machine, a sanitizer) keeps moving; a run where
 *   nothing has moved for a while is stuck. The watchdog waits for no progress, never for a
 *   deadline.
 */
#ifndef CHAPTER13_STRESS_H
#define CHAPTER13_STRESS_H

#include <stdint.h>

/** A new seed, from the time and the process id: under a million, so that it is short to print
 *  and to type back (`--seed=N`). */
long stress_new_seed(void);

/** The next number of splitmix64 from @p state (which it advances). */
uint64_t stress_random(uint64_t *state);

/** Before a step: a sched_yield() 1 time in 8, a sleep of 0 to 127 us 1 time in 64. */
void stress_pause(uint64_t *state);

/** Run @p threads threads, thread i calling body(i, @p data), and wait until they have all
 *  returned; then join them. Meanwhile, every 50 ms, it reads progress(@p data), a count that
 *  must grow while the run moves. If neither that count changes nor a thread ends for @p stall
 *  seconds, the run is stuck: from then on rescue(@p data) is called every 50 ms until the
 *  threads have ended, so that the caller can report instead of hang. Returns how long nothing
 *  had moved at the first rescue, or 0 if none was needed. */
double stress_run(long threads, void (*body)(long thread, void *data), void *data, double stall,
                  long (*progress)(void *data), void (*rescue)(void *data));

#endif /* CHAPTER13_STRESS_H */
