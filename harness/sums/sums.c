/**
 * @file sums.c
 * @brief sums.h: the sum of squares, its closed formula, and a u128 in decimal.
 */
#include "sums.h"

/* i * i fits in 64 bits for i below 2^32; the running total needs 128. The timed ranges stay
 * below 2^32, in the first loop, whose 64-bit products are what the lessons time. (Clang turns
 * a loop with a 128-bit product, like the second, into the closed formula, and there is nothing
 * left to time.) In its own file, so that every caller runs this one compiled loop. */
u128 sum_of_squares(uint64_t first, uint64_t count)
{
    const uint64_t wide_from = (uint64_t)1 << 32; /* from here on, i * i needs 128 bits */
    uint64_t end = first + count;
    uint64_t narrow_end = end < wide_from ? end : wide_from;
    u128 total = 0;
    uint64_t i = first;
    for (; i < narrow_end; i++)
        total += i * i;
    for (; i < end; i++)
        total += (u128)i * i;
    return total;
}

u128 sum_of_squares_formula(uint64_t n)
{
    return n == 0 ? 0 : (u128)(n - 1) * n * (2 * (u128)n - 1) / 6;
}

const char *u128_text(u128 value, char text[40])
{
    char *digit = text + 39;
    *digit = '\0';
    do { /* the digits, backwards */
        *--digit = (char)('0' + (int)(value % 10));
        value /= 10;
    } while (value > 0);
    return digit;
}
