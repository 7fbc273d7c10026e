/**
 * @file request_values.h
 * @brief The numbers and query parameters in a request's path, read strictly.
 *
 * An endpoint's argument comes from the client: `/delay/0.5`, `/bytes/1000`, `?seed=7`. Each
 * reader here accepts one plain form and nothing else (no sign, no spaces, no exponent, no
 * hex, no inf or nan, no trailing bytes), checks the range, and reads nothing past the text it
 * is given (a struct http_text points into the server's buffer and is not NUL-terminated).
 * lib/endpoints.c answers 400 when one of them says no.
 */
#ifndef REQUEST_VALUES_H
#define REQUEST_VALUES_H

#include "http_parser.h"

#include <stdbool.h>

/** All of @p text as a whole number of at most 9 digits, within [@p min, @p max]. */
bool request_whole_number(struct http_text text, long min, long max, long *value);

/** Seconds as digits with at most one '.', e.g. 0.5 or 2, from 0 to @p max. */
bool request_seconds(struct http_text text, double max, double *value);

/** The value of query parameter @p name ("id" in "id=a&x=1"), as sent; false if absent. */
bool request_query_param(struct http_text query, const char *name, struct http_text *value);

#endif /* REQUEST_VALUES_H */
