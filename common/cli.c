/**
 * @file cli.c
 * @brief The program contract's command-line half: usage text, usage errors, checked numbers,
 *        and the standard streams made safe before a program starts.
 */
#define _GNU_SOURCE /* program_invocation_short_name, strerrorname_np */
#include "kit.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *registered_usage = "(no usage text: call kit_cli_init first)\n";

/* Print `program: what: reason (ENAME)` on stderr, with write(2): safe in any state. */
static void say_failure(const char *what, int en)
{
    const char *name = strerrorname_np(en);
    char message[256];
    int length = snprintf(message, sizeof message, "%s: %s: %s (%s)\n",
                          program_invocation_short_name, what, strerror(en), name ? name : "?");
    if (length > 0) {
        ssize_t ignored = write(STDERR_FILENO, message, (size_t)length);
        (void)ignored; /* nothing better to do if stderr is gone too */
    }
}

/* Why did an earlier write to stdout fail? stdio keeps the error flag, not errno, so ask the
 * descriptor again: a zero-byte write fails the same way on a closed descriptor or a full
 * device, and poll flags a pipe whose reader has gone. */
static int stdout_failure_reason(void)
{
    if (write(STDOUT_FILENO, "", 0) == -1)
        return errno;
    struct pollfd out = {.fd = STDOUT_FILENO, .events = POLLOUT};
    if (poll(&out, 1, 0) == 1 && (out.revents & POLLERR))
        return EPIPE;
    return EIO; /* the reason is gone: report a plain I/O error */
}

/* At exit: whatever the program printed must have reached stdout. If not (`> /dev/full`, a
 * closed pipe, a closed descriptor), say so and turn the exit status into 1: output that
 * silently went nowhere must not look like success. */
static void check_stdout_at_exit(void)
{
    errno = 0;
    bool flushed = fflush(stdout) == 0;
    int flush_errno = errno;
    if (flushed && !ferror(stdout))
        return;
    say_failure("write to stdout",
                !flushed && flush_errno != 0 ? flush_errno : stdout_failure_reason());
    _exit(EXIT_FAILURE);
}

/* A program started with 0, 1 or 2 closed would hand its next pipe or socket that number, and
 * printf would write into the pipe. Put /dev/null there first. stdout closed is an error of
 * its own: nothing the program prints could be seen, so it stops here and says so. */
static void fill_closed_standard_descriptors(void)
{
    bool stdout_was_closed = false;
    for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        stdout_was_closed |= fd == STDOUT_FILENO;
        int opened = open("/dev/null", O_RDWR); /* the lowest free number: fd itself */
        if (opened != fd)
            _exit(EXIT_FAILURE); /* cannot happen: lower ones are open; no way to tell anyone */
    }
    if (stdout_was_closed) {
        say_failure("stdout is closed, so nothing this program prints could be seen", EBADF);
        _exit(EXIT_FAILURE);
    }
}

void kit_cli_init(const char *usage_text)
{
    registered_usage = usage_text;
    fill_closed_standard_descriptors();
    /* A reader that went away (`prog | head -1`) must not kill us silently with SIGPIPE: the
     * write fails with EPIPE instead, and the check at exit reports it. Programs that exec
     * another program put SIGPIPE back to its default in the child first. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        kit_die_errno("signal SIGPIPE");
    /* Line by line, even into a pipe or a file: a run killed by a timeout has printed every
     * line so far, and a child forked after a newline inherits no unprinted output. */
    if (setvbuf(stdout, NULL, _IOLBF, 0) != 0)
        kit_die("setvbuf stdout: cannot make it line-buffered");
    if (atexit(check_stdout_at_exit) != 0)
        kit_die("atexit failed");
}

void kit_usage_exit(int status)
{
    FILE *out = status == 0 ? stdout : stderr;
    fputs(registered_usage, out);
    exit(status);
}

void kit_usage_error(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fflush(stdout);
    fprintf(stderr, "%s: ", program_invocation_short_name);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    kit_usage_exit(2);
}

/* The one number syntax of every option: an optional minus sign, digits, an optional fraction
 * and an optional exponent: `5`, `-1`, `0.25`, `2e6`, `1.5E-3`. Nothing else: no spaces, no
 * plus sign, no hex, no inf or nan. Sets *whole_digits when the text is digits only. */
static bool is_number_text(const char *text, bool *whole_digits)
{
    const char *at = text;
    if (*at == '-')
        at++;
    if (*at < '0' || *at > '9')
        return false;
    while (*at >= '0' && *at <= '9')
        at++;
    *whole_digits = *at == '\0';
    if (*at == '.') {
        at++;
        if (*at < '0' || *at > '9')
            return false;
        while (*at >= '0' && *at <= '9')
            at++;
    }
    if (*at == 'e' || *at == 'E') {
        at++;
        if (*at == '-' || *at == '+')
            at++;
        if (*at < '0' || *at > '9')
            return false;
        while (*at >= '0' && *at <= '9')
            at++;
    }
    return *at == '\0';
}

long kit_parse_long(const char *option, const char *text, long min, long max)
{
    bool whole_digits;
    if (!is_number_text(text, &whole_digits))
        kit_usage_error("%s: '%s' is not a number", option, text);
    if (whole_digits) { /* exact, whatever its size */
        errno = 0;
        long value = strtol(text, NULL, 10);
        if (errno == ERANGE || value < min || value > max)
            kit_usage_error("%s: %s is out of range (%ld to %ld)", option, text, min, max);
        return value;
    }
    double value = strtod(text, NULL); /* 2e6, 1.0: fine if the value is whole */
    if (value != floor(value))
        kit_usage_error("%s: %s is not a whole number", option, text);
    /* 9.2e18 is about LONG_MAX: compared first, so that the cast below cannot overflow. */
    if (!(fabs(value) < 9.2e18) || value < (double)min || value > (double)max)
        kit_usage_error("%s: %s is out of range (%ld to %ld)", option, text, min, max);
    return (long)value;
}

double kit_parse_double(const char *option, const char *text, double min, double max)
{
    bool whole_digits;
    if (!is_number_text(text, &whole_digits))
        kit_usage_error("%s: '%s' is not a number", option, text);
    errno = 0;
    double value = strtod(text, NULL);
    if (errno == ERANGE || !isfinite(value) || value < min || value > max)
        kit_usage_error("%s: %s is out of range (%g to %g)", option, text, min, max);
    return value;
}

void kit_no_operands(int argc, char *argv[], int first_operand)
{
    if (first_operand < argc)
        kit_usage_error("unexpected argument '%s'", argv[first_operand]);
}
