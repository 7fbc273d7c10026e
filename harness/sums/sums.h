/**
 * @file sums.h
 * @brief The CPU-bound work the lessons share, and its check: the sum of squares of a range,
 *        in 128 bits, against its closed formula.
 *
 * Chapter 06's process pool and pool_speed, chapter 11's run_in_executor and chapter 12's
 * perf_compare all time this one task, Python's `sum(i * i for i in range(a, b))`.
 * Every one of them calls the one compiled sum_of_squares() (in sums.c, so that no caller can
 * inline it and have the compiler place or unroll it differently): a speedup then compares the
 * same machine code. The closed formula checks any way of splitting the work, whatever the
 * order the parts came back in.
 *
 * The total needs 128 bits (Python's integers grow; C's do not): the sum of squares of
 * range(5e9) is about 4e28. printf has no conversion for it, hence u128_text().
 */
#ifndef SUMS_H
#define SUMS_H

#include <stdint.h>

typedef unsigned __int128 u128; /**< a GCC and Clang extension: 0 to about 3.4e38 */

/** first^2 + (first+1)^2 + ...: the squares of range(first, first + count). */
u128 sum_of_squares(uint64_t first, uint64_t count);

/** 0^2 + 1^2 + ... + (n - 1)^2 by the closed formula (n - 1) n (2n - 1) / 6. */
u128 sum_of_squares_formula(uint64_t n);

/** printf has no conversion for 128 bits: the decimal digits of @p value, in @p text. Returns
 *  where they start in @p text (its last byte ends the string). */
const char *u128_text(u128 value, char text[40]);

#endif /* SUMS_H */
