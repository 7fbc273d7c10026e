/**
 * @file response_body.h
 * @brief Filling a response's body: JSON through cJSON, with a client's text made valid UTF-8
 *        first, or text of the server's own through printf.
 *
 * The one rule of lib/endpoints.c, kept here: text a client sent (a header, the user agent,
 * /flaky's id) only ever reaches a body through json_add_client_text(), so cJSON escapes it;
 * printf formats only the server's own numbers and words. cJSON copies bytes >= 0x80 as they
 * are, so a client's bytes that are not valid UTF-8 (an overlong form, a surrogate, a lone
 * continuation byte) are replaced by U+FFFD before cJSON sees them: the answer is always valid
 * JSON, which the fuzz target (fuzz/http_parser_fuzz.c) checks.
 *
 * Every function that allocates returns false when out of memory, leaving @p response as it
 * was, so an endpoint can answer 500 instead.
 */
#ifndef RESPONSE_BODY_H
#define RESPONSE_BODY_H

#include "endpoints.h"
#include "http_parser.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/** Set @p response's status, content type and body (@p owned: malloc'ed, freed with it). */
void response_set_body(struct http_response *response, int status, const char *type,
                       const char *body, size_t len, bool owned);

/** A 200 answer of @p len bytes of @p type, made by @p maker one piece at a time as it is
 *  sent (the piece's buffer is allocated here, freed with the response). */
bool response_made_in_pieces(struct http_response *response, const char *type, size_t len,
                             const struct body_maker *maker);

/** Print @p object as the JSON body of @p response, and free it (also on failure). */
bool response_json(struct http_response *response, int status, cJSON *object);

/** A body of the server's own, printf-style (never a client's text). */
bool response_printf(struct http_response *response, int status, const char *type, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));

/** Add the client's @p text to @p object under @p key: made valid UTF-8, escaped by cJSON. */
bool json_add_client_text(cJSON *object, const char *key, struct http_text text);

#endif /* RESPONSE_BODY_H */
