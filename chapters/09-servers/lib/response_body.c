/**
 * @file response_body.c
 * @brief response_body.h: bodies as JSON (cJSON, client text made valid UTF-8) or printf text.
 */
#define _GNU_SOURCE /* asprintf, vasprintf */
#include "response_body.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void response_set_body(struct http_response *response, int status, const char *type,
                       const char *body, size_t len, bool owned)
{
    response->status = status;
    response->content_type = type;
    response->body = body;
    response->body_len = response->piece_len = len; /* one piece: the whole body */
    response->piece_start = 0;
    response->maker.make = NULL;
    response->body_owned = owned;
}

bool response_made_in_pieces(struct http_response *response, const char *type, size_t len,
                             const struct body_maker *maker)
{
    char *piece = malloc(HTTP_BODY_PIECE);
    if (piece == NULL)
        return false;
    response_set_body(response, 200, type, piece, len, true);
    response->piece_len = 0; /* nothing made yet: the first piece is made when it is sent */
    response->maker = *maker;
    return true;
}

void error_response(struct http_response *response, int status, const char *reason)
{
    static const char out_of_memory[] = "{\"error\": \"out of memory\"}\n";
    char *body = NULL; /* reason is our own text, never the client's: no escaping needed */
    int len = asprintf(&body, "{\"error\": \"%s\"}\n", reason);
    http_response_free(response);
    if (len < 0)
        response_set_body(response, status, "application/json", out_of_memory,
                          sizeof out_of_memory - 1, false);
    else
        response_set_body(response, status, "application/json", body, (size_t)len, true);
    response->close = true;
}

bool response_json(struct http_response *response, int status, cJSON *object)
{
    char *text = object ? cJSON_PrintUnformatted(object) : NULL;
    cJSON_Delete(object);
    if (text == NULL)
        return false;
    response_set_body(response, status, "application/json", text, strlen(text), true);
    return true;
}

bool response_printf(struct http_response *response, int status, const char *type, const char *fmt,
                     ...)
{
    va_list args;
    va_start(args, fmt);
    char *text = NULL;
    int len = vasprintf(&text, fmt, args);
    va_end(args);
    if (len < 0)
        return false;
    response_set_body(response, status, type, text, (size_t)len, true);
    return true;
}

/* A NUL-terminated copy of @p text in which every byte sequence that is not valid UTF-8
 * becomes U+FFFD, so that cJSON (which copies bytes >= 0x80 as they are) prints valid JSON. */
static char *utf8_copy(struct http_text text)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    char *out = malloc(text.len * 3 + 1), *o = out;
    if (out == NULL)
        return NULL;
    const unsigned char *s = (const unsigned char *)text.start, *end = s + text.len;
    while (s < end) {
        size_t n = *s < 0x80             ? 1
                   : (*s & 0xE0) == 0xC0 ? 2
                   : (*s & 0xF0) == 0xE0 ? 3
                   : (*s & 0xF8) == 0xF0 ? 4
                                         : 0;
        bool valid = n > 0 && (size_t)(end - s) >= n;
        for (size_t i = 1; valid && i < n; i++)
            valid = (s[i] & 0xC0) == 0x80;
        if (valid && n > 1) { /* no overlong forms, surrogates or code points past U+10FFFF */
            uint32_t cp = n == 2 ? (s[0] & 0x1Fu) : n == 3 ? (s[0] & 0x0Fu) : (s[0] & 0x07u);
            for (size_t i = 1; i < n; i++)
                cp = cp << 6 | (s[i] & 0x3Fu);
            static const uint32_t lowest[] = {0, 0, 0x80, 0x800, 0x10000};
            valid = cp >= lowest[n] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
        }
        if (valid) {
            memcpy(o, s, n);
            o += n;
            s += n;
        } else {
            memcpy(o, replacement, 3);
            o += 3;
            s++;
        }
    }
    *o = '\0';
    return out;
}

bool json_add_client_text(cJSON *object, const char *key, struct http_text text)
{
    char *clean = utf8_copy(text);
    bool added = clean != NULL && cJSON_AddStringToObject(object, key, clean) != NULL;
    free(clean);
    return added;
}
