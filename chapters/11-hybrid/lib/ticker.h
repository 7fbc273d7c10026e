/**
 * @file ticker.h
 * @brief A timer on the event loop that notes how late it fires: the loop's pulse, measured.
 *
 * An event loop that is free fires a timer within a millisecond of its time; a loop whose only
 * thread is busy in some callback fires it late, by as long as that callback ran. So a timer
 * that re-arms itself every few milliseconds and notes how late each firing was measures how
 * long the loop was ever kept from its work (chapter 08's blocking_pitfall does the same with
 * ticker tasks).
 *
 * A timer also fires late when the machine is busy: the loop's thread is ready to run but waits
 * for a CPU. On one CPU that is the normal case, since the workers and the loop take turns. The
 * kernel counts that wait for each thread (chapter 08's cpu_wait_seconds() reads it), so the
 * ticker notes two figures: how late it was, and how late without the time the thread waited for
 * a CPU meanwhile, which is the stall the program caused itself. Verdicts judge the second.
 */
#ifndef TICKER_H
#define TICKER_H

#include "../../08-event-loop/lib/event_loop.h"

/** A running ticker. The caller owns it; ticker_start() fills it in. */
struct ticker {
    struct ev_loop *loop;
    double interval;        /**< seconds between firings */
    struct ev_timer *timer; /**< the pending firing, NULL when stopped */
    double due;             /**< when the pending firing should come (kit_now() clock) */
    double cpu_wait_then;   /**< cpu_wait_seconds() when it was armed */
    long ticks;             /**< firings so far */
    double worst_late;      /**< the largest lateness, in seconds, as measured */
    double worst_own;       /**< the same without the time spent waiting for a CPU */
};

/** Fire every @p interval seconds on @p loop until ticker_stop(). Exits 1 if ev_after fails. */
void ticker_start(struct ticker *ticker, struct ev_loop *loop, double interval);

/** Cancel the pending firing. The figures stay for the caller to read. */
void ticker_stop(struct ticker *ticker);

#endif /* TICKER_H */
