/**
 * @file endpoints.h
 * @brief The local server's endpoints: a parsed request in, a response (or a wait) out.
 *
 * Both servers of chapter 09 answer with this code, so they differ only in how they wait: what
 * to answer is decided here, with no socket in sight. route_request() fills a struct
 * http_response; when the endpoint is /delay/S it also says "send this after S seconds", and
 * for /stall "never send anything". loop_server turns that into a timer, thread_server into a
 * sleep. The endpoints (see the chapter's README.md for examples):
 *
 *   /json /uuid /user-agent /headers /ip   the five sources of exercise 06
 *   /delay/S  /status/CODE  /bytes/N  /numbers/N?seed=K  /news/N  /flaky/K?id=X  /stall
 *   /stats  /stats/reset  /   (the last one lists all of this)
 *
 * Text a client sent (/headers, /user-agent, /flaky's id) goes into the JSON through cJSON,
 * which escapes it; bytes that are not valid UTF-8 become U+FFFD first, so the answer is
 * always valid JSON.
 */
#ifndef ENDPOINTS_H
#define ENDPOINTS_H

#include "http_parser.h"
#include "server_stats.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/** The most distinct ids /flaky remembers; past that, the oldest id is forgotten. */
#define FLAKY_MAX_IDS 4096

/** What the endpoints share between requests: the counters and /flaky's memory. */
struct server_state {
    struct server_stats stats;
    pthread_mutex_t flaky_lock; /* guards the three fields below (thread_server's threads) */
    struct flaky_entry *flaky;  /* FLAKY_MAX_IDS entries: id and requests seen so far */
    size_t flaky_count;         /* entries in use */
    size_t flaky_next_evicted;  /* once full, the slot reused next (oldest first) */
};

/** The most bytes of a body made at once (and of an answer sent per turn, in loop_server). */
#define HTTP_BODY_PIECE (64 * 1024)

/** A body made piece by piece as it is sent (/bytes/N, /numbers/N), so that a 10 MiB answer to
 *  a client that reads slowly costs one piece of memory, not 10 MiB. */
struct body_maker {
    /** Write the next bytes of the body into @p piece (at most @p cap), return how many. */
    size_t (*make)(struct body_maker *maker, char *piece, size_t cap);
    unsigned long long state; /**< the generator's state */
    long made, count;         /**< items (numbers, bytes) made so far, of count */
};

/** An answer, and when to send it. */
struct http_response {
    int status;                    /**< 200, 404, ... */
    const char *content_type;      /**< NULL when there is no body (204, 304) */
    const char *body;              /**< the body, or its current piece; static or owned */
    size_t body_len;               /**< the whole body's length (Content-Length) */
    size_t piece_start, piece_len; /**< body holds these bytes of the whole body */
    struct body_maker maker;       /**< maker.make set: the body is made in pieces */
    bool body_owned;               /**< body was malloc'ed: http_response_free() frees it */
    bool head_only;                /**< a HEAD request: send the head, not the body */
    bool close;                    /**< close the connection after this response */
    bool counted;                  /**< the request is counted in /stats (all but /stats itself) */
    bool delayed;                  /**< send only after delay_seconds (/delay/S) */
    double delay_seconds;
    bool stall; /**< never send anything (/stall) */
};

/** Initialise @p state. Returns 0, or -1 with errno set (ENOMEM). */
int server_state_init(struct server_state *state);

/** Free what server_state_init() allocated. */
void server_state_destroy(struct server_state *state);

/** Decide the answer to @p request from the client at @p client_ip ("127.0.0.1").
 *  Returns 0, or -1 with errno set (ENOMEM): then @p response is a 500 that closes. */
int route_request(struct server_state *state, const struct http_request *request,
                  const char *client_ip, struct http_response *response);

/** Fill @p response with an error answer (JSON body naming @p reason) that closes. */
void error_response(struct http_response *response, int status, const char *reason);

/** The longest response head http_render_head() writes. */
#define HTTP_RESPONSE_HEAD_MAX 512

/** Write the status line and headers of @p response into @p buf (HTTP_RESPONSE_HEAD_MAX
 *  bytes), with Connection: keep-alive or close as @p keep_alive says. Returns the length. */
size_t http_render_head(const struct http_response *response, bool keep_alive, int version_minor,
                        char *buf);

/** The number of body bytes that go on the wire after the head (0 for HEAD, 204, 304). */
size_t http_body_to_send(const struct http_response *response);

/** Make sure the piece in @p response->body holds body byte @p offset (bytes are asked for in
 *  order: a piece is made when the one before is used up). Returns false if the maker fell
 *  short of the length it announced (a bug: never spin on it). */
bool http_body_piece_at(struct http_response *response, size_t offset);

/** Send what is left of a response, head (@p head_len bytes) then body, from byte @p sent on,
 *  with one sendmsg() (MSG_NOSIGNAL: a vanished client is EPIPE, not SIGPIPE), making the
 *  body's next piece when the last one has gone. Head and body go out together: two small
 *  writes would meet Nagle's algorithm and the client's delayed ACK, and wait some 40 ms.
 *  Returns the bytes sent (maybe fewer than asked), or -1 (errno; EIO: a maker fell short). */
ssize_t http_send_from(int fd, const char *head, size_t head_len, struct http_response *response,
                       size_t sent);

/** Free an owned body; the response may be reused afterwards. */
void http_response_free(struct http_response *response);

/** The reason phrase for a status code ("Not Found"). */
const char *http_reason_phrase(int status);

#endif /* ENDPOINTS_H */
