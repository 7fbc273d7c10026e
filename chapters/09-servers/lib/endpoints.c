/**
 * @file endpoints.c
 * @brief The endpoints of endpoints.h: one small function each, and a table that routes to them.
 *
 * Each endpoint reads its argument strictly (lib/request_values.c: digits only, within a
 * range) and answers 400 otherwise; fills the body through lib/response_body.c, where a
 * client's text only ever reaches JSON through cJSON; and returns false only when out of
 * memory. /flaky's memory of ids is lib/flaky_ids.c, and putting a decided response on the
 * wire is lib/http_response.c: what is left here is what each endpoint answers.
 */
#define _GNU_SOURCE /* getrandom */
#include "endpoints.h"

#include "flaky_ids.h"
#include "request_values.h"
#include "response_body.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

enum {
    MAX_DELAY_S = 60,
    MAX_BYTES = 10 * 1024 * 1024,
    MAX_NUMBERS = 1000000,
    MAX_FLAKY_FAILURES = 1000,
    MAX_ID_LEN = 127,
    MAX_NEWS = 1000000
};

/* The same bytes every time: make bench serves a copy of them from nginx. */
static const char json_document[] =
    "{\"slideshow\": {\"author\": \"Yours Truly\", \"date\": \"date of publication\", "
    "\"slides\": [{\"title\": \"Wake up to WonderWidgets!\", \"type\": \"all\"}, "
    "{\"items\": [\"Why <em>WonderWidgets</em> are great\", \"Who <em>buys</em> WonderWidgets\"], "
    "\"title\": \"Overview\", \"type\": \"all\"}], \"title\": \"Sample Slide Show\"}}\n";

static const char index_text[] =
    "The kit's local server (chapter 09). Endpoints, all GET or HEAD:\n"
    "  /json /uuid /user-agent /headers /ip   JSON documents\n"
    "  /delay/S          answer after S seconds (0 to 60, fractions allowed)\n"
    "  /status/CODE      answer with that status (200 to 599)\n"
    "  /bytes/N          N deterministic bytes (up to 10 MiB)\n"
    "  /numbers/N        {\"data\": [N numbers from 0 to 999]}, ?seed=K picks the list\n"
    "  /news/N           an HTML page with a <title>\n"
    "  /flaky/K?id=X     503 for the first K requests for id X, then 200\n"
    "  /stall            never answers\n"
    "  /stats            requests served, in flight now, most in flight at once\n"
    "  /stats/reset      the figures before the reset, then zero them and forget /flaky ids\n";

static const char *const headlines[] = {
    "Harbour bridge reopens after repairs",    "Library extends its opening hours",
    "Local team wins the regional final",      "New bus line links the two campuses",
    "Farmers market moves to the old station", "Council approves the bicycle plan",
    "Record crowd at the summer festival",     "School robotics club heads to the nationals",
};

/* ---- the endpoints: each returns false only when out of memory ----------------------------- */

struct route_args {
    struct server_state *state;
    const struct http_request *request;
    struct http_text rest; /* the path after the endpoint's prefix, e.g. "0.5" for /delay/ */
    const char *client_ip;
};

static bool get_json(struct http_response *r, const struct route_args *a)
{
    (void)a;
    response_set_body(r, 200, "application/json", json_document, sizeof json_document - 1, false);
    return true;
}

static bool get_uuid(struct http_response *r, const struct route_args *a)
{
    (void)a;
    static _Thread_local uint64_t state; /* xorshift64*, seeded once per thread */
    while (state == 0 && getrandom(&state, sizeof state, 0) != sizeof state)
        ;
    unsigned char b[16];
    for (int i = 0; i < 16; i += 8) {
        state ^= state >> 12, state ^= state << 25, state ^= state >> 27;
        uint64_t x = state * 0x2545F4914F6CDD1DULL;
        memcpy(b + i, &x, 8);
    }
    b[6] = (b[6] & 0x0F) | 0x40; /* version 4: random */
    b[8] = (b[8] & 0x3F) | 0x80; /* the RFC 4122 variant */
    return response_printf(r, 200, "application/json",
                           "{\"uuid\": \"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                           "%02x%02x%02x%02x%02x%02x\"}\n",
                           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
                           b[12], b[13], b[14], b[15]);
}

