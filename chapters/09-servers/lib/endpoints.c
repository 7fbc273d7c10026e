/**
 * @file endpoints.c
 * @brief The endpoints of endpoints.h: one small function each, and a table that routes to them.
 *
 * Text a client sent is only ever put into JSON through cJSON (json_reply()), never pasted
 * into a format string. Every endpoint that takes a number checks it strictly (digits only,
 * within a range) and answers 400 otherwise.
 */
#define _GNU_SOURCE /* getrandom */
#include "endpoints.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* /flaky's memory of one id. */
struct flaky_entry {
    char id[128];
    long seen; /* requests for this id so far */
};

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

/* ---- small helpers ----------------------------------------------------------------------- */

static void set_body(struct http_response *r, int status, const char *type, const char *body,
                     size_t len, bool owned)
{
    r->status = status;
    r->content_type = type;
    r->body = body;
    r->body_len = len;
    r->body_owned = owned;
}

void error_response(struct http_response *response, int status, const char *reason)
{
    static const char out_of_memory[] = "{\"error\": \"out of memory\"}\n";
    char *body = NULL; /* reason is our own text, never the client's: no escaping needed */
    int len = asprintf(&body, "{\"error\": \"%s\"}\n", reason);
    http_response_free(response);
    if (len < 0)
        set_body(response, status, "application/json", out_of_memory, sizeof out_of_memory - 1,
                 false);
    else
        set_body(response, status, "application/json", body, (size_t)len, true);
    response->close = true;
}

/* Parse all of @p text as a whole number in [min, max]; false if it is anything else. */
static bool whole_number(struct http_text text, long min, long max, long *value)
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

/* Seconds as digits with at most one '.', e.g. 0.5 or 2: no signs, exponents, inf or nan. */
static bool seconds_value(struct http_text text, double max, double *value)
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
    memcpy(digits, text.start, text.len);
    digits[text.len] = '\0';
    *value = strtod(digits, NULL);
    return *value <= max;
}

/* The value of query parameter @p name ("id" in "id=a&x=1"), as sent; false if absent. */
static bool query_param(struct http_text query, const char *name, struct http_text *value)
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

/* Add the client's @p text to @p object under @p key (cJSON escapes it). False on ENOMEM. */
static bool add_client_text(cJSON *object, const char *key, struct http_text text)
{
    char *clean = utf8_copy(text);
    bool added = clean != NULL && cJSON_AddStringToObject(object, key, clean) != NULL;
    free(clean);
    return added;
}

/* Print @p object as the response body and free it. False (and freed) on ENOMEM. */
static bool json_reply(struct http_response *r, int status, cJSON *object)
{
    char *text = object ? cJSON_PrintUnformatted(object) : NULL;
    cJSON_Delete(object);
    if (text == NULL)
        return false;
    set_body(r, status, "application/json", text, strlen(text), true);
    return true;
}

/* A body printed with printf-style formatting (our own numbers and words only). */
static bool printf_reply(struct http_response *r, int status, const char *type, const char *fmt,
                         ...) __attribute__((format(printf, 4, 5)));
static bool printf_reply(struct http_response *r, int status, const char *type, const char *fmt,
                         ...)
{
    va_list args;
    va_start(args, fmt);
    char *text = NULL;
    int len = vasprintf(&text, fmt, args);
    va_end(args);
    if (len < 0)
        return false;
    set_body(r, status, type, text, (size_t)len, true);
    return true;
}

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
    set_body(r, 200, "application/json", json_document, sizeof json_document - 1, false);
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
    return printf_reply(r, 200, "application/json",
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
        !add_client_text(object, "user-agent", agent ? *agent : (struct http_text){"", 0})) {
        cJSON_Delete(object);
        return false;
    }
    return json_reply(r, 200, object);
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
        return add_client_text(headers, name, h->value);
    size_t before_len = strlen(before);
    char *joined = malloc(before_len + 2 + h->value.len);
    if (joined == NULL)
        return false;
    memcpy(joined, before, before_len);
    memcpy(joined + before_len, ", ", 2);
    memcpy(joined + before_len + 2, h->value.start, h->value.len);
    cJSON_DeleteItemFromObjectCaseSensitive(headers, name); /* frees before */
    bool added =
        add_client_text(headers, name, (struct http_text){joined, before_len + 2 + h->value.len});
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
    return json_reply(r, 200, object);
}

