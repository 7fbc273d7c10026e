/**
 * @file fetch_all.c
 * @brief Exercise 05, solved: N URLs, at most K in flight, retries with backoff, on curl multi.
 *
 * One multi handle, driven by curl's classic loop (multi-app.c): curl_multi_perform() moves
 * every transfer on, curl_multi_info_read() says which ended, curl_multi_poll() sleeps until a
 * socket is ready or the next retry is due. Before each sleep the free slots are refilled:
 * first a retry that is due, then the next fresh URL, so at most K are in flight and, while
 * URLs wait, exactly K. A URL waiting for its retry holds no slot: it only has a due time,
 * which shortens the sleep when a slot is free. Every easy handle is removed from the multi
 * and cleaned up when its transfer ends; the multi is cleaned up before returning, which
 * closes the connections it kept for reuse.
 */
#include "fetch_all.h"
#include "kit.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* One URL: its attempt in flight, or when its retry may start. */
struct transfer {
    const char *url;
    struct fetch_outcome *outcome;
    CURL *easy;      /* the attempt in flight; NULL when none */
    bool waiting;    /* a retry is scheduled ... */
    double retry_at; /* ... for this time (kit_now()) */
};

/* The server was not there, too slow, hung up, or said "my fault" (5xx): worth another try. */
static bool worth_retrying(const struct fetch_outcome *outcome)
{
    switch (outcome->code) {
    case CURLE_OK: return outcome->status >= 500;
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR: return true;
    default: return false;
    }
}

/* CURLOPT_WRITEFUNCTION: count the body's bytes; returning less would abort the transfer. */
static size_t count_bytes(char *data, size_t size, size_t count, void *userdata)
{
    (void)data;
    struct fetch_outcome *outcome = userdata;
    outcome->bytes += (long)(size * count);
    return size * count;
}

/* Start one attempt of @p t. False if it could not even start (the outcome says why). */
static bool start_attempt(CURLM *multi, struct transfer *t, const struct fetch_settings *settings)
{
    struct fetch_outcome *outcome = t->outcome;
    outcome->attempts++;
    outcome->code = CURLE_OK;
    outcome->status = 0;
    outcome->bytes = 0;
    t->waiting = false;
    CURL *easy = curl_easy_init();
    if (easy == NULL) {
        outcome->code = CURLE_OUT_OF_MEMORY;
        return false;
    }
    CURLcode code = CURLE_OK;
    const long timeout_ms = (long)ceil(settings->timeout * 1000);
    if (code == CURLE_OK)
        code = curl_easy_setopt(easy, CURLOPT_URL, t->url);
    if (code == CURLE_OK)
        code = curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, count_bytes);
    if (code == CURLE_OK)
        code = curl_easy_setopt(easy, CURLOPT_WRITEDATA, outcome);
    if (code == CURLE_OK)
        code = curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
    if (code == CURLE_OK) /* the whole attempt, connect to last byte: /stall cannot hang us */
        code = curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    if (code == CURLE_OK)
        code = curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    if (code == CURLE_OK && curl_multi_add_handle(multi, easy) != CURLM_OK)
        code = CURLE_OUT_OF_MEMORY;
    if (code != CURLE_OK) {
        curl_easy_cleanup(easy);
        outcome->code = code;
        return false;
    }
    t->easy = easy;
    return true;
}

/* Read the transfers that ended: record each, release its handle, schedule a retry or count it
 * finished. Returns how many ended (each freed a slot). */
