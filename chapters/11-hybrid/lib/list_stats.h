/**
 * @file list_stats.h
 * @brief The CPU-bound part of the hybrid lesson: a JSON list of numbers in, exact figures out.
 *
 * The tutorial's cpu_intensive_task(data) takes the list a JSON API sent and computes
 * `np.sum(array ** 2) + np.mean(array) * np.std(array)`. list_stats_from_json() takes the HTTP
 * body itself (`{"data": [n, ...]}`, the local server's /numbers/N), parses it with cJSON, and
 * computes the count, the sum of squares, the mean and the standard deviation (of the whole
 * population, as np.std does by default).
 *
 * Most of the work is the parsing: cJSON builds a node for every number, about 60 ns apiece
 * here once the memory is there (five times that in a fresh process, which takes a page fault
 * for every new 4 KiB it touches). That is CPU work like any other, so it belongs in the worker
 * too. (Python's `await response.json()` parses in the loop's thread: with big answers, that
 * alone stalls the loop.)
 *
 * Exact, because C's integers do not grow as Python's do: the numbers must be whole, with
 * |x| < 2^32, so that each square fits in 64 bits; the sums are 128-bit; and the variance is
 * computed from exact integers, (n * sum(x^2) - sum(x)^2) / n^2, rounded once at the end, not
 * by subtracting two large, nearly equal doubles.
 *
 * In a file of its own, so that the workers and the parent's sequential check run this one
 * compiled function (no caller can inline its own copy).
 */
#ifndef LIST_STATS_H
#define LIST_STATS_H

#include "../../../harness/sums/sums.h" /* u128, u128_text */

#include <stddef.h>
#include <stdint.h>

typedef __int128 i128; /**< signed, for the sum of numbers that may be negative */

/** What one list gives. Sent from a worker as raw bytes: no pointers. */
struct list_stats {
    uint64_t count;      /**< numbers in the list */
    u128 sum_of_squares; /**< exact */
    i128 sum;            /**< exact */
    double mean, std;    /**< std: population standard deviation, as np.std() */
    char error[120];     /**< empty when the list was good; else why not (count is 0 then) */
};

/** Parse @p size bytes of @p json and compute the list's figures into @p stats (every byte of
 *  which is set, padding included, so two results can be compared with memcmp). */
void list_stats_from_json(const char *json, size_t size, struct list_stats *stats);

/** The same, as the executor's work function (ex_work_fn): @p output gets a struct
 *  list_stats's bytes. */
void list_stats_work(const void *input, size_t size, void *output);

/** The signed 128-bit @p value in decimal, in @p text; returns where the digits start. */
const char *i128_text(i128 value, char text[41]);

#endif /* LIST_STATS_H */
