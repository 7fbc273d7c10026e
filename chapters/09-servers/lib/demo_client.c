/**
 * @file demo_client.c
 * @brief demo_client.h: the demo's requests, in a thread beside the server.
 */
#include "demo_client.h"

#include "kit.h"

#include "../../../harness/loopback/loopback_get.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { AT_ONCE = 4 };    /* the /delay requests sent together */
enum { MAX_SHOWN = 96 }; /* the most of a body's first line shown */
static const char delay_path[] = "/delay/0.5";

struct demo_client {
    int port;
    int done[2];  /* a pipe: the client writes a byte into done[1] when it has finished */
    int failed;   /* requests that got no answer or not 200 OK */
    double start; /* when the client started, for the verdict's seconds */
    pthread_t thread;
};

/* One GET, printed as `  GET PATH -> STATUS: BODY` (the body's first line, cut to fit), or
 * with why it got no answer. Returns 1 when it got none or not 200 OK, else 0. */
static int get_and_show(int port, const char *path)
{
    char answer[2048];
    int status = loopback_get(port, path, answer, sizeof answer);
    if (status == -1) {
        printf("  GET %s -> no answer: %s\n", path, strerror(errno));
        return 1;
    }
    const char *body = strstr(answer, "\r\n\r\n");
    body = body ? body + 4 : "";
    int length = (int)strcspn(body, "\r\n");
    bool more = length > MAX_SHOWN || body[length + strspn(body + length, "\r\n")] != '\0';
    printf("  GET %s -> %d: %.*s%s\n", path, status, length > MAX_SHOWN ? MAX_SHOWN : length, body,
           more ? " ..." : "");
    return status != 200;
}

/* One of the requests sent together: a GET whose status goes into *data. */
struct delayed {
    int port;
    int status;
};

static void *get_delayed(void *data)
{
    struct delayed *request = data;
    char answer[512];
    request->status = loopback_get(request->port, delay_path, answer, sizeof answer);
    return NULL;
}

/* AT_ONCE clients GET delay_path together, each on a connection of its own. */
static int get_at_once(int port)
{
    struct delayed requests[AT_ONCE];
    pthread_t threads[AT_ONCE];
    double start = kit_now();
    for (int i = 0; i < AT_ONCE; i++) {
        requests[i] = (struct delayed){.port = port, .status = -1};
        int en = pthread_create(&threads[i], NULL, get_delayed, &requests[i]);
        if (en != 0)
            kit_die("pthread_create: %s", strerror(en));
    }
    int failed = 0;
    printf("  %d clients GET %s at once ->", AT_ONCE, delay_path);
    for (int i = 0; i < AT_ONCE; i++) {
        int en = pthread_join(threads[i], NULL);
        if (en != 0)
            kit_die("pthread_join: %s", strerror(en));
        failed += requests[i].status != 200;
        if (requests[i].status == -1)
            printf(" none");
        else
            printf(" %d", requests[i].status);
    }
    if (failed > 0)
        printf(", %d not 200 OK after %.2f s\n", failed, kit_seconds_since(start));
    else
        printf(", all answered after %.2f s (one after another: %d x 0.5 s)\n",
               kit_seconds_since(start), AT_ONCE);
    return failed;
}

static void *run_demo(void *data)
{
    struct demo_client *demo = data;
    demo->failed += get_and_show(demo->port, "/numbers/5?seed=7");
    demo->failed += get_and_show(demo->port, "/json");
    demo->failed += get_at_once(demo->port);
    demo->failed += get_and_show(demo->port, "/stats");
    if (write(demo->done[1], "", 1) != 1)
        kit_die_errno("write to the demo's pipe");
    return NULL;
}

struct demo_client *demo_client_start(const char *program, int port)
{
    if (printf("demo: a client of its own GETs a few paths, then the server stops (for one that\n"
               "      stays: `%s --port 8080 &`, then `curl localhost:8080/json`)\n",
               program) < 0 ||
        fflush(stdout) == EOF)
        kit_die_errno("write to stdout");
    struct demo_client *demo = calloc(1, sizeof *demo);
    if (demo == NULL)
        kit_die_errno("calloc");
    demo->port = port;
    demo->start = kit_now();
    if (pipe(demo->done) != 0)
        kit_die_errno("pipe");
    int en = pthread_create(&demo->thread, NULL, run_demo, demo);
    if (en != 0)
        kit_die("pthread_create the demo's client: %s", strerror(en));
    return demo;
}

int demo_client_done_fd(const struct demo_client *demo)
{
    return demo->done[0];
}

bool demo_client_done(const struct demo_client *demo)
{
    struct pollfd done = {.fd = demo->done[0], .events = POLLIN};
    int ready = poll(&done, 1, 0);
    if (ready == -1)
        kit_die_errno("poll the demo's pipe");
    return ready == 1;
}

int demo_client_finish(struct demo_client *demo, bool done, long served, long most)
{
    int en = pthread_join(demo->thread, NULL);
    if (en != 0)
        kit_die("pthread_join the demo's client: %s", strerror(en));
    int failed = demo->failed;
    double seconds = kit_seconds_since(demo->start);
    if (close(demo->done[0]) != 0 || close(demo->done[1]) != 0)
        kit_die_errno("close the demo's pipe");
    free(demo);
    if (!done && printf("demo: the server stopped before its client was done\n") < 0)
        kit_die_errno("write to stdout");
    if (done && failed > 0) {
        if (printf("FAILED: %d of the demo's requests got no answer or not 200 OK\n", failed) < 0)
            kit_die_errno("write to stdout");
        return 1;
    }
    if (printf("OK: served %ld requests in %.2f s, at most %ld at once; give --port to serve "
               "until Ctrl-C\n",
               served, seconds, most) < 0)
        kit_die_errno("write to stdout");
    return 0;
}
