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

/* Format `program: message: reason (ENAME) [file:line]` into buf. en == 0 means "no reason". */
KIT_PRINTF(6, 0) static void format_failure(char *buf, size_t size, const char *file, int line,
                                             int en, const char *fmt, va_list args)
{
    const char *base = strrchr(file, '/');
    size_t used = (size_t)snprintf(buf, size, "%s: ", program_invocation_short_name);
    if (used < size)
        used += (size_t)vsnprintf(buf + used, size - used, fmt, args);
    if (en != 0 && used < size) {
        const char *name = strerrorname_np(en);
        used += (size_t)snprintf(buf + used, size - used, ": %s (%s)", strerror(en),
                                 name ? name : "?");
    }
    if (used < size)
        snprintf(buf + used, size - used, " [%s:%d]\n", base ? base + 1 : file, line);
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
