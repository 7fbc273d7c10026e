/**
 * @file http_parser.h
 * @brief Chapter 09's HTTP/1.x request parser: plain bytes in, a verdict and a request out.
 *
 * The parser never reads a socket and never allocates: it is handed the bytes a server has
 * received so far and says one of three things, which is all a server needs to know:
 *
 * - HTTP_INCOMPLETE: the head (request line, headers, blank line) has not all arrived; read more.
 * - HTTP_COMPLETE: the head is there and valid; @c request points into the caller's buffer, and
 *   @c request->head_len says where the next request (pipelining) starts.
 * - HTTP_ERROR: it can never become a valid request; @c request->error_status is the answer
 *   to send before closing: 400 (malformed), 414 (request line too long), 431 (headers too
 *   long or too many), 505 (an HTTP version other than 1.0 and 1.1).
 *
 * Because it works on plain buffers, the same parser serves loop_server (bytes arrive a few at a
 * time, the parser is simply called again on the longer buffer) and thread_server, is tested
 * alone by http_parse, and is fuzzed by fuzz/http_parser_fuzz.c (`make fuzz`). Calling it again
 * from the start each time more bytes arrive costs O(n) per call: fine for heads capped at 8 KiB.
 *
 * What it accepts (RFC 9112, strictly where it matters for safety): a request line
 * `METHOD SP TARGET SP HTTP/1.x`, the method a token, the target visible ASCII starting with '/'
 * (origin form) or `*`; header lines `name: value`, the name a token with no space before the
 * colon, the value free of control characters; lines ending in CRLF or a bare LF; empty lines
 * before the request line are skipped. Folded header lines (obsolete) and a lone CR are errors.
 * It does not read bodies: a request that announces one (Content-Length above 0, or any
 * Transfer-Encoding) sets @c has_body, and a server that does not want bodies answers and closes.
 */
#ifndef HTTP_PARSER_H
#define HTTP_PARSER_H

#include <stdbool.h>
#include <stddef.h>

/** The longest request head accepted (request line, headers and blank line), in bytes. */
#define HTTP_MAX_HEAD 8192
/** The most header lines accepted in one request. */
#define HTTP_MAX_HEADERS 64

/** What the parser made of the bytes it was given. */
enum http_parse_result {
    HTTP_INCOMPLETE, /**< valid so far: read more bytes and call again */
    HTTP_COMPLETE,   /**< a whole, valid request head */
    HTTP_ERROR       /**< invalid: answer request->error_status and close */
};

/** A piece of the caller's buffer (not NUL-terminated). */
struct http_text {
    const char *start;
    size_t len;
};

/** One header line: name and value, the value without surrounding spaces. */
struct http_header {
    struct http_text name;
    struct http_text value;
};

/** A parsed request head. Every http_text points into the buffer given to the parser. */
struct http_request {
    struct http_text method; /**< e.g. GET (case-sensitive, as HTTP says) */
    struct http_text target; /**< e.g. /flaky/2?id=a: path and query as sent */
    struct http_text path;   /**< the target up to '?' */
    struct http_text query;  /**< after '?', empty if none */
    int version_minor;       /**< 0 for HTTP/1.0, 1 for HTTP/1.1 */
    struct http_header headers[HTTP_MAX_HEADERS];
    size_t header_count;
    size_t head_len;          /**< bytes up to and including the blank line */
    bool keep_alive;          /**< HTTP/1.1 unless "Connection: close"; 1.0 only if asked */
    bool has_body;            /**< Content-Length above 0, or Transfer-Encoding present */
    int error_status;         /**< with HTTP_ERROR: 400, 414, 431 or 505 */
    const char *error_reason; /**< with HTTP_ERROR: a short reason for the server's log */
};

/** Parse the request head at the start of @p buf (@p len bytes received so far).
 *  Fills @p request and returns what it found (see the file comment). O(len). */
enum http_parse_result http_parse_request(const char *buf, size_t len,
                                          struct http_request *request);

/** The value of the first header named @p name (ASCII case-insensitive), or NULL. */
const struct http_text *http_find_header(const struct http_request *request, const char *name);

/** True when @p text equals the C string @p word exactly. */
bool http_text_is(struct http_text text, const char *word);

#endif /* HTTP_PARSER_H */
