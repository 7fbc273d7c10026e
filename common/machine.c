/**
 * @file machine.c
 * @brief How many CPUs we may use, CPU work the optimiser keeps, and whether to use colour.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "kit.h"

#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

int kit_cpu_count(void)
{
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == -1)
        kit_die_errno("sched_getaffinity");
    return CPU_COUNT(&allowed);
}

uint64_t kit_cpu_work(uint64_t iterations)
{
    /* xorshift64*: each round depends on the last, so the loop can be neither folded nor
     * vectorised away, and its cost is linear in iterations. */
    uint64_t state = 0x9E3779B97F4A7C15u ^ iterations;
    for (uint64_t i = 0; i < iterations; i++) {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state *= 0x2545F4914F6CDD1Du;
    }
    return state;
}

bool kit_barrier_wait(pthread_barrier_t *barrier)
{
    int en = pthread_barrier_wait(barrier);
    if (en != 0 && en != PTHREAD_BARRIER_SERIAL_THREAD)
        kit_die_en(en, "pthread_barrier_wait");
    return en == PTHREAD_BARRIER_SERIAL_THREAD;
}

bool kit_use_color(FILE *stream)
{
    const char *no_color = getenv("NO_COLOR");
    return isatty(fileno(stream)) && (no_color == NULL || no_color[0] == '\0');
}
