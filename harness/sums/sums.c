/**
 * @file sums.c
 * @brief sums.h: the sum of squares, its closed formula, and a u128 in decimal.
 */
#include "sums.h"

/* i * i fits in 64 bits for i below 2^32; the running total needs 128. (Clang turns the same
 * loop with a 128-bit product into the closed formula, and there is nothing left to time.)
 * In its own file, so that every caller runs this one compiled loop. */
u128 sum_of_squares(uint64_t first, uint64_t count)
{
    u128 total = 0;
    for (uint64_t i = first; i < first + count; i++)
        total += i * i;
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
