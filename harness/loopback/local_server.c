/**
 * @file local_server.c
 * @brief local_server.h: fork, exec loop_server --port 0, read its listening line, and stop it.
 */
#define _GNU_SOURCE /* pipe2, prctl */
#include "local_server.h"

#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long the server may take to print its listening line (a sanitizer build starts slowly). */
static const int START_TIMEOUT_MS = 10000;
/* How long it may take to exit after SIGTERM before it is killed. */
static const int STOP_TIMEOUT_MS = 2000;
enum { MAX_EXTRA_ARGS = 16 };

/* The path of chapter 09's @p program in the build tree of the running program. */
static int server_path(const char *program, char *path, size_t size)
{
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len == -1) {
        fprintf(stderr, "local server: readlink /proc/self/exe: %s\n", strerror(errno));
        return -1;
    }
    self[len] = '\0';
    if (snprintf(path, size, "%s/../../chapters/09-servers/%s", dirname(self), program) >=
        (int)size) {
        fprintf(stderr, "local server: path too long\n");
        return -1;
    }
    if (access(path, X_OK) == -1) {
        fprintf(stderr, "local server: %s: %s (build it with make chapter-09)\n", path,
                strerror(errno));
        return -1;
    }
    return 0;
}

/* In the child: stdout to the pipe, default signals, die with the parent, exec the server. */
static void exec_server(const char *path, int out_fd, pid_t parent, const char *const argv[])
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != parent) /* parent gone already */
        _exit(1);
    if (dup2(out_fd, STDOUT_FILENO) == -1)
        _exit(1);
    execv(path, (char *const *)argv);
    char message[PATH_MAX + 64];
    int len =
        snprintf(message, sizeof message, "local server: exec %s: %s\n", path, strerror(errno));
    if (len > 0 && write(STDERR_FILENO, message, (size_t)len) < 0)
        _exit(127);
    _exit(127);
}

/* Read the server's first line from @p fd within START_TIMEOUT_MS; returns its port or -1. */
static int read_listening_line(int fd)
{
    char line[256];
    size_t len = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (len < sizeof line - 1 && memchr(line, '\n', len) == NULL) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long waited_ms =
            (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        struct pollfd ready = {.fd = fd, .events = POLLIN};
        int polled =
            waited_ms < START_TIMEOUT_MS ? poll(&ready, 1, (int)(START_TIMEOUT_MS - waited_ms)) : 0;
        if (polled == -1 && errno == EINTR)
            continue;
        if (polled <= 0) {
            fprintf(stderr, "local server: no listening line within %d ms%s%s\n", START_TIMEOUT_MS,
                    polled ? ": " : "", polled ? strerror(errno) : "");
            return -1;
        }
        ssize_t got = read(fd, line + len, sizeof line - 1 - len);
        if (got == -1 && errno == EINTR)
            continue;
        if (got <= 0) {
            fprintf(stderr, "local server: exited before listening%s%s\n", got ? ": " : "",
                    got ? strerror(errno) : "");
            return -1;
        }
        len += (size_t)got;
    }
    line[len] = '\0';
    int port;
    if (sscanf(line, "listening on http://127.0.0.1:%d", &port) != 1 || port <= 0 || port > 65535) {
        fprintf(stderr, "local server: unexpected first line: %s", line);
        return -1;
    }
    return port;
}

int local_server_start_program(struct local_server *server, const char *program,
                               const char *const extra_args[])
{
    char path[PATH_MAX];
    const char *argv[MAX_EXTRA_ARGS + 4] = {program, "--port=0", "--quiet"};
    size_t argc = 3;
    for (size_t i = 0; extra_args && extra_args[i] && argc < MAX_EXTRA_ARGS + 3; i++)
        argv[argc++] = extra_args[i];
    argv[argc] = NULL;
    *server = (struct local_server){0};
    if (server_path(program, path, sizeof path) == -1)
        return -1;
    int out[2];
    if (pipe2(out, O_CLOEXEC) == -1) {
        fprintf(stderr, "local server: pipe: %s%s%s\n", strerror(errno),
                out_of_what(errno) ? ": " : "", out_of_what(errno) ? out_of_what(errno) : "");
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == -1) {
        fprintf(stderr, "local server: fork: %s%s\n", strerror(errno),
                errno == EAGAIN ? ": out of processes (ulimit -u, kernel.threads-max)" : "");
        close(out[0]), close(out[1]);
        return -1;
    }
    if (pid == 0)
        exec_server(path, out[1], parent, argv);
    close(out[1]);
    server->pid = pid;
    int port = read_listening_line(out[0]);
    close(out[0]); /* the server prints nothing else on stdout */
    if (port == -1) {
        local_server_stop(server);
        return -1;
    }
    server->port = port;
    snprintf(server->url, sizeof server->url, "http://127.0.0.1:%d", port);
    return 0;
}

int local_server_start(struct local_server *server)
{
    return local_server_start_program(server, "loop_server", NULL);
}

void local_server_stop(struct local_server *server)
{
    if (server->pid <= 0)
        return;
    kill(server->pid, SIGTERM);
    int status = 0;
    pid_t done = 0;
    for (int waited_ms = 0; done == 0 && waited_ms < STOP_TIMEOUT_MS; waited_ms += 10) {
        done = waitpid(server->pid, &status, WNOHANG);
        if (done == 0)
            nanosleep(&(struct timespec){0, 10 * 1000000}, NULL);
        else if (done == -1 && errno == EINTR)
            done = 0;
    }
    if (done == 0) {
        fprintf(stderr, "local server: pid %ld still running %d ms after SIGTERM: killed\n",
                (long)server->pid, STOP_TIMEOUT_MS);
        kill(server->pid, SIGKILL);
        while ((done = waitpid(server->pid, &status, 0)) == -1 && errno == EINTR)
            ;
    }
    if (done == server->pid && WIFEXITED(status) && WEXITSTATUS(status) != 0)
        fprintf(stderr, "local server: exited with status %d\n", WEXITSTATUS(status));
    else if (done == server->pid && WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
        fprintf(stderr, "local server: killed by %s\n", strsignal(WTERMSIG(status)));
    server->pid = 0;
}