static bool get_ip(struct http_response *r, const struct route_args *a)
{
    cJSON *object = cJSON_CreateObject();
    if (object && cJSON_AddStringToObject(object, "origin", a->client_ip) == NULL) {
        cJSON_Delete(object);
        return false;
    }
    return json_reply(r, 200, object);
}

static bool get_delay(struct http_response *r, const struct route_args *a)
{
    double seconds;
    if (!seconds_value(a->rest, MAX_DELAY_S, &seconds)) {
        error_response(r, 400, "/delay/S wants S seconds from 0 to 60, e.g. /delay/0.5");
        return true;
    }
    r->delayed = true;
    r->delay_seconds = seconds;
    return printf_reply(r, 200, "application/json", "{\"delay\": %g}\n", seconds);
}

static bool get_status(struct http_response *r, const struct route_args *a)
{
    long code;
    if (!whole_number(a->rest, 200, 599, &code)) {
        error_response(r, 400, "/status/CODE wants a status code from 200 to 599");
        return true;
    }
    if (code == 204 || code == 304) { /* these two never have a body */
        set_body(r, (int)code, NULL, NULL, 0, false);
        return true;
    }
    return printf_reply(r, (int)code, "application/json", "{\"status\": %ld}\n", code);
}

static bool get_bytes(struct http_response *r, const struct route_args *a)
{
    long count;
    if (!whole_number(a->rest, 0, MAX_BYTES, &count)) {
        error_response(r, 400, "/bytes/N wants N from 0 to 10485760");
        return true;
    }
    unsigned char *bytes = malloc(count > 0 ? (size_t)count : 1);
    if (bytes == NULL)
        return false;
    uint32_t x = 12345; /* a fixed linear congruential stream: the same bytes every time */
    for (long i = 0; i < count; i++) {
        x = x * 1103515245u + 12345u;
        bytes[i] = (unsigned char)(x >> 16);
    }
    set_body(r, 200, "application/octet-stream", (const char *)bytes, (size_t)count, true);
    return true;
}

static bool get_numbers(struct http_response *r, const struct route_args *a)
{
    long count, seed = 1;
    struct http_text seed_text;
    if (!whole_number(a->rest, 0, MAX_NUMBERS, &count) ||
        (query_param(a->request->query, "seed", &seed_text) &&
         !whole_number(seed_text, 0, 999999999, &seed))) {
        error_response(r, 400, "/numbers/N wants N from 0 to 1000000 (and ?seed=K, K >= 0)");
        return true;
    }
    char *text = malloc((size_t)count * 5 + 16), *p = text; /* "999, " at most per number */
    if (text == NULL)
        return false;
    p += sprintf(p, "{\"data\": [");
    uint64_t x = (uint64_t)seed; /* a 64-bit LCG (Knuth's MMIX constants); README gives it */
    for (long i = 0; i < count; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        p += sprintf(p, i ? ", %u" : "%u", (unsigned)((x >> 33) % 1000));
    }
    p += sprintf(p, "]}\n");
    set_body(r, 200, "application/json", text, (size_t)(p - text), true);
    return true;
}

static bool get_news(struct http_response *r, const struct route_args *a)
{
    long n;
    if (!whole_number(a->rest, 0, MAX_NEWS, &n)) {
        error_response(r, 400, "/news/N wants N from 0 to 1000000");
        return true;
    }
    const char *headline = headlines[n % (long)(sizeof headlines / sizeof headlines[0])];
    return printf_reply(r, 200, "text/html; charset=utf-8",
                        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                        "<title>Local News %ld: %s</title></head>\n<body><h1>%s</h1>\n"
                        "<p>Story %ld of the kit's local news site, served on loopback.</p>\n"
                        "</body></html>\n",
                        n, headline, headline, n);
}

/* How many requests id @p id has made, this one included (under the lock). */
static long flaky_count_request(struct server_state *state, struct http_text id)
{
    pthread_mutex_lock(&state->flaky_lock);
    struct flaky_entry *entry = NULL;
    for (size_t i = 0; i < state->flaky_count && !entry; i++)
        if (strlen(state->flaky[i].id) == id.len &&
            memcmp(state->flaky[i].id, id.start, id.len) == 0)
            entry = &state->flaky[i];
    if (entry == NULL) {
        if (state->flaky_count < FLAKY_MAX_IDS) {
            entry = &state->flaky[state->flaky_count++];
        } else { /* full: forget the oldest id */
            entry = &state->flaky[state->flaky_next_evicted];
            state->flaky_next_evicted = (state->flaky_next_evicted + 1) % FLAKY_MAX_IDS;
        }
        memcpy(entry->id, id.start, id.len);
        entry->id[id.len] = '\0';
        entry->seen = 0;
    }
    long seen = ++entry->seen;
    pthread_mutex_unlock(&state->flaky_lock);
    return seen;
}

