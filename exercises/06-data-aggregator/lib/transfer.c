/**
 * @file transfer.c
 * @brief Given: one transfer's plumbing: a body buffer, the easy handle's options, one blocking
 *        attempt, and exercise 05's rule for what is worth retrying.
 *
 * Chapter 10 teaches these calls; here they are done once for every method. A body grows as
 * curl hands it over (CURLOPT_WRITEFUNCTION may be called many times per transfer); every
 * transfer has a timeout, from connecting to the last byte, so nothing hangs.
 */
#include "methods.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void agg_body_free(struct agg_body *body)
{
    free(body->data);
    *body = (struct agg_body){0};
}

/* CURLOPT_WRITEFUNCTION: append to the body, doubling its room as needed. Returning less than
 * size * count (out of memory) makes curl end the transfer with CURLE_WRITE_ERROR. */
static size_t append_body(char *data, size_t size, size_t count, void *userdata)
{
    struct agg_body *body = userdata;
    size_t add = size * count;
    if (body->size + add > body->capacity) {
        size_t capacity = body->capacity > 0 ? body->capacity : 4096;
        while (capacity < body->size + add)
            capacity *= 2;
        char *grown = realloc(body->data, capacity);
        if (grown == NULL)
            return 0;
        body->data = grown;
        body->capacity = capacity;
    }
    memcpy(body->data + body->size, data, add);
    body->size += add;
    return add;
}

CURL *agg_easy_new(const char *url, double timeout, struct agg_body *body)
{
    body->size = 0;
    CURL *easy = curl_easy_init();
    if (easy == NULL)
        return NULL;
    bool set = curl_easy_setopt(easy, CURLOPT_URL, url) == CURLE_OK &&
               curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_body) == CURLE_OK &&
               curl_easy_setopt(easy, CURLOPT_WRITEDATA, body) == CURLE_OK &&
               curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)ceil(timeout * 1000)) == CURLE_OK &&
               curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
               curl_easy_setopt(easy, CURLOPT_USERAGENT, "concurrency-in-c/aggregator") == CURLE_OK;
    if (!set) {
        curl_easy_cleanup(easy);
        return NULL;
    }
    return easy;
}

void agg_record(CURL *easy, CURLcode code, struct agg_source *source)
{
    long status = 0;
    double seconds = 0;
    if (code != CURLE_OK || curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
        status = 0;
    if (curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &seconds) != CURLE_OK)
        seconds = 0;
    source->status = status;
    source->fetch_seconds = seconds;
}

CURLcode agg_fetch_once(struct agg_source *source, const struct agg_options *options,
                        struct agg_body *body)
{
    source->attempts++;
    CURL *easy = agg_easy_new(source->url, agg_timeout(options), body);
    if (easy == NULL) {
        source->status = 0;
        return CURLE_OUT_OF_MEMORY;
    }
    CURLcode code = curl_easy_perform(easy); /* blocks this thread until the transfer ends */
    agg_record(easy, code, source);
    curl_easy_cleanup(easy);
    return code;
}

bool agg_answer_ok(CURLcode code, long status)
{
    return code == CURLE_OK && status >= 200 && status < 300;
}

bool agg_worth_retrying(CURLcode code, long status)
{
    switch (code) {
    case CURLE_OK: return status >= 500;
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR: return true;
    default: return false;
    }
}

double agg_timeout(const struct agg_options *options)
{
    return options->timeout > 0 ? options->timeout : 10;
}

double agg_retry_delay(const struct agg_options *options, int attempts)
{
    return options->backoff * pow(2, attempts - 1);
}