static bool get_user_agent(struct http_response *r, const struct route_args *a)
{
    const struct http_text *agent = http_find_header(a->request, "user-agent");
    cJSON *object = cJSON_CreateObject();
    if (object &&
        !json_add_client_text(object, "user-agent", agent ? *agent : (struct http_text){"", 0})) {
        cJSON_Delete(object);
        return false;
    }
    return response_json(r, 200, object);
}

/* Add one header line to @p headers; a repeated name gets its values joined with ", ", as
 * HTTP allows. False on ENOMEM. */
static bool add_header(cJSON *headers, const struct http_header *h)
{
    char name[HTTP_MAX_HEAD + 1]; /* a token: plain ASCII, safe as a C string */
    memcpy(name, h->name.start, h->name.len);
    name[h->name.len] = '\0';
    const char *before = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(headers, name));
    if (before == NULL)
        return json_add_client_text(headers, name, h->value);
    size_t before_len = strlen(before);
    char *joined = malloc(before_len + 2 + h->value.len);
    if (joined == NULL)
        return false;
    memcpy(joined, before, before_len);
    memcpy(joined + before_len, ", ", 2);
    memcpy(joined + before_len + 2, h->value.start, h->value.len);
    cJSON_DeleteItemFromObjectCaseSensitive(headers, name); /* frees before */
    bool added = json_add_client_text(headers, name,
                                      (struct http_text){joined, before_len + 2 + h->value.len});
    free(joined);
    return added;
}

static bool get_headers(struct http_response *r, const struct route_args *a)
{
    cJSON *object = cJSON_CreateObject();
    cJSON *headers = object ? cJSON_AddObjectToObject(object, "headers") : NULL;
    bool ok = headers != NULL;
    for (size_t i = 0; ok && i < a->request->header_count; i++)
        ok = add_header(headers, &a->request->headers[i]);
    if (!ok) {
        cJSON_Delete(object);
        return false;
    }
    return response_json(r, 200, object);
}

static bool get_ip(struct http_response *r, const struct route_args *a)
{
    cJSON *object = cJSON_CreateObject();
    if (object && cJSON_AddStringToObject(object, "origin", a->client_ip) == NULL) {
        cJSON_Delete(object);
        return false;
    }
    return response_json(r, 200, object);
}

static bool get_delay(struct http_response *r, const struct route_args *a)
{
    double seconds;
    if (!request_seconds(a->rest, MAX_DELAY_S, &seconds)) {
        error_response(r, 400, "/delay/S wants S seconds from 0 to 60, e.g. /delay/0.5");
        return true;
    }
    r->delayed = true;
    r->delay_seconds = seconds;
    return response_printf(r, 200, "application/json", "{\"delay\": %g}\n", seconds);
}

static bool get_status(struct http_response *r, const struct route_args *a)
{
    long code;
    if (!request_whole_number(a->rest, 200, 599, &code)) {
        error_response(r, 400, "/status/CODE wants a status code from 200 to 599");
        return true;
    }
    if (code == 204 || code == 304) { /* these two never have a body */
        response_set_body(r, (int)code, NULL, NULL, 0, false);
        return true;
    }
    return response_printf(r, (int)code, "application/json", "{\"status\": %ld}\n", code);
}

/* /bytes/N's next piece: a fixed linear congruential stream, the same bytes every time. */
static size_t make_bytes(struct body_maker *m, char *piece, size_t cap)
{
    size_t len = 0;
    uint32_t x = (uint32_t)m->state;
    for (; m->made < m->count && len < cap; m->made++, len++) {
        x = x * 1103515245u + 12345u;
        piece[len] = (char)(unsigned char)(x >> 16);
    }
    m->state = x;
    return len;
}

