/**
 * @file die.c
 * @brief Fatal-error exits: what failed, why (with the errno name), and where.
 */
#define _GNU_SOURCE /* program_invocation_short_name, strerrorname_np */
#include "kit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Format `program: message: reason (ENAME) [file:line]` into buf. en == 0 means "no reason".
 * The reason and the place are written first, at the end of what fits: however long the
 * message (a path, a command line), only the message is cut, and it ends with "..." then. */
KIT_PRINTF(6, 0)
static void format_failure(char *buf, size_t size, const char *file, int line, int en,
                           const char *fmt, va_list args)
{
    const char *base = strrchr(file, '/');
    char tail[256];
    size_t tail_length;
    if (en != 0) {
        const char *name = strerrorname_np(en);
        tail_length = (size_t)snprintf(tail, sizeof tail, ": %s (%s) [%s:%d]\n", strerror(en),
                                       name ? name : "?", base ? base + 1 : file, line);
    } else {
        tail_length =
            (size_t)snprintf(tail, sizeof tail, " [%s:%d]\n", base ? base + 1 : file, line);
    }
    if (tail_length >= sizeof tail) /* an absurdly long file name: keep the newline */
        tail_length = sizeof tail - 1;
    tail[tail_length - 1] = '\n';

    size_t room = size - tail_length; /* for "program: message", with its terminating '\0' */
    size_t used = (size_t)snprintf(buf, room, "%s: ", program_invocation_short_name);
    if (used < room)
        used += (size_t)vsnprintf(buf + used, room - used, fmt, args);
    if (used >= room) { /* cut: end what is left of the message with "..." */
        used = room - 1;
        memcpy(buf + used - 3, "...", 3);
    }
    memcpy(buf + used, tail, tail_length + 1);
}

/* Print the formatted message after whatever the program printed so far, and exit. */
KIT_NORETURN static void die_with(const char *message)
{
    fflush(stdout);
    fputs(message, stderr);
    exit(EXIT_FAILURE);
}

void kit_die_errno_at(const char *file, int line, const char *fmt, ...)
{
    int saved_errno = errno;
    char message[1024];
    va_list args;
    va_start(args, fmt);
    format_failure(message, sizeof message, file, line, saved_errno, fmt, args);
    va_end(args);
    die_with(message);
}

void kit_die_en_at(const char *file, int line, int en, const char *fmt, ...)
{
    char message[1024];
    va_list args;
    va_start(args, fmt);
    format_failure(message, sizeof message, file, line, en, fmt, args);
    va_end(args);
    die_with(message);
}

void kit_die_at(const char *file, int line, const char *fmt, ...)
{
    char message[1024];
    va_list args;
    va_start(args, fmt);
    format_failure(message, sizeof message, file, line, 0, fmt, args);
    va_end(args);
    die_with(message);
}

void kit_child_die_errno_at(const char *file, int line, const char *fmt, ...)
{
    int saved_errno = errno;
    char message[1024];
    va_list args;
    va_start(args, fmt);
    format_failure(message, sizeof message, file, line, saved_errno, fmt, args);
    va_end(args);
    ssize_t ignored = write(STDERR_FILENO, message, strlen(message));
    (void)ignored; /* nothing better to do if stderr is gone */
    _exit(EXIT_FAILURE);
}
