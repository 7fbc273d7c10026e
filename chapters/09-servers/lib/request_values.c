/**
 * @file request_values.c
 * @brief request_values.h: strict whole numbers, seconds and query parameters.
 */
#include "request_values.h"

#include <stdlib.h>
#include <string.h>

bool request_whole_number(struct http_text text, long min, long max, long *value)
{
    if (text.len == 0 || text.len > 9)
        return false;
    long v = 0;
    for (size_t i = 0; i < text.len; i++) {
        if (text.start[i] < '0' || text.start[i] > '9')
            return false;
        v = v * 10 + (text.start[i] - '0');
    }
    *value = v;
    return v >= min && v <= max;
}

bool request_seconds(struct http_text text, double max, double *value)
{
    char digits[32];
    size_t dots = 0;
    if (text.len == 0 || text.len >= sizeof digits)
        return false;
    for (size_t i = 0; i < text.len; i++) {
        if (text.start[i] == '.')
            dots++;
        else if (text.start[i] < '0' || text.start[i] > '9')
            return false;
    }
    if (dots > 1 || text.len == dots)
        return false;
    memcpy(digits, text.start, text.len); /* strtod wants a C string */
    digits[text.len] = '\0';
    *value = strtod(digits, NULL);
    return *value <= max;
}

bool request_query_param(struct http_text query, const char *name, struct http_text *value)
{
    size_t name_len = strlen(name);
    const char *p = query.start, *end = query.start + query.len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *item_end = amp ? amp : end;
        if ((size_t)(item_end - p) > name_len && memcmp(p, name, name_len) == 0 &&
            p[name_len] == '=') {
            *value = (struct http_text){p + name_len + 1, (size_t)(item_end - p - name_len - 1)};
            return true;
        }
        p = item_end + 1;
    }
    return false;
}
