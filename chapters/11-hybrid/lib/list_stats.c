/**
 * @file list_stats.c
 * @brief list_stats.h: cJSON, then exact integer sums, then the mean and standard deviation.
 */
#include "list_stats.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* 2^32: a whole number below this in size has a square below 2^64. */
static const double LIMIT = 4294967296.0;
/* With n <= 2^31 numbers of size below 2^32, n * sum(x^2) and sum(x)^2 stay below 2^126. */
static const uint64_t MAX_COUNT = (uint64_t)1 << 31;

static void fail(struct list_stats *stats, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fail(struct list_stats *stats, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(stats->error, sizeof stats->error, fmt, args);
    va_end(args);
    stats->count = 0;
    stats->sum_of_squares = 0;
    stats->sum = 0;
}

/* Sum x and x^2 over the list, exactly. Returns 0, or -1 after fail(). */
static int sum_list(const cJSON *list, struct list_stats *stats)
{
    uint64_t count = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, list)
    {
        if (!cJSON_IsNumber(item)) {
            fail(stats, "item %llu of \"data\" is not a number", (unsigned long long)count);
            return -1;
        }
        double value = item->valuedouble; /* cJSON keeps every number as a double */
        if (!(fabs(value) < LIMIT) || value != trunc(value)) {
            fail(stats, "item %llu of \"data\" (%g) is not a whole number below 2^32 in size",
                 (unsigned long long)count, value);
            return -1;
        }
        if (count == MAX_COUNT) {
            fail(stats, "more than 2^31 numbers");
            return -1;
        }
        int64_t x = (int64_t)value;
        uint64_t size = (uint64_t)(x < 0 ? -x : x); /* below 2^32 */
        stats->sum += x;
        stats->sum_of_squares += size * size; /* below 2^64, in unsigned 64-bit arithmetic */
        count++;
    }
    stats->count = count;
    return 0;
}

void list_stats_from_json(const char *json, size_t size, struct list_stats *stats)
{
    memset(stats, 0, sizeof *stats); /* padding too: results are compared byte for byte */
    if (size == 0) {
        fail(stats, "an empty answer, not JSON");
        return;
    }
    const char *stopped = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, size, &stopped, 0);
    if (root == NULL) {
        fail(stats, "not JSON (cJSON stopped at byte %zu of %zu)",
             stopped != NULL && stopped >= json ? (size_t)(stopped - json) : (size_t)0, size);
        return;
    }
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!cJSON_IsArray(list))
        fail(stats, "no \"data\" list in the JSON");
    else if (sum_list(list, stats) == 0 && stats->count == 0)
        fail(stats, "the \"data\" list is empty: no mean");
    cJSON_Delete(root);
    if (stats->error[0] != '\0')
        return;
    /* Variance = (n * sum(x^2) - sum(x)^2) / n^2: the numerator is an exact integer (never
     * negative, by Cauchy-Schwarz), converted to double once. */
    u128 n = stats->count;
    u128 square_of_sum = (u128)(stats->sum < 0 ? -stats->sum : stats->sum);
    square_of_sum *= square_of_sum;
    u128 numerator = n * stats->sum_of_squares - square_of_sum;
    double count = (double)stats->count;
    stats->mean = (double)stats->sum / count;
    stats->std = sqrt((double)numerator) / count;
}

void list_stats_work(const void *input, size_t size, void *output)
{
    struct list_stats stats; /* output need not be aligned for a struct: copy its bytes */
    list_stats_from_json(input, size, &stats);
    memcpy(output, &stats, sizeof stats);
}

const char *i128_text(i128 value, char text[41])
{
    u128 magnitude = value < 0 ? -(u128)value : (u128)value;
    char *digits = (char *)u128_text(magnitude, text + 1); /* 39 digits at most, after a sign */
    if (value < 0)
        *--digits = '-';
    return digits;
}
