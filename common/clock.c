/**
 * @file clock.c
 * @brief Monotonic time in seconds, an EINTR-proof sleep, and deadlines for timed waits.
 */
#include "kit.h"

#include <errno.h>
#include <math.h>
#include <time.h>

static double seconds_of(struct timespec ts)
{
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double kit_now(void)
{
    struct timespec now;
    if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
        kit_die_errno("clock_gettime");
    return seconds_of(now);
}

double kit_seconds_since(double start)
{
    return kit_now() - start;
}

static struct timespec timespec_of(double seconds)
{
    double whole = floor(seconds);
    struct timespec ts = {.tv_sec = (time_t)whole, .tv_nsec = (long)((seconds - whole) * 1e9)};
    if (ts.tv_nsec >= 1000000000L) { /* rounding can land exactly on the next second */
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

void kit_sleep(double seconds)
{
    if (seconds <= 0)
        return;
    struct timespec left = timespec_of(seconds);
    while (nanosleep(&left, &left) == -1) {
        if (errno != EINTR)
            kit_die_errno("nanosleep");
    }
}

struct timespec kit_deadline(clockid_t clock, double seconds)
{
    struct timespec now;
    if (clock_gettime(clock, &now) == -1)
        kit_die_errno("clock_gettime");
    return timespec_of(seconds_of(now) + seconds);
}

double kit_cpu_seconds(clockid_t clock)
{
    struct timespec used;
    if (clock_gettime(clock, &used) == -1)
        kit_die_errno("clock_gettime (CPU-time clock %d)", (int)clock);
    return seconds_of(used);
}
