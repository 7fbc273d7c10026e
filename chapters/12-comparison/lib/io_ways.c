/**
 * @file io_ways.c
 * @brief io_ways.h: the three ways to wait, each on an earlier lesson's code.
 */
#include "io_ways.h"

#include "../../06-pools/lib/thread_pool.h"
#include "../../10-async-http/lib/curl_loop.h"
#include "kit.h"

#include <stdlib.h>

/* One blocking transfer (requests.get): what one after another and every thread run. */
static int fetch_one(void *arg, long *bytes)
{
    struct transfer *transfer = arg;
    CURL *easy = fetch_easy_new(&transfer->result, transfer->timeout);
    transfer->started = kit_now();
    fetch_record(easy, &transfer->result, curl_easy_perform(easy));
    transfer->ended = kit_now();
    curl_easy_cleanup(easy);
    *bytes = (long)transfer->result.bytes;
    return 0;
}

/* The event loop's way: called as each transfer ends. */
static void on_transfer_done(CURL *easy, CURLcode code, void *data)
{
    (void)data;
    struct transfer *transfer;
    FETCH_CHECK_EASY(curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&transfer));
    fetch_record(easy, &transfer->result, code);
    transfer->ended = kit_now();
}

void wait_run(enum wait_way way, struct transfer transfers[], size_t count)
{
    long *bytes = calloc(count, sizeof *bytes);
    CURL **easies = calloc(count, sizeof *easies);
    if (bytes == NULL || easies == NULL)
        kit_die_errno("calloc for %zu transfers", count);
    if (way == WAIT_ONE_BY_ONE) {
        for (size_t i = 0; i < count; i++)
            fetch_one(&transfers[i], &bytes[i]);
    } else if (way == WAIT_ON_THREADS) {
        struct tp_pool *pool = tp_create((int)count); /* a thread per transfer */
        if (tp_map(pool, fetch_one, transfers, sizeof transfers[0], count, bytes) != 0)
            kit_die("tp_map: a transfer task failed"); /* fetch_one reports in its result */
        tp_shutdown(pool);
    } else {
        double now = kit_now(); /* added together, they all start on the loop's first round */
        for (size_t i = 0; i < count; i++) {
            easies[i] = fetch_easy_new(&transfers[i].result, transfers[i].timeout);
            transfers[i].started = now;
        }
        curl_loop_run_all(easies, count, on_transfer_done, NULL);
        for (size_t i = 0; i < count; i++)
            curl_easy_cleanup(easies[i]);
    }
    free(easies);
    free(bytes);
}

/* At each transfer's start, how many had begun and not yet ended. O(n^2): n is small. */
int wait_peak_in_flight(const struct transfer transfers[], size_t count)
{
    int peak = 0;
    for (size_t i = 0; i < count; i++) {
        double moment = transfers[i].started;
        int in_flight = 0;
        for (size_t j = 0; j < count; j++)
            in_flight += transfers[j].started <= moment && moment < transfers[j].ended;
        peak = in_flight > peak ? in_flight : peak;
    }
    return peak;
}

size_t wait_print_failures(const char *name, const struct transfer transfers[], size_t count,
                           size_t shown)
{
    size_t failed = 0;
    for (size_t i = 0; i < count; i++) {
        if (!fetch_succeeded(&transfers[i].result) && failed++ < shown) {
            printf("%s: ", name);
            fetch_print(&transfers[i].result, false);
        }
    }
    if (failed > shown)
        printf("%s: ... and %zu more transfers failed\n", name, failed - shown);
    return failed;
}
