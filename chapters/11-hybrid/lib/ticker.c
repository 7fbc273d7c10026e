/**
 * @file ticker.c
 * @brief ticker.h: a self-re-arming timer that keeps the worst lateness of its firings.
 */
#include "ticker.h"

#include "../../../harness/proc-figures/proc_figures.h" /* cpu_wait_seconds */
#include "kit.h"

static void on_tick(struct ev_loop *loop, void *data);

static void arm(struct ticker *ticker)
{
    /* From the clock now, not ev_now(): after a stall the next firing is one interval away,
     * and the stall counts once, not once for every firing it swallowed. */
    ticker->due = kit_now() + ticker->interval;
    ticker->cpu_wait_then = cpu_wait_seconds();
    ticker->timer = ev_at(ticker->loop, ticker->due, on_tick, ticker);
    if (ticker->timer == NULL)
        kit_die_errno("ev_at (the ticker)");
}

static void on_tick(struct ev_loop *loop, void *data)
{
    (void)loop;
    struct ticker *ticker = data;
    /* kit_now(), not ev_now(): the loop reads its clock before the round's descriptor
     * callbacks, and a callback that computed for 100 ms is exactly what must show here. */
    double late = kit_now() - ticker->due;
    double own = late - (cpu_wait_seconds() - ticker->cpu_wait_then);
    if (late > ticker->worst_late)
        ticker->worst_late = late;
    if (own > ticker->worst_own)
        ticker->worst_own = own;
    ticker->ticks++;
    arm(ticker);
}

void ticker_start(struct ticker *ticker, struct ev_loop *loop, double interval)
{
    *ticker = (struct ticker){.loop = loop, .interval = interval};
    arm(ticker);
}

void ticker_stop(struct ticker *ticker)
{
    if (ticker->timer != NULL)
        ev_cancel(ticker->loop, ticker->timer);
    ticker->timer = NULL;
}
