/**
 * @file blocking_io.c
 * @brief blocking_io.h: socket timeouts, a whole response, /stall, linger and the accept loop,
 *        all blocking.
 */
#define _GNU_SOURCE /* accept4, program_invocation_short_name */
#include "blocking_io.h"

#include "../../../harness/loopback/net.h"
#include "kit.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

int set_socket_timeouts(int fd, double seconds)
{
    struct timeval limit = {(time_t)seconds, (suseconds_t)((seconds - (time_t)seconds) * 1e6)};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) == -1)
        return -1;
    return 0;
}

ssize_t recv_before(int fd, char *buf, size_t len, double deadline)
{
    double left = deadline - kit_now();
    if (left <= 0) {
        errno = EAGAIN;
        return -1;
    }
    left += 1e-6; /* a zero timeval would mean "no limit" */
    struct timeval limit = {(time_t)left, (suseconds_t)((left - (time_t)left) * 1e6)};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) == -1)
        return -1;
    return recv(fd, buf, len, 0);
}

int send_whole_response(int fd, struct http_response *response, bool keep_alive, int version_minor)
{
    char head[HTTP_RESPONSE_HEAD_MAX];
    size_t head_len = http_render_head(response, keep_alive, version_minor, head);
    size_t total = head_len + http_body_to_send(response);
    for (size_t sent = 0; sent < total;) {
        ssize_t n = http_send_from(fd, head, head_len, response, sent);
        if (n == -1)
            return -1; /* EAGAIN here is SO_SNDTIMEO: the client stopped reading */
        sent += (size_t)n;
    }
    return 0;
}

void stall_until_closed(int fd)
{
    static const struct timeval no_limit = {0, 0}; /* recv_before() left a short one */
    char scratch[1024];
    ssize_t got;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &no_limit, sizeof no_limit) == -1)
        return; /* not without spinning: the connection closes instead */
    while ((got = recv(fd, scratch, sizeof scratch, 0)) > 0 ||
           (got == -1 && (errno == EAGAIN || errno == EINTR)))
        ;
}

void linger_before_close(int fd)
{
    static const struct timeval linger_limit = {0, 200 * 1000};
    char scratch[4096];
    double start = kit_now();
    if (shutdown(fd, SHUT_WR) == 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &linger_limit, sizeof linger_limit) == 0)
        while (recv(fd, scratch, sizeof scratch, 0) > 0 && kit_seconds_since(start) < 1)
            ;
}

/* Out of descriptors (or memory): wait a moment before accepting again, saying so at most
 * once a second. The pending connections stay in the kernel's queue. */
static void pause_accept(int error, double *last_logged)
{
    if (kit_seconds_since(*last_logged) >= 1) {
        fprintf(stderr, "%s: accept: %s: %s; pausing new connections for 0.1 s\n",
                program_invocation_short_name, strerror(error), out_of_what(error));
        *last_logged = kit_now();
    }
    kit_sleep(0.1);
}

void accept_until_stopped(int listen_fd, int stop_fd, int done_fd, double duration,
                          accepted_fn *accepted)
{
    double start = kit_now(), last_pause_logged = start - 1;
    for (;;) {
        double left = duration < 0 ? -1 : duration - kit_seconds_since(start);
        if (duration >= 0 && left <= 0)
            return;
        /* poll() skips an entry whose descriptor is negative: done_fd -1 is no demo. */
        struct pollfd watched[3] = {{.fd = listen_fd, .events = POLLIN},
                                    {.fd = stop_fd, .events = POLLIN},
                                    {.fd = done_fd, .events = POLLIN}};
        int ready = poll(watched, 3, left < 0 ? -1 : (int)(left * 1000) + 1);
        if (ready == -1 && errno != EINTR)
            kit_die_errno("poll");
        if (ready > 0 && (watched[1].revents || watched[2].revents))
            return;
        if (ready <= 0 || !watched[0].revents)
            continue;
        struct sockaddr_in address;
        socklen_t length = sizeof address;
        int fd = accept4(listen_fd, (struct sockaddr *)&address, &length, SOCK_CLOEXEC);
        if (fd >= 0)
            accepted(fd, &address);
        else if (out_of_what(errno) != NULL)
            pause_accept(errno, &last_pause_logged); /* let some clients leave first */
        else if (errno != EINTR && errno != ECONNABORTED && errno != EPROTO)
            fprintf(stderr, "%s: accept: %s\n", program_invocation_short_name, strerror(errno));
    }
}