static bool get_flaky(struct http_response *r, const struct route_args *a)
{
    long failures;
    struct http_text id = {"", 0};
    query_param(a->request->query, "id", &id);
    if (!whole_number(a->rest, 0, MAX_FLAKY_FAILURES, &failures) || id.len > MAX_ID_LEN ||
        memchr(id.start, '\0', id.len) != NULL) {
        error_response(r, 400,
                       "/flaky/K?id=X wants K from 0 to 1000 and an id of 127 bytes at most");
        return true;
    }
    long attempt = flaky_count_request(a->state, id);
    cJSON *object = cJSON_CreateObject();
    bool ok = object && add_client_text(object, "id", id) &&
              cJSON_AddNumberToObject(object, "attempt", (double)attempt) &&
              cJSON_AddNumberToObject(object, "failures", (double)failures);
    if (!ok) {
        cJSON_Delete(object);
        return false;
    }
    return json_reply(r, attempt <= failures ? 503 : 200, object);
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
    set_body(r, 200, "application/json", copy, len, true);
    return true;
}

static bool get_stats_reset(struct http_response *r, const struct route_args *a)
{
    get_stats(r, a); /* the figures before the reset */
    stats_reset(&a->state->stats);
    pthread_mutex_lock(&a->state->flaky_lock);
    a->state->flaky_count = 0;
    a->state->flaky_next_evicted = 0;
    pthread_mutex_unlock(&a->state->flaky_lock);
    return true;
}

static bool get_index(struct http_response *r, const struct route_args *a)
{
    (void)a;
    set_body(r, 200, "text/plain; charset=utf-8", index_text, sizeof index_text - 1, false);
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

/* ---- rendering ----------------------------------------------------------------------------- */

const char *http_reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 414: return "URI Too Long";
    case 418: return "I'm a teapot";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default:
        return status < 300   ? "Success"
               : status < 400 ? "Redirection"
               : status < 500 ? "Client Error"
                              : "Server Error";
    }
}

/* "Date: Sun, 22 Nov 2026 02:10:00 GMT", formatted once a second per thread. */
static const char *http_date(void)
{
    static _Thread_local char text[40];
    static _Thread_local time_t formatted_at = -1;
    time_t now = time(NULL);
    if (now != formatted_at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        formatted_at = now;
    }
    return text;
}

size_t http_body_to_send(const struct http_response *response)
{
    return response->head_only ? 0 : response->body_len;
}

size_t http_render_head(const struct http_response *response, bool keep_alive, int version_minor,
                        char *buf)
{
    int len = snprintf(buf, HTTP_RESPONSE_HEAD_MAX,
                       "HTTP/1.%d %d %s\r\nServer: kit-local-server\r\nDate: %s\r\n", version_minor,
                       response->status, http_reason_phrase(response->status), http_date());
    if (response->content_type != NULL)
        len += snprintf(buf + len, HTTP_RESPONSE_HEAD_MAX - (size_t)len,
                        "Content-Type: %s\r\nContent-Length: %zu\r\n", response->content_type,
                        response->body_len);
    if (response->status == 405)
        len += snprintf(buf + len, HTTP_RESPONSE_HEAD_MAX - (size_t)len, "Allow: GET, HEAD\r\n");
    len += snprintf(buf + len, HTTP_RESPONSE_HEAD_MAX - (size_t)len, "Connection: %s\r\n\r\n",
                    keep_alive ? "keep-alive" : "close");
    return (size_t)len;
}

void http_response_free(struct http_response *response)
{
    if (response->body_owned)
        free((void *)response->body);
    response->body = NULL;
    response->body_len = 0;
    response->body_owned = false;
}

int server_state_init(struct server_state *state)
{
    *state = (struct server_state){0};
    state->flaky = calloc(FLAKY_MAX_IDS, sizeof *state->flaky);
    if (state->flaky == NULL)
        return -1;
    int en = pthread_mutex_init(&state->flaky_lock, NULL);
    if (en != 0) {
        free(state->flaky);
        errno = en;
        return -1;
    }
    return 0;
}

void server_state_destroy(struct server_state *state)
{
    pthread_mutex_destroy(&state->flaky_lock);
    free(state->flaky);
}
