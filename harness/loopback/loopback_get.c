/**
 * @file loopback_get.c
 * @brief loopback_get.h: GET on a fresh loopback connection, and a figure out of /stats.
 */
#include "loopback_get.h"

#include "net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static const struct timeval READ_TIMEOUT = {10, 0}; /* the longest any single read may wait */

int loopback_get(int port, const char *path, char *buf, size_t size)
{
    int fd = connect_loopback(port);
    if (fd == -1)
        return -1;
    char request[256];
    int len = snprintf(request, sizeof request,
                       "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    size_t got = 0;
    int status = -1;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &READ_TIMEOUT, sizeof READ_TIMEOUT) == 0 &&
        send_all(fd, request, (size_t)len) == 0) {
        ssize_t n;
        errno = 0; /* recv() returning 0 (end of file) leaves it as it is */
        while (got < size - 1 && (n = recv(fd, buf + got, size - 1 - got, 0)) > 0)
            got += (size_t)n;
        buf[got] = '\0';
        if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
            errno = got ? EPROTO : (errno ? errno : ECONNRESET), status = -1;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return status;
}

long loopback_stat(int port, const char *path, const char *name)
{
    char response[1024], key[64];
    if (port <= 0 || loopback_get(port, path, response, sizeof response) != 200)
        return -1;
    snprintf(key, sizeof key, "\"%s\": ", name);
    const char *at = strstr(response, key);
    return at ? strtol(at + strlen(key), NULL, 10) : -1;
}

int loopback_port_of_url(const char *url)
{
    int port, end = 0;
    if ((sscanf(url, "http://127.0.0.1:%d%n", &port, &end) != 1 &&
         sscanf(url, "http://localhost:%d%n", &port, &end) != 1) ||
        (url[end] != '\0' && strcmp(url + end, "/") != 0) || port <= 0 || port > 65535)
        return -1;
    return port;
}
