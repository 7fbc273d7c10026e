/**
 * @file cli.c
 * @brief The program contract's command-line half: usage text, usage errors, checked numbers.
 */
#define _GNU_SOURCE /* program_invocation_short_name */
#include "kit.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static const char *registered_usage = "(no usage text: call kit_cli_init first)\n";

void kit_cli_init(const char *usage_text)
{
    registered_usage = usage_text;
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

long kit_parse_long(const char *option, const char *text, long min, long max)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (end == text || *end != '\0')
        kit_usage_error("%s: '%s' is not a whole number", option, text);
    if (errno == ERANGE || value < min || value > max)
        kit_usage_error("%s: %s is out of range (%ld to %ld)", option, text, min, max);
    return value;
}

double kit_parse_double(const char *option, const char *text, double min, double max)
{
    char *end;
    errno = 0;
    double value = strtod(text, &end);
    if (end == text || *end != '\0' || isnan(value))
        kit_usage_error("%s: '%s' is not a number", option, text);
    if (errno == ERANGE || !isfinite(value) || value < min || value > max)
        kit_usage_error("%s: %s is out of range (%g to %g)", option, text, min, max);
    return value;
}

void kit_no_operands(int argc, char *argv[], int first_operand)
{
    if (first_operand < argc)
        kit_usage_error("unexpected argument '%s'", argv[first_operand]);
}
