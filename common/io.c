/**
 * @file io.c
 * @brief Whole reads and writes on pipes and sockets, which may hand over less than asked.
 */
#include "kit.h"

#include <errno.h>
#include <unistd.h>

int kit_read_full(int fd, void *buffer, size_t size)
{
    size_t done = 0;
    while (done < size) {
        ssize_t got = read(fd, (char *)buffer + done, size - done);
        if (got > 0) {
            done += (size_t)got;
        } else if (got == 0) {
            if (done == 0)
                return 0;   /* a clean end of file, between records */
            errno = EPROTO; /* the writer went away in the middle of a record */
            return -1;
        } else if (errno != EINTR) {
            return -1;
        }
    }
    return 1;
}

int kit_write_full(int fd, const void *buffer, size_t size)
{
    size_t done = 0;
    while (done < size) {
        ssize_t put = write(fd, (const char *)buffer + done, size - done);
        if (put >= 0)
            done += (size_t)put;
        else if (errno != EINTR)
            return -1;
    }
    return 0;
}