static int collect_ended(CURLM *multi, const struct fetch_settings *settings, size_t *finished)
{
    int ended = 0, left;
    for (CURLMsg *msg; (msg = curl_multi_info_read(multi, &left)) != NULL;) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result; /* read before remove: msg goes with the handle */
        struct transfer *t = NULL;
        if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t) != CURLE_OK || t == NULL)
            kit_die("curl_easy_getinfo(CURLINFO_PRIVATE) failed"); /* set on every handle */
        t->outcome->code = code;
        if (curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &t->outcome->status) != CURLE_OK)
            t->outcome->status = 0;
        if (curl_multi_remove_handle(multi, easy) != CURLM_OK)
            kit_die("curl_multi_remove_handle failed"); /* only for a handle not in the multi */
        curl_easy_cleanup(easy);
        t->easy = NULL;
        ended++;
        if (worth_retrying(t->outcome) && t->outcome->attempts <= settings->retries) {
            t->waiting = true; /* 1st retry after backoff, 2nd after 2 x backoff, ... */
            t->retry_at = kit_now() + settings->backoff * pow(2, t->outcome->attempts - 1);
        } else {
            ++*finished;
        }
    }
    return ended;
}

/* The waiting URL whose retry is due first, or NULL. O(n): fine for a few hundred URLs. */
static struct transfer *next_retry(struct transfer transfers[], size_t count)
{
    struct transfer *first = NULL;
    for (size_t i = 0; i < count; i++)
        if (transfers[i].waiting && (first == NULL || transfers[i].retry_at < first->retry_at))
            first = &transfers[i];
    return first;
}

/* Remove and free every attempt still in flight, then the multi (after a multi error). */
static void release_all(CURLM *multi, struct transfer transfers[], size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (transfers[i].easy != NULL) {
            curl_multi_remove_handle(multi, transfers[i].easy);
            curl_easy_cleanup(transfers[i].easy);
            transfers[i].easy = NULL;
        }
    curl_multi_cleanup(multi);
}

int fetch_all(const char *const urls[], size_t count, const struct fetch_settings *settings,
              struct fetch_outcome outcomes[])
{
    if (settings->max_in_flight < 1 || settings->retries < 0 || !(settings->timeout > 0)) {
        errno = EINVAL;
        return -1;
    }
    struct transfer *transfers = calloc(count > 0 ? count : 1, sizeof transfers[0]);
    CURLM *multi = curl_multi_init();
    if (transfers == NULL || multi == NULL) {
        free(transfers);
        if (multi != NULL)
            curl_multi_cleanup(multi);
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        outcomes[i] = (struct fetch_outcome){0};
        transfers[i] = (struct transfer){.url = urls[i], .outcome = &outcomes[i]};
    }

    size_t fresh = 0, finished = 0; /* fresh: the next URL never started */
    int in_flight = 0;
    while (finished < count) {
        /* Refill the free slots: a retry that is due first, then the next fresh URL. */
        while (in_flight < settings->max_in_flight) {
            struct transfer *retry = next_retry(transfers, count), *t;
            if (retry != NULL && retry->retry_at <= kit_now())
                t = retry;
            else if (fresh < count)
                t = &transfers[fresh++];
            else
                break;
            if (start_attempt(multi, t, settings))
                in_flight++;
            else
                finished++; /* could not start: a final failure, said in its outcome */
        }
        if (finished == count)
            break;
        int running;
        if (curl_multi_perform(multi, &running) != CURLM_OK)
            break;
        int ended = collect_ended(multi, settings, &finished);
        in_flight -= ended;
        if (ended > 0)
            continue; /* refill the freed slots before sleeping */
        /* Sleep until a socket is ready or a transfer's own timer (curl shortens the wait for
         * those), or, with a slot free, until the next retry is due. */
        int wait_ms = 1000;
        struct transfer *retry = next_retry(transfers, count);
        if (in_flight < settings->max_in_flight && retry != NULL)
            wait_ms = (int)fmax(0, fmin(1000, ceil((retry->retry_at - kit_now()) * 1000)));
        if (wait_ms > 0 && curl_multi_poll(multi, NULL, 0, wait_ms, NULL) != CURLM_OK)
            break;
    }
    release_all(multi, transfers, count);
    free(transfers);
    if (finished < count) { /* the loop broke on a multi error: curl is in trouble */
        errno = EIO;
        return -1;
    }
    int failed = 0;
    for (size_t i = 0; i < count; i++)
        if (outcomes[i].code != CURLE_OK || outcomes[i].status >= 400)
            failed++;
    return failed;
}
