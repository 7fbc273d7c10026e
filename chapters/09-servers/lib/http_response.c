/**
 * @file http_response.c
 * @brief A decided response on the wire: the status line and headers, then head and body in one
 *        sendmsg(). The rendering half of endpoints.h, shared by both servers.
 *
 * What the endpoints decide (lib/endpoints.c) is a struct http_response with no socket in
 * sight; this file turns it into bytes. http_render_head() writes the head into a fixed buffer
 * (HTTP_RESPONSE_HEAD_MAX: every field is our own, so it always fits); http_send_from() sends
 * what is left of head and body from any byte on, so a server whose socket's buffer fills can
 * call it again later with the count it has sent so far (loop_server), or at once in a loop
 * (thread_server). A body with a maker (/bytes/N, /numbers/N) is made one piece at a time,
 * each when the socket has taken the one before: memory per answer stays one piece.
 */
#define _GNU_SOURCE /* MSG_NOSIGNAL */
#include "endpoints.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

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

bool http_body_piece_at(struct http_response *response, size_t offset)
{
    if (offset < response->piece_start + response->piece_len || response->maker.make == NULL)
        return true;
    response->piece_start += response->piece_len;
    response->piece_len =
        response->maker.make(&response->maker, (char *)response->body, HTTP_BODY_PIECE);
    return offset < response->piece_start + response->piece_len;
}

ssize_t http_send_from(int fd, const char *head, size_t head_len, struct http_response *response,
                       size_t sent)
{
    size_t body_len = http_body_to_send(response);
    size_t body_sent = sent > head_len ? sent - head_len : 0;
    struct iovec parts[2];
    int count = 0;
    if (sent < head_len)
        parts[count++] = (struct iovec){(char *)head + sent, head_len - sent};
    if (body_len > body_sent) {
        if (!http_body_piece_at(response, body_sent)) {
            errno = EIO;
            return -1;
        }
        size_t in_piece = body_sent - response->piece_start;
        parts[count++] =
            (struct iovec){(char *)response->body + in_piece, response->piece_len - in_piece};
    }
    struct msghdr message = {.msg_iov = parts, .msg_iovlen = (size_t)count};
    ssize_t n;
    do
        n = sendmsg(fd, &message, MSG_NOSIGNAL);
    while (n == -1 && errno == EINTR);
    return n;
}

void http_response_free(struct http_response *response)
{
    if (response->body_owned)
        free((void *)response->body);
    response->body = NULL;
    response->body_len = response->piece_start = response->piece_len = 0;
    response->maker.make = NULL;
    response->body_owned = false;
}
