/**
 * @file http_parser_fuzz.c
 * @brief libFuzzer target for chapter 09's request parser and endpoints: `make fuzz`.
 *
 * libFuzzer calls LLVMFuzzerTestOneInput() millions of times with bytes it mutates towards new
 * code paths, under AddressSanitizer and UndefinedBehaviorSanitizer: any read past the buffer,
 * any undefined operation, any failed check below is a crash it saves as a reproducer
 * (build/fuzz/crash-*; rerun with `build/fuzz/http_parser_fuzz FILE`). Beyond "does not
 * crash", it checks what the servers rely on:
 *
 * - COMPLETE: the head lies inside the bytes given; the method is a token and the target a
 *   path; parsing exactly the head gives the same answer, and one byte less gives INCOMPLETE.
 * - INCOMPLETE: the bytes are shorter than HTTP_MAX_HEAD, and any shorter prefix is
 *   INCOMPLETE too (a server may parse each time more arrives).
 * - ERROR: the status is 400, 414, 431 or 505 with a reason; 414 and 431 only once the
 *   limit is reached; more bytes never turn an error into a request.
 * - A complete request routed to the endpoints gives a response whose JSON body (echoing the
 *   client's headers, say) is valid JSON: cJSON parses it back. A body made in pieces
 *   (/numbers/N) has exactly the length its head announced.
 */
#include "../lib/endpoints.h"
#include "../lib/http_parser.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(condition)                                                                           \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "check failed: %s [%s:%d]\n", #condition, __FILE__, __LINE__);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static bool inside(struct http_text text, const char *start, size_t len)
{
    return text.start >= start && text.start + text.len <= start + len;
}

static void check_complete(const char *bytes, size_t size, const struct http_request *request)
{
    CHECK(request->head_len > 0 && request->head_len <= size && request->head_len <= HTTP_MAX_HEAD);
    CHECK(inside(request->method, bytes, request->head_len) && request->method.len > 0);
    CHECK(inside(request->target, bytes, request->head_len) && request->target.len > 0);
    CHECK(request->target.start[0] == '/' || http_text_is(request->target, "*"));
    CHECK(request->path.len + (request->query.len ? request->query.len + 1 : 0) <=
          request->target.len);
    CHECK(request->version_minor == 0 || request->version_minor == 1);
    CHECK(request->header_count <= HTTP_MAX_HEADERS);
    for (size_t i = 0; i < request->header_count; i++)
        CHECK(inside(request->headers[i].name, bytes, request->head_len) &&
              inside(request->headers[i].value, bytes, request->head_len) &&
              request->headers[i].name.len > 0);
    struct http_request again;
    CHECK(http_parse_request(bytes, request->head_len, &again) == HTTP_COMPLETE &&
          again.head_len == request->head_len);
    CHECK(http_parse_request(bytes, request->head_len - 1, &again) == HTTP_INCOMPLETE);
}

/* The whole body of @p response, gathered piece by piece as a server sends it (a maker must
 * stop exactly at the length the head announced), or NULL if it is over @p max. */
static char *whole_body(struct http_response *response, size_t max)
{
    if (response->body_len > max)
        return NULL;
    char *body = malloc(response->body_len + 1);
    CHECK(body != NULL);
    for (size_t at = 0; at < response->body_len;) {
        CHECK(http_body_piece_at(response, at));
        size_t in_piece = at - response->piece_start, n = response->piece_len - in_piece;
        memcpy(body + at, response->body + in_piece, n);
        at += n;
    }
    CHECK(response->maker.make == NULL || !http_body_piece_at(response, response->body_len));
    return body;
}

/* Route the request and check the JSON it would send back. */
static void check_response(struct server_state *state, const struct http_request *request)
{
    struct http_response response;
    if (route_request(state, request, "127.0.0.1", &response) != 0) {
        http_response_free(&response);
        return; /* out of memory: not a finding */
    }
    char head[HTTP_RESPONSE_HEAD_MAX];
    size_t head_len =
        http_render_head(&response, request->keep_alive, request->version_minor, head);
    CHECK(head_len > 0 && head_len < HTTP_RESPONSE_HEAD_MAX && memcmp(head, "HTTP/1.", 7) == 0);
    char *body = NULL;
    if (response.content_type && strcmp(response.content_type, "application/json") == 0 &&
        (body = whole_body(&response, 100000)) != NULL) {
        cJSON *parsed = cJSON_ParseWithLength(body, response.body_len);
        if (parsed == NULL)
            fprintf(stderr, "not JSON: %.*s\n", (int)response.body_len, body);
        CHECK(parsed != NULL);
        cJSON_Delete(parsed);
    }
    free(body);
    http_response_free(&response);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct server_state state;
    static bool initialised;
    if (!initialised) {
        CHECK(server_state_init(&state) == 0);
        initialised = true;
    }
    /* A copy of exactly @p size bytes on the heap: ASan catches a read one byte past it. */
    char *bytes = malloc(size + 4);
    CHECK(bytes != NULL);
    memcpy(bytes, data, size);
    struct http_request request;
    enum http_parse_result result = http_parse_request(bytes, size, &request);
    if (result == HTTP_COMPLETE) {
        check_complete(bytes, size, &request);
        check_response(&state, &request);
    } else if (result == HTTP_INCOMPLETE) {
        struct http_request prefix;
        CHECK(size < HTTP_MAX_HEAD);
        CHECK(http_parse_request(bytes, size / 2, &prefix) == HTTP_INCOMPLETE);
    } else {
        CHECK(result == HTTP_ERROR && request.error_reason != NULL);
        int s = request.error_status;
        CHECK(s == 400 || s == 414 || s == 431 || s == 505);
        CHECK(s != 414 || size >= HTTP_MAX_HEAD);
        CHECK(s != 431 || size >= HTTP_MAX_HEAD ||
              strcmp(request.error_reason, "too many header lines") == 0);
        if (size < HTTP_MAX_HEAD) { /* more bytes never make it a request */
            memcpy(bytes + size, "\r\n\r\n", 4);
            struct http_request longer;
            CHECK(http_parse_request(bytes, size + 4, &longer) == HTTP_ERROR);
        }
    }
    free(bytes);
    return 0;
}
