/**
 * @file server_setup.c
 * @brief server_setup.h: the signal descriptor, the port file and the listening line.
 */
#define _GNU_SOURCE /* signalfd */
#include "server_setup.h"

#include "kit.h"

#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <unistd.h>

int stop_signals_fd(void)
{
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    if (signal(SIGINT, SIG_DFL) == SIG_ERR || signal(SIGTERM, SIG_DFL) == SIG_ERR ||
        signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        kit_die_errno("signal");
    /* Blocked in this thread before any other starts, so every thread inherits the mask and
     * the signals only ever arrive through the descriptor. */
    if (pthread_sigmask(SIG_BLOCK, &stop_signals, NULL) != 0)
        kit_die("pthread_sigmask failed");
    int fd = signalfd(-1, &stop_signals, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd == -1)
        kit_die_errno("signalfd");
    return fd;
}

void write_port_file(const char *path, int port)
{
    char temporary[4096];
    if (snprintf(temporary, sizeof temporary, "%s.tmp%ld", path, (long)getpid()) >=
        (int)sizeof temporary)
        kit_die("--port-file: path too long");
    FILE *file = fopen(temporary, "w");
    if (file == NULL)
        kit_die_errno("open %s", temporary);
    if (fprintf(file, "%d\n", port) < 0 || fclose(file) != 0)
        kit_die_errno("write %s", temporary);
    if (rename(temporary, path) == -1)
        kit_die_errno("rename %s to %s", temporary, path);
}

void announce_listening(int port, const char *port_file)
{
    if (port_file != NULL)
        write_port_file(port_file, port);
    if (printf("listening on http://127.0.0.1:%d\n", port) < 0 || fflush(stdout) == EOF)
        kit_die_errno("write to stdout");
}
