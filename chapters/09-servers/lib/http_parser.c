/**
 * @file http_parser.c
 * @brief The request parser of http_parser.h: a cursor walks the buffer once, never past its end.
 *
 * Every step checks for the end of the bytes first and answers HTTP_INCOMPLETE there, so a
 * request cut anywhere is "not yet", never an error and never a read past the buffer; invalid
 * bytes are an error as soon as they are seen, before the line ends, so a client sending
 * garbage gets its 400 at once instead of waiting for a timeout.
 */
#include "http_parser.h"

#include <string.h>
#include <strings.h>

/* The parser's position in the caller's bytes. */
struct cursor {
    const char *buf;
    size_t len; /* bytes that may be looked at: never more than HTTP_MAX_HEAD */
    size_t pos;
};

/* The three ways a step can end; STEP_OK means "go on". */
enum step { STEP_OK, STEP_MORE, STEP_BAD };

static bool at_end(const struct cursor *c)
{
    return c->pos >= c->len;
}

static unsigned char peek(const struct cursor *c)
{
    return (unsigned char)c->buf[c->pos];
}

/* A token character (RFC 9110 tchar): what methods and header names are made of. */
static bool is_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* A character allowed in a header value: tab, visible ASCII, space, or any byte >= 0x80. */
static bool is_value_char(unsigned char ch)
{
    return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

/* Consume a line ending, CRLF or a bare LF. */
static enum step line_end(struct cursor *c)
{
    if (at_end(c))
        return STEP_MORE;
    if (peek(c) == '\r') {
        c->pos++;
        if (at_end(c))
            return STEP_MORE;
        if (peek(c) != '\n')
            return STEP_BAD; /* a lone CR */
    } else if (peek(c) != '\n') {
        return STEP_BAD;
    }
    c->pos++;
    return STEP_OK;
}

/* Consume a run of characters for which @p accept is true, into @p text (may be empty). */
static enum step span(struct cursor *c, bool (*accept)(unsigned char), struct http_text *text)
{
    text->start = c->buf + c->pos;
    while (!at_end(c) && accept(peek(c)))
        c->pos++;
    text->len = (size_t)(c->buf + c->pos - text->start);
    return at_end(c) ? STEP_MORE : STEP_OK;
}

static bool is_target_char(unsigned char ch)
{
    return ch > 0x20 && ch < 0x7f; /* visible ASCII */
}

/* "HTTP/d.d": sets the minor version, or 505 for a major version other than 1. */
static enum step version(struct cursor *c, struct http_request *request)
{
    static const char pattern[] = "HTTP/9.9"; /* '9' stands for any digit */
    for (size_t i = 0; i < sizeof pattern - 1; i++, c->pos++) {
        if (at_end(c))
            return STEP_MORE;
        unsigned char ch = peek(c);
        if (pattern[i] == '9' ? (ch < '0' || ch > '9') : ch != (unsigned char)pattern[i])
            return STEP_BAD;
    }
    int major = c->buf[c->pos - 3] - '0';
    int minor = c->buf[c->pos - 1] - '0';
    if (major != 1) {
        request->error_status = 505;
        request->error_reason = "HTTP version not supported";
        return STEP_BAD;
    }
    request->version_minor = minor > 1 ? 1 : minor; /* 1.x, x > 1, is answered as 1.1 */
    return STEP_OK;
}

/* METHOD SP TARGET SP HTTP/1.x line-end, after any empty lines. */
static enum step request_line(struct cursor *c, struct http_request *request)
{
    request->error_reason = "malformed request line";
    while (!at_end(c) && (peek(c) == '\r' || peek(c) == '\n')) {
        enum step step = line_end(c); /* an empty line before the request: skipped */
        if (step != STEP_OK)
            return step;
    }
    if (span(c, is_tchar, &request->method) != STEP_OK)
        return STEP_MORE;
    if (request->method.len == 0 || peek(c) != ' ')
        return STEP_BAD;
    c->pos++;
    if (span(c, is_target_char, &request->target) != STEP_OK)
        return STEP_MORE;
    if (request->target.len == 0 || peek(c) != ' ')
        return STEP_BAD;
    if (request->target.start[0] != '/' && !http_text_is(request->target, "*")) {
        request->error_reason = "request target is not a path";
        return STEP_BAD;
    }
    c->pos++;
    enum step step = version(c, request);
    return step == STEP_OK ? line_end(c) : step;
}

/* One "name: value" line into request->headers. */
static enum step header_line(struct cursor *c, struct http_request *request)
{
    struct http_header header;
    request->error_reason = "malformed header line";
    if (span(c, is_tchar, &header.name) != STEP_OK)
        return STEP_MORE;
    if (header.name.len == 0 || peek(c) != ':')
        return STEP_BAD; /* also a space before the colon, or a folded line */
    c->pos++;
    while (!at_end(c) && (peek(c) == ' ' || peek(c) == '\t'))
        c->pos++;
    if (span(c, is_value_char, &header.value) != STEP_OK)
        return STEP_MORE;
    while (header.value.len > 0 && (header.value.start[header.value.len - 1] == ' ' ||
                                    header.value.start[header.value.len - 1] == '\t'))
        header.value.len--;
    enum step step = line_end(c); /* anything else here is a control character */
    if (step != STEP_OK)
        return step;
    if (request->header_count == HTTP_MAX_HEADERS) {
        request->error_status = 431;
        request->error_reason = "too many header lines";
        return STEP_BAD;
    }
    request->headers[request->header_count++] = header;
    return STEP_OK;
}

/* Header lines up to and including the empty line that ends the head. */
static enum step header_lines(struct cursor *c, struct http_request *request)
{
    for (;;) {
        if (at_end(c))
            return STEP_MORE;
        if (peek(c) == '\r' || peek(c) == '\n') {
            request->error_reason = "malformed end of head";
            return line_end(c);
        }
        enum step step = header_line(c, request);
        if (step != STEP_OK)
            return step;
    }
}

/* True when the header name @p name is @p lower_name, whatever the case. */
static bool name_is(struct http_text name, const char *lower_name)
{
    size_t len = strlen(lower_name);
    return name.len == len && strncasecmp(name.start, lower_name, len) == 0;
}

/* True when the comma-separated list @p list holds @p token (case-insensitive). */
static bool list_has_token(struct http_text list, const char *token)
{
    size_t token_len = strlen(token);
    const char *p = list.start, *end = list.start + list.len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        const char *item = p;
        while (p < end && *p != ',')
            p++;
        const char *item_end = p;
        while (item_end > item && (item_end[-1] == ' ' || item_end[-1] == '\t'))
            item_end--;
        if ((size_t)(item_end - item) == token_len && strncasecmp(item, token, token_len) == 0)
            return true;
    }
    return false;
}

