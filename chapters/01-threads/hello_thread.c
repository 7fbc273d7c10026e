/**
 * @file hello_thread.c
 * @brief Start one thread, wait for it with pthread_join, and see both run.
 *
 * What to look for: main() starts a second thread with pthread_create(), which runs greet()
 * while main carries on. pthread_join() then waits until greet() has returned. The two
 * "hello" lines show two flows of control in one process: same PID, different thread IDs.
 *
 * Unlike most calls, pthread functions do not set errno: they return an error number
 * (0 on success). The kit checks them with KIT_CHECK_EN().
 *
 * See also: many_threads.c (many threads at once), forgot_join.c (what happens without join).
 *
 * Usage: hello_thread [-n NAME]
 */
#define _GNU_SOURCE /* gettid() */
#include "kit.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static const char usage[] = "Usage: hello_thread [options]\n"
                            "Start one thread, then wait for it with pthread_join.\n"
                            "  -n, --name=TEXT   what the thread greets (default: world)\n"
                            "  -h, --help        show this help and exit\n";

/* A thread's start routine takes one void * and returns one void *: here, the name to greet. */
static void *greet(void *arg)
{
    const char *name = arg;
    printf("hello, %s, from the new thread   (pid %d, thread id %d)\n", name, (int)getpid(),
           (int)gettid());
    return NULL;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"name", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *name = "world";

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "n:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'n': name = optarg; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    printf("hello from main                    (pid %d, thread id %d)\n", (int)getpid(),
           (int)gettid());

    pthread_t thread;
    KIT_CHECK_EN(pthread_create(&thread, NULL, greet, (void *)name));
    KIT_CHECK_EN(pthread_join(thread, NULL)); /* blocks until greet() returns */

    printf("OK: the thread ran and was joined\n");
    return 0;
}
