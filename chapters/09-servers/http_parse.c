/**
 * @file http_parse.c
 * @brief The servers' request parser alone: plain bytes in; complete, incomplete or error out.
 *
 * What to look for: a server reads whatever the network delivers, a few bytes or three
 * requests at once, so its parser must say "not yet" as readily as "done". This program feeds
 * lib/http_parser.c a table of requests, good, cut short and malicious, and checks each answer:
 * a request cut at any byte is INCOMPLETE (never an error, never a read past the end), bad
 * input is an ERROR with the status a server should answer (400, 414, 431, 505), and garbage
 * is rejected at its first bad byte rather than after a timeout. It prints one line per case
 * and `OK: N cases as expected`, or `FAILED: ...` naming the cases that were not.
 *
 * `http_parse --stdin` parses what you pipe in instead, and prints what the parser made of it:
 *
 *     printf 'GET /json HTTP/1.1\r\nHost: x\r\n\r\n' | http_parse --stdin
 *
 * The same parser is fuzzed by chapters/09-servers/fuzz/http_parser_fuzz.c (`make fuzz`).
 *
 * Usage: http_parse [--stdin]
 */
#include "kit.h"

#include "lib/http_parser.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: http_parse [options]\n"
    "Run the request parser on a table of good, partial and bad requests, and check it.\n"
    "      --stdin   parse the bytes read from standard input instead, and show the result\n"
    "  -h, --help    show this help and exit\n";

/* The cases too long to write out, built by long_case(). */
enum long_kind { NOT_LONG, LONG_LINE, MANY_HEADERS, LONG_HEADER };

/* One case: the bytes, and what the parser must say (status: error_status, or 0). */
struct parse_case {
    const char *what;
    const char *bytes; /* NULL: built by long_case() */
    enum http_parse_result expected;
    int status;
    enum long_kind kind;
};

