/**
 * @file queue_demo.c
 * @brief Exercise 03's try-it program, with the solved lib/queue.c: producers and consumers.
 *
 * What to look for: producers put the numbers 1..N into your queue, consumers take them out
 * and add them up; at the end the program checks that the sum is N(N+1)/2 and prints `OK` or
 * `BROKEN`. With the stub queue.c as given, it stops at once: the stub cannot wait, so the
 * first get on an empty queue ends the program with a message saying so. Once your queue
 * waits and wakes correctly, the sum is right on every run, on one CPU as on many.
 *
 * This program is yours to change and experiment with; the grader does not use it (it has its
 * own, stricter programs: see README.md).
 *
 * Usage: queue_demo [-p N] [-c N] [-n N] [-k N]
 */
#include "kit.h"
#include "lib/queue.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage[] = "Usage: queue_demo [options]\n"
                            "Producers put 1..N into your queue, consumers add up what they get.\n"
                            "  -p, --producers=N   producer threads (default 2)\n"
                            "  -c, --consumers=N   consumer threads (default 2)\n"
                            "  -n, --items=N       numbers put in all (default 100000)\n"
                            "  -k, --capacity=N    slots in the queue (default 8)\n"
                            "  -h, --help          show this help and exit\n";

struct demo {
    struct queue *queue;
    long items, producers;
};

struct worker {
    pthread_t thread;
    struct demo *demo;
    long index; /* producer: which numbers it puts; consumer: unused */
    long sum;   /* consumer: what it took out, added up */
};

static void *produce(void *arg)
{
    struct worker *worker = arg;
    for (long n = 1 + worker->index; n <= worker->demo->items; n += worker->demo->producers)
        if (!queue_put(worker->demo->queue, n))
            kit_die("queue_put refused %ld: the queue was closed too early", n);
    return NULL;
}

static void *consume(void *arg)
{
    struct worker *worker = arg;
    long n;
    while (queue_get(worker->demo->queue, &n)) /* false: closed and empty */
        worker->sum += n;
    return NULL;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"producers", required_argument, NULL, 'p'},
        {"consumers", required_argument, NULL, 'c'},
        {"items", required_argument, NULL, 'n'},
        {"capacity", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long producers = 2, consumers = 2, capacity = 8;
    struct demo demo = {.items = 100000};
    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "p:c:n:k:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'p': producers = kit_parse_long("--producers", optarg, 1, 64); break;
        case 'c': consumers = kit_parse_long("--consumers", optarg, 1, 64); break;
        case 'n': demo.items = kit_parse_long("--items", optarg, 1, 10000000); break;
        case 'k': capacity = kit_parse_long("--capacity", optarg, 1, 1000000); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    demo.producers = producers;
    demo.queue = queue_create((size_t)capacity);
    struct worker *workers = calloc((size_t)(producers + consumers), sizeof workers[0]);
    if (demo.queue == NULL || workers == NULL)
        kit_die_errno("queue_create or calloc");
    printf("%ld producers put 1..%ld into %ld slots; %ld consumers add them up\n", producers,
           demo.items, capacity, consumers);
    fflush(stdout);

    for (long w = 0; w < producers + consumers; w++) {
        workers[w] = (struct worker){.demo = &demo, .index = w};
        KIT_CHECK_EN(pthread_create(&workers[w].thread, NULL, w < producers ? produce : consume,
                                    &workers[w]));
    }
    for (long w = 0; w < producers; w++)
        KIT_CHECK_EN(pthread_join(workers[w].thread, NULL));
    queue_close(demo.queue); /* every number is in: consumers drain the rest and stop */
    long sum = 0;
    for (long w = producers; w < producers + consumers; w++) {
        KIT_CHECK_EN(pthread_join(workers[w].thread, NULL));
        sum += workers[w].sum;
    }
    queue_destroy(demo.queue);
    free(workers);

    long expected = demo.items * (demo.items + 1) / 2;
    if (sum != expected) {
        printf("BROKEN: expected a sum of %ld, got %ld\n", expected, sum);
        return 1;
    }
    printf("OK: expected a sum of %ld, got %ld\n", expected, sum);
    return 0;
}
