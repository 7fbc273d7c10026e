/**
 * @file io_ways.h
 * @brief Three ways to wait for N transfers: one after another, a thread each, one event loop.
 *
 * perf_compare's I/O-bound half, side by side in lib/io_ways.c, each way a few lines on an
 * earlier lesson:
 * - one after another: a blocking libcurl easy transfer at a time (chapter 10's
 *   fetch_sequential, `requests.get` in a loop);
 * - a thread each: the same blocking function, fetch_one(), on chapter 06's thread pool with a
 *   thread per transfer (`ThreadPoolExecutor(max_workers=N).map`);
 * - one event loop: every transfer at once in one thread, libcurl multi on chapter 08's loop
 *   (chapter 10's lib/curl_loop.c; `asyncio.gather` of aiohttp requests).
 * Each transfer records when it began and ended, on the kit's clock, so wait_peak_in_flight() can
 * tell whether the waits really overlapped; wait_print_failures() says which transfers failed.
 */
#ifndef IO_WAYS_H
#define IO_WAYS_H

#include "../../../harness/fetch/fetch.h"

#include <stddef.h>

/** The three ways, in the order perf_compare's table shows them. */
enum wait_way { WAIT_ONE_BY_ONE, WAIT_ON_THREADS, WAIT_ON_LOOP };

/** One transfer: set result.url, result.attempts = 1 and timeout; the rest is filled in. */
struct transfer {
    struct fetch_result result; /**< first: CURLINFO_PRIVATE points here, so at the transfer */
    double timeout;             /**< seconds for the whole transfer */
    double started, ended;      /**< kit_now() when it was started and when it ended */
};

/** Run the @p count transfers the way @p way says; return when all have ended. A failed
 *  transfer is only recorded (fetch_succeeded() says which). */
void wait_run(enum wait_way way, struct transfer transfers[], size_t count);

/** The most transfers that were in flight at one moment: 1 means the waits never overlapped. */
int wait_peak_in_flight(const struct transfer transfers[], size_t count);

/** Print the first @p shown failed transfers, each as fetch_print()'s line after "@p name: ",
 *  then how many more failed, if any. Returns how many failed. */
size_t wait_print_failures(const char *name, const struct transfer transfers[], size_t count,
                           size_t shown);

#endif /* IO_WAYS_H */
