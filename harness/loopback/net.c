/**
 * @file net.c
 * @brief The loopback sockets and the descriptor limit of net.h.
 */
#define _GNU_SOURCE /* SOCK_CLOEXEC, SOCK_NONBLOCK, MSG_NOSIGNAL */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* The backlog asked for: the kernel caps it at net.core.somaxconn (4096 on recent kernels).
 * A long queue lets a burst of thousands of connects wait for accept() instead of being
 * dropped and retried a second later. */
enum { LISTEN_BACKLOG = 65535 };

static struct sockaddr_in loopback_address(int port)
{
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

/* Close @p fd keeping errno from the call that failed before. Returns -1. */
static int close_failed(int fd)
{
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

int listen_loopback(int port, bool nonblocking, int *bound_port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (fd == -1)
        return -1;
    int on = 1; /* restart at once on a port left in TIME_WAIT by a previous run */
    struct sockaddr_in address = loopback_address(port);
    socklen_t length = sizeof address;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1 ||
        bind(fd, (struct sockaddr *)&address, sizeof address) == -1 ||
        listen(fd, LISTEN_BACKLOG) == -1 ||
        getsockname(fd, (struct sockaddr *)&address, &length) == -1)
        return close_failed(fd);
    *bound_port = ntohs(address.sin_port);
    return fd;
}

int connect_loopback(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return -1;
    struct sockaddr_in address = loopback_address(port);
    while (connect(fd, (struct sockaddr *)&address, sizeof address) == -1)
        if (errno != EINTR)
            return close_failed(fd);
    return fd;
}

long raise_open_files_limit(const char *program, long wanted)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == -1)
        return -1;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &limit) == -1)
            return -1;
    }
    if (limit.rlim_cur != RLIM_INFINITY && (long)limit.rlim_cur < wanted)
        fprintf(stderr,
                "%s: note: at most %ld open files (the hard limit), so fewer than %ld "
                "connections; raise it with `ulimit -Hn` as root\n",
                program, (long)limit.rlim_cur, wanted);
    return limit.rlim_cur == RLIM_INFINITY ? wanted : (long)limit.rlim_cur;
}

int send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t sent = send(fd, p, len, MSG_NOSIGNAL);
        if (sent == -1) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += sent;
        len -= (size_t)sent;
    }
    return 0;
}

const char *out_of_what(int error)
{
    switch (error) {
    case EMFILE: return "out of file descriptors (this process's limit: ulimit -n)";
    case ENFILE: return "out of file descriptors (the system's limit: fs.file-max)";
    case ENOMEM: return "out of memory";
    case ENOBUFS: return "out of memory for socket buffers";
    case EADDRNOTAVAIL: return "out of local ports (net.ipv4.ip_local_port_range)";
    default: return NULL;
    }
}