/* The headers that change how the request is framed: Connection, Content-Length,
 * Transfer-Encoding, Host. Returns false (with a reason) for a dangerous combination. */
static bool interpret_headers(struct http_request *request)
{
    request->keep_alive = request->version_minor >= 1;
    bool content_length_seen = false, transfer_encoding_seen = false;
    size_t hosts = 0;
    for (size_t i = 0; i < request->header_count; i++) {
        const struct http_header *h = &request->headers[i];
        if (name_is(h->name, "connection")) {
            if (list_has_token(h->value, "close"))
                request->keep_alive = false;
            else if (list_has_token(h->value, "keep-alive"))
                request->keep_alive = true;
        } else if (name_is(h->name, "content-length")) {
            if (content_length_seen || h->value.len == 0 || h->value.len > 18) {
                request->error_reason = "bad or repeated Content-Length";
                return false;
            }
            for (size_t j = 0; j < h->value.len; j++) {
                if (h->value.start[j] < '0' || h->value.start[j] > '9') {
                    request->error_reason = "Content-Length is not a number";
                    return false;
                }
                if (h->value.start[j] != '0')
                    request->has_body = true;
            }
            content_length_seen = true;
        } else if (name_is(h->name, "transfer-encoding")) {
            transfer_encoding_seen = true;
            request->has_body = true;
        } else if (name_is(h->name, "host")) {
            hosts++;
        }
    }
    if (content_length_seen && transfer_encoding_seen) { /* the request-smuggling case */
        request->error_reason = "both Content-Length and Transfer-Encoding";
        return false;
    }
    if (hosts > 1) {
        request->error_reason = "more than one Host header";
        return false;
    }
    return true;
}

/* Split the target into path and query at the first '?'. */
static void split_target(struct http_request *request)
{
    const char *mark = memchr(request->target.start, '?', request->target.len);
    size_t path_len = mark ? (size_t)(mark - request->target.start) : request->target.len;
    request->path = (struct http_text){request->target.start, path_len};
    request->query = mark ? (struct http_text){mark + 1, request->target.len - path_len - 1}
                          : (struct http_text){request->target.start + request->target.len, 0};
}

enum http_parse_result http_parse_request(const char *buf, size_t len, struct http_request *request)
{
    memset(request, 0, sizeof *request);
    request->error_status = 400;
    /* The head must fit in the first HTTP_MAX_HEAD bytes: the parser never looks further. */
    struct cursor c = {buf, len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD, 0};
    bool in_request_line = true;
    enum step step = request_line(&c, request);
    if (step == STEP_OK) {
        in_request_line = false;
        step = header_lines(&c, request);
    }
    if (step == STEP_BAD)
        return HTTP_ERROR;
    if (step == STEP_MORE) {
        if (len < HTTP_MAX_HEAD)
            return HTTP_INCOMPLETE;
        request->error_status = in_request_line ? 414 : 431;
        request->error_reason = in_request_line ? "request line too long" : "head too long";
        return HTTP_ERROR;
    }
    request->head_len = c.pos;
    if (!interpret_headers(request))
        return HTTP_ERROR;
    split_target(request);
    request->error_status = 0;
    request->error_reason = NULL;
    return HTTP_COMPLETE;
}

const struct http_text *http_find_header(const struct http_request *request, const char *name)
{
    for (size_t i = 0; i < request->header_count; i++)
        if (name_is(request->headers[i].name, name))
            return &request->headers[i].value;
    return NULL;
}

bool http_text_is(struct http_text text, const char *word)
{
    size_t word_len = strlen(word);
    return text.len == word_len && memcmp(text.start, word, word_len) == 0;
}