static bool get_bytes(struct http_response *r, const struct route_args *a)
{
    long count;
    if (!request_whole_number(a->rest, 0, MAX_BYTES, &count)) {
        error_response(r, 400, "/bytes/N wants N from 0 to 10485760");
        return true;
    }
    struct body_maker maker = {.make = make_bytes, .state = 12345, .count = count};
    return response_made_in_pieces(r, "application/octet-stream", (size_t)count, &maker);
}

/* /numbers/N: a 64-bit LCG (Knuth's MMIX constants), number i = (x_i+1 >> 33) mod 1000; the
 * README gives it. */
static unsigned next_number(unsigned long long *x)
{
    *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((*x >> 33) % 1000);
}

static const char numbers_open[] = "{\"data\": [", numbers_close[] = "]}\n";

/* The length of /numbers/N's text, for Content-Length before any of it is made: the numbers'
 * digits, ", " between them, and the brackets. O(N), but no printing: 1.4 ms for a million
 * here, where printing them takes 127 ms. */
static size_t numbers_length(unsigned long long seed, long count)
{
    size_t len = sizeof numbers_open - 1 + sizeof numbers_close - 1 + 2 * (size_t)(count - !!count);
    for (long i = 0; i < count; i++) {
        unsigned number = next_number(&seed);
        len += 1 + (number >= 10) + (number >= 100);
    }
    return len;
}

/* /numbers/N's next piece: whole numbers only (", 999" is 5 bytes at most), the brackets at
 * either end (made counts the opening bracket as item -1 and the closing one as item N). */
static size_t make_numbers(struct body_maker *m, char *piece, size_t cap)
{
    size_t len = 0;
    if (m->made == -1) {
        len = (size_t)sprintf(piece, "%s", numbers_open);
        m->made = 0;
    }
    for (; m->made < m->count && len + 6 <= cap; m->made++) /* 5 and sprintf's NUL */
        len += (size_t)sprintf(piece + len, m->made ? ", %u" : "%u", next_number(&m->state));
    if (m->made == m->count && len + sizeof numbers_close <= cap) {
        len += (size_t)sprintf(piece + len, "%s", numbers_close);
        m->made++;
    }
    return len;
}

static bool get_numbers(struct http_response *r, const struct route_args *a)
{
    long count, seed = 1;
    struct http_text seed_text;
    if (!request_whole_number(a->rest, 0, MAX_NUMBERS, &count) ||
        (request_query_param(a->request->query, "seed", &seed_text) &&
         !request_whole_number(seed_text, 0, 999999999, &seed))) {
        error_response(r, 400, "/numbers/N wants N from 0 to 1000000 (and ?seed=K, K >= 0)");
        return true;
    }
    struct body_maker maker = {
        .make = make_numbers, .state = (unsigned long long)seed, .made = -1, .count = count};
    return response_made_in_pieces(r, "application/json", numbers_length(maker.state, count),
                                   &maker);
}

static bool get_news(struct http_response *r, const struct route_args *a)
{
    long n;
    if (!request_whole_number(a->rest, 0, MAX_NEWS, &n)) {
        error_response(r, 400, "/news/N wants N from 0 to 1000000");
        return true;
    }
    const char *headline = headlines[n % (long)(sizeof headlines / sizeof headlines[0])];
    return response_printf(r, 200, "text/html; charset=utf-8",
                           "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                           "<title>Local News %ld: %s</title></head>\n<body><h1>%s</h1>\n"
                           "<p>Story %ld of the kit's local news site, served on loopback.</p>\n"
                           "</body></html>\n",
                           n, headline, headline, n);
}