static const struct parse_case cases[] = {
    {"a plain GET", "GET /json HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_COMPLETE, 0, NOT_LONG},
    {"HTTP/1.0, no headers", "GET / HTTP/1.0\r\n\r\n", HTTP_COMPLETE, 0, NOT_LONG},
    {"bare LF line ends, an empty line first", "\r\nGET / HTTP/1.1\nHost: x\n\n", HTTP_COMPLETE, 0,
     NOT_LONG},
    {"two pipelined requests (the first is parsed)",
     "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", HTTP_COMPLETE, 0, NOT_LONG},
    {"a POST announcing a body", "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
     HTTP_COMPLETE, 0, NOT_LONG},
    {"the head not finished", "GET / HTTP/1.1\r\nHost: x\r\n", HTTP_INCOMPLETE, 0, NOT_LONG},
    {"half a request line", "GET /js", HTTP_INCOMPLETE, 0, NOT_LONG},
    {"HTTP/2.0 (not spoken)", "GET / HTTP/2.0\r\n\r\n", HTTP_ERROR, 505, NOT_LONG},
    {"a version that is not a version", "GET / HTTP/1.x\r\n\r\n", HTTP_ERROR, 400, NOT_LONG},
    {"two spaces after the method", "GET  / HTTP/1.1\r\n\r\n", HTTP_ERROR, 400, NOT_LONG},
    {"a target that is not a path", "GET json HTTP/1.1\r\n\r\n", HTTP_ERROR, 400, NOT_LONG},
    {"a space before the colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", HTTP_ERROR, 400, NOT_LONG},
    {"a folded header line (obsolete)", "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", HTTP_ERROR, 400,
     NOT_LONG},
    {"a control character in a value", "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", HTTP_ERROR, 400,
     NOT_LONG},
    {"a lone CR", "GET / HTTP/1.1\rX", HTTP_ERROR, 400, NOT_LONG},
    {"Content-Length and Transfer-Encoding (smuggling)",
     "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_ERROR, 400,
     NOT_LONG},
    {"a Content-Length that is not a number", "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
     HTTP_ERROR, 400, NOT_LONG},
    {"two Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HTTP_ERROR, 400, NOT_LONG},
    {"TLS spoken to a plain HTTP port (no line end yet)", "\x16\x03\x01\x02", HTTP_ERROR, 400,
     NOT_LONG},
    {"a request line of 9000 bytes", NULL, HTTP_ERROR, 414, LONG_LINE},
    {"70 header lines", NULL, HTTP_ERROR, 431, MANY_HEADERS},
    {"a head of 9000 bytes in one header", NULL, HTTP_ERROR, 431, LONG_HEADER},
};

/* The cases too long to write out: built into @p buf. Returns the length. */
static size_t long_case(enum long_kind kind, char *buf, size_t size)
{
    size_t len = 0;
    if (kind == LONG_LINE) {
        len = (size_t)snprintf(buf, size, "GET /");
        memset(buf + len, 'a', 9000), len += 9000;
        len += (size_t)snprintf(buf + len, size - len, " HTTP/1.1\r\n\r\n");
    } else if (kind == MANY_HEADERS) {
        len = (size_t)snprintf(buf, size, "GET / HTTP/1.1\r\n");
        for (int i = 0; i < 70; i++)
            len += (size_t)snprintf(buf + len, size - len, "X-%d: y\r\n", i);
        len += (size_t)snprintf(buf + len, size - len, "\r\n");
    } else {
        len = (size_t)snprintf(buf, size, "GET / HTTP/1.1\r\nX: ");
        memset(buf + len, 'b', 9000), len += 9000;
        len += (size_t)snprintf(buf + len, size - len, "\r\n\r\n");
    }
    return len;
}

static const char *result_name(enum http_parse_result result)
{
    return result == HTTP_COMPLETE     ? "COMPLETE"
           : result == HTTP_INCOMPLETE ? "INCOMPLETE"
                                       : "ERROR";
}

/* Print what the parser made of @p len bytes, the way a server would use it. */
static enum http_parse_result describe(const char *bytes, size_t len)
{
    struct http_request request;
    enum http_parse_result result = http_parse_request(bytes, len, &request);
    if (result == HTTP_ERROR)
        printf("ERROR %d: %s\n", request.error_status, request.error_reason);
    else if (result == HTTP_INCOMPLETE)
        printf("INCOMPLETE: %zu bytes so far, the head is not finished\n", len);
    else
        printf("COMPLETE: %.*s %.*s HTTP/1.%d, %zu header%s, %s%s; head %zu of %zu bytes\n",
               (int)request.method.len, request.method.start, (int)request.target.len,
               request.target.start, request.version_minor, request.header_count,
               request.header_count == 1 ? "" : "s", request.keep_alive ? "keep-alive" : "close",
               request.has_body ? ", announces a body" : "", request.head_len, len);
    for (size_t i = 0; result == HTTP_COMPLETE && i < request.header_count; i++)
        printf("  %.*s: %.*s\n", (int)request.headers[i].name.len, request.headers[i].name.start,
               (int)request.headers[i].value.len, request.headers[i].value.start);
    return result;
}

/* Every case against its expectation; a complete request must also be INCOMPLETE when cut
 * anywhere before its end. Returns the number of cases that did not behave. */
static int check_cases(void)
{
    static char big[16384];
    int wrong = 0;
    size_t count = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < count; i++) {
        const char *bytes = cases[i].bytes ? cases[i].bytes : big;
        size_t len = cases[i].bytes ? strlen(bytes) : long_case(cases[i].kind, big, sizeof big);
        struct http_request request;
        enum http_parse_result got = http_parse_request(bytes, len, &request);
        bool ok = got == cases[i].expected &&
                  (got != HTTP_ERROR || request.error_status == cases[i].status);
        for (size_t cut = 0; ok && got == HTTP_COMPLETE && cut < request.head_len; cut++) {
            struct http_request partial;
            ok = http_parse_request(bytes, cut, &partial) == HTTP_INCOMPLETE;
        }
        char verdict[32];
        snprintf(verdict, sizeof verdict, got == HTTP_ERROR ? "%s %d" : "%s", result_name(got),
                 request.error_status);
        printf("%-4s %-14s %s\n", ok ? "ok" : "BAD", verdict, cases[i].what);
        wrong += !ok;
    }
    return wrong;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"stdin", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool from_stdin = false;
    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "h", options, NULL)) != -1;) {
        switch (opt) {
        case 's': from_stdin = true; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    if (from_stdin) {
        static char bytes[4 * HTTP_MAX_HEAD];
        size_t len = fread(bytes, 1, sizeof bytes, stdin);
        if (ferror(stdin))
            kit_die_errno("read standard input");
        describe(bytes, len);
    } else {
        int wrong = check_cases();
        size_t count = sizeof cases / sizeof cases[0];
        if (wrong > 0)
            printf("FAILED: %d of %zu cases not as expected\n", wrong, count);
        else
            printf("OK: %zu cases as expected (and every complete one INCOMPLETE when cut short)\n",
                   count);
        if (fflush(stdout) == EOF)
            kit_die_errno("write to stdout");
        return wrong > 0;
    }
    if (fflush(stdout) == EOF)
        kit_die_errno("write to stdout");
    return 0;
}