static bool get_flaky(struct http_response *r, const struct route_args *a)
{
    long failures;
    struct http_text id = {"", 0};
    request_query_param(a->request->query, "id", &id);
    if (!request_whole_number(a->rest, 0, MAX_FLAKY_FAILURES, &failures) || id.len > MAX_ID_LEN ||
        memchr(id.start, '\0', id.len) != NULL) {
        error_response(r, 400,
                       "/flaky/K?id=X wants K from 0 to 1000 and an id of 127 bytes at most");
        return true;
    }
    long attempt = flaky_count_request(a->state, id);
    cJSON *object = cJSON_CreateObject();
    bool ok = object && json_add_client_text(object, "id", id) &&
              cJSON_AddNumberToObject(object, "attempt", (double)attempt) &&
              cJSON_AddNumberToObject(object, "failures", (double)failures);
    if (!ok) {
        cJSON_Delete(object);
        return false;
    }
    return response_json(r, attempt <= failures ? 503 : 200, object);
}

static bool get_stall(struct http_response *r, const struct route_args *a)
{
    (void)a;
    r->stall = true;
    return true;
}

static bool get_stats(struct http_response *r, const struct route_args *a)
{
    char body[256];
    size_t len = stats_json(&a->state->stats, body, sizeof body);
    char *copy = strdup(body); /* owned: a partly written response must keep its bytes */
    if (copy == NULL)
        return false;
    response_set_body(r, 200, "application/json", copy, len, true);
    return true;
}

static bool get_stats_reset(struct http_response *r, const struct route_args *a)
{
    get_stats(r, a); /* the figures before the reset */
    stats_reset(&a->state->stats);
    flaky_forget_all(a->state);
    return true;
}

static bool get_index(struct http_response *r, const struct route_args *a)
{
    (void)a;
    response_set_body(r, 200, "text/plain; charset=utf-8", index_text, sizeof index_text - 1,
                      false);
    return true;
}

/* The routing table: an exact path, or a prefix ending in '/' followed by an argument. */
static const struct route {
    const char *path;
    bool prefix;
    bool (*handler)(struct http_response *, const struct route_args *);
} routes[] = {
    {"/json", false, get_json},
    {"/uuid", false, get_uuid},
    {"/user-agent", false, get_user_agent},
    {"/headers", false, get_headers},
    {"/ip", false, get_ip},
    {"/delay/", true, get_delay},
    {"/status/", true, get_status},
    {"/bytes/", true, get_bytes},
    {"/numbers/", true, get_numbers},
    {"/news/", true, get_news},
    {"/flaky/", true, get_flaky},
    {"/stall", false, get_stall},
    {"/stats", false, get_stats},
    {"/stats/reset", false, get_stats_reset},
    {"/", false, get_index},
};

int route_request(struct server_state *state, const struct http_request *request,
                  const char *client_ip, struct http_response *response)
{
    *response = (struct http_response){.counted = true, .close = !request->keep_alive};
    const struct route *found = NULL;
    struct route_args args = {state, request, {NULL, 0}, client_ip};
    for (size_t i = 0; i < sizeof routes / sizeof routes[0] && !found; i++) {
        size_t len = strlen(routes[i].path);
        if (routes[i].prefix
                ? request->path.len > len && memcmp(request->path.start, routes[i].path, len) == 0
                : http_text_is(request->path, routes[i].path)) {
            found = &routes[i];
            args.rest = (struct http_text){request->path.start + len, request->path.len - len};
        }
    }
    if (found == NULL) {
        error_response(response, 404, "no such endpoint: GET / lists them");
        response->close = !request->keep_alive;
    } else if (!http_text_is(request->method, "GET") && !http_text_is(request->method, "HEAD")) {
        error_response(response, 405, "only GET and HEAD are served");
        response->close = !request->keep_alive;
    } else if (!found->handler(response, &args)) {
        error_response(response, 500, "out of memory");
        errno = ENOMEM;
        return -1;
    }
    if (found &&
        (http_text_is(request->path, "/stats") || http_text_is(request->path, "/stats/reset")))
        response->counted = false;
    response->head_only = http_text_is(request->method, "HEAD");
    /* A body the server does not read would be taken for the next request: close instead. */
    if (request->has_body)
        response->close = true;
    return 0;
}
