/**
 * @file grade_queue.c
 * @brief The grader's driver for exercise 03: checks a queue.h implementation, one test a run.
 *
 * The grader builds this file beside the student's lib/queue.c (tests/grade/prepare), so the
 * student's own files never decide how they are graded. Each --test prints one verdict line,
 * `OK: ...` (exit 0) or `BROKEN: what was expected, what happened` (exit 1):
 *
 *   get-blocks     get on an empty queue waits, and wakes with the item a put brings
 *   put-blocks     a third put into two slots waits until a get makes room; order kept
 *   stolen-wakeup  a getter woken for an item that another thread took waits again (while,
 *                  not if), 20 times over (rounds in which it wins the item prove nothing
 *                  and do not count)
 *   many-waiters   3 getters waiting on an empty queue each get one of 3 items put; 3 putters
 *                  waiting on a full queue each get their item in as gets make room
 *   close-getters  close wakes 3 getters waiting on an empty queue; each returns false
 *   close-putters  close wakes 3 putters waiting on a full queue; each returns false, and
 *                  get then hands out the items that were in, in order, then says closed
 *   close-room     a closed queue with free slots (one a getter has waited on) refuses a put
 *                  (returns false, and the item never comes out); get hands out what is left,
 *                  then says closed, every time
 *   stress         producers and consumers through a small queue: every item exactly once,
 *                  each producer's items in order
 *
 * "Waits" is judged by the kernel: the calling thread is asleep (state S in
 * /proc/self/task/TID/stat) and has not returned; a queue that does not wait returns instead,
 * however busy the machine. "Wakes" is judged by its returning within 5 s.
 *
 * Usage: grade_queue --test=NAME [-p N] [-c N] [-n N] [-k N]
 */
#define _GNU_SOURCE /* gettid() */
#include "kit.h"
#include "lib/queue.h"

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "Usage: grade_queue [options]\n"
    "Checks a queue.h implementation (the grader's driver for exercise 03).\n"
    "  -t, --test=NAME       get-blocks, put-blocks, stolen-wakeup, many-waiters,\n"
    "                        close-getters, close-putters, close-room or stress\n"
    "  -p, --producers=N     stress: producer threads (default 4)\n"
    "  -c, --consumers=N     stress: consumer threads (default 4)\n"
    "  -n, --items=N         stress: items in all (default 20000)\n"
    "  -k, --capacity=N      stress: slots in the queue (default 2)\n"
    "  -h, --help            show this help and exit\n";

static const double WAKE_S = 5.0; /* time a woken thread gets to return */

static _Noreturn void broken(const char *what)
{
    printf("BROKEN: %s\n", what);
    fflush(stdout);
    _exit(1); /* threads may be stuck in the queue: do not wait for them */
}

static struct queue *make_queue(size_t capacity)
{
    struct queue *queue = queue_create(capacity);
    if (queue == NULL)
        broken("queue_create returned NULL");
    return queue;
}

/* A thread doing one get or one put, watched from main. */
struct call {
    pthread_t thread;
    struct queue *queue;
    long item;          /* put: the item; get: what came out */
    bool returned_true; /* what the call returned */
    atomic_bool done;   /* set when the call has returned */
    atomic_int tid;     /* the calling thread's id, once it runs */
};

static void *one_get(void *arg)
{
    struct call *call = arg;
    atomic_store(&call->tid, (int)gettid());
    call->returned_true = queue_get(call->queue, &call->item);
    atomic_store(&call->done, true);
    return NULL;
}

static void *one_put(void *arg)
{
    struct call *call = arg;
    atomic_store(&call->tid, (int)gettid());
    call->returned_true = queue_put(call->queue, call->item);
    atomic_store(&call->done, true);
    return NULL;
}

static void start(struct call *call, struct queue *queue, void *(*fn)(void *), long item)
{
    call->queue = queue;
    call->item = item;
    atomic_store(&call->done, false);
    atomic_store(&call->tid, 0);
    KIT_CHECK_EN(pthread_create(&call->thread, NULL, fn, call));
}

/* Whether thread tid is asleep: blocked in the kernel, on a condition variable or a mutex. */
static bool asleep(int tid)
{
    char path[64], stat[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return false; /* gone: it returned */
    size_t length = fread(stat, 1, sizeof stat - 1, file);
    fclose(file);
    stat[length] = '\0';
    const char *state = strrchr(stat, ')'); /* the name may hold spaces and parentheses */
    return state != NULL && state[1] == ' ' && state[2] == 'S';
}

/* Wait until the call waits in the queue (its thread asleep) or has returned: true if it waits.
 * A call still running after WAKE_S without either (a busy wait) counts as waiting. */
static bool waits(struct call *call)
{
    double start_time = kit_now();
    while (kit_seconds_since(start_time) < WAKE_S) {
        if (atomic_load(&call->done))
            return false;
        int tid = atomic_load(&call->tid);
        if (tid != 0 && asleep(tid))
            return !atomic_load(&call->done);
        kit_sleep(0.001);
    }
    return !atomic_load(&call->done);
}

/* Wait up to WAKE_S for the call to return, then join it. */
static void finish(struct call *call, const char *what_waited)
{
    double start_time = kit_now();
    while (!atomic_load(&call->done)) {
        if (kit_seconds_since(start_time) > WAKE_S) {
            char message[200];
            snprintf(message, sizeof message, "%s, still waiting %.0f s later (no wake-up?)",
                     what_waited, WAKE_S);
            broken(message);
        }
        kit_sleep(0.001);
    }
    KIT_CHECK_EN(pthread_join(call->thread, NULL));
}

static void test_get_blocks(void)
{
    struct queue *queue = make_queue(2);
    struct call get;
    start(&get, queue, one_get, 0);
    if (!waits(&get))
        broken("queue_get on an empty queue returned at once; it must wait for an item");
    if (!queue_put(queue, 7))
        broken("queue_put on an open queue returned false");
    finish(&get, "queue_get got an item put after it started waiting");
    if (!get.returned_true || get.item != 7)
        broken("queue_get woke up but did not return true with the item put (7)");
    queue_destroy(queue);
    printf("OK: get waited on the empty queue and woke up with the item put\n");
}

static void test_put_blocks(void)
{
    struct queue *queue = make_queue(2);
    if (!queue_put(queue, 1) || !queue_put(queue, 2))
        broken("queue_put into free slots returned false");
    struct call put;
    start(&put, queue, one_put, 3);
    if (!waits(&put))
        broken("a third queue_put into 2 slots returned at once; it must wait for room");
    long item = 0;
    if (!queue_get(queue, &item) || item != 1)
        broken("the first queue_get did not return the first item put (1)");
    finish(&put, "a get made room for a waiting put");
    for (long expected = 2; expected <= 3; expected++)
        if (!queue_get(queue, &item) || item != expected)
            broken("items did not come out in the order they went in (1, 2, 3)");
    queue_destroy(queue);
    printf("OK: put waited on the full queue, woke up for a get; order 1 2 3 kept\n");
}

/* Ends a round of test_stolen_wakeup() in which the waiting getter won the item after all:
 * main's own get then waits for nothing, so close the queue under it after a while. */
struct closer {
    pthread_t thread;
    struct queue *queue;
    atomic_bool main_done; /* main's get has returned */
};

static void *close_unless_done(void *arg)
{
    struct closer *closer = arg;
    double start_time = kit_now();
    while (!atomic_load(&closer->main_done) && kit_seconds_since(start_time) < 0.3)
        kit_sleep(0.001);
    if (!atomic_load(&closer->main_done))
        queue_close(closer->queue);
    return NULL;
}

static void test_stolen_wakeup(void)
{
    int judged = 0, rounds = 0;
    for (; rounds < 60 && judged < 20; rounds++) {
        struct queue *queue = make_queue(4);
        struct call get;
        start(&get, queue, one_get, 0);
        kit_sleep(0.02); /* let it wait */
        struct closer closer = {.queue = queue};
        atomic_store(&closer.main_done, false);
        KIT_CHECK_EN(pthread_create(&closer.thread, NULL, close_unless_done, &closer));
        /* Put an item, which wakes the waiting getter, and take it ourselves at once: main
         * is already running, so it nearly always gets the mutex first, and the woken getter
         * then finds the queue empty again and must go back to waiting. */
        long item = 0;
        bool main_took_it = queue_put(queue, 100) && queue_get(queue, &item);
        atomic_store(&closer.main_done, true);
        KIT_CHECK_EN(pthread_join(closer.thread, NULL));
        if (main_took_it) {
            judged++;
            kit_sleep(0.02);
            if (atomic_load(&get.done))
                broken("a getter woken for an item another thread took returned anyway, with "
                       "no item in the queue: check the condition again after every wake-up "
                       "(while, not if)");
            queue_close(queue); /* ends its wait: closed and empty */
            finish(&get, "a getter waiting on a queue being closed woke up");
            if (get.returned_true)
                broken("queue_get on a closed, empty queue returned true");
        } else { /* the woken getter won the item: fine, but this round proves nothing */
            finish(&get, "the woken getter returned with the item");
            if (!get.returned_true || get.item != 100)
                broken("the waiting getter woke up without the item put for it");
        }
        queue_destroy(queue);
    }
    if (judged == 0)
        printf("note: in all %d rounds the woken getter won the item: nothing to judge\n", rounds);
    printf("OK: %d times, a getter whose item was taken went back to waiting\n", judged);
}

enum { WAITERS = 3 };

/* Start WAITERS calls of fn on queue (items first_item, first_item + 1, ...), each of which
 * must wait: what_waits says where. */
static void start_waiters(struct call calls[WAITERS], struct queue *queue, void *(*fn)(void *),
                          long first_item, const char *what_waits)
{
    for (int w = 0; w < WAITERS; w++)
        start(&calls[w], queue, fn, first_item + w);
    for (int w = 0; w < WAITERS; w++) {
        if (!waits(&calls[w])) {
            char message[200];
            snprintf(message, sizeof message, "%s returned at once; it must wait", what_waits);
            broken(message);
        }
    }
}

static void test_many_waiters(void)
{
    struct queue *queue = make_queue(1);
    struct call gets[WAITERS], puts[WAITERS];
    start_waiters(gets, queue, one_get, 0, "queue_get on an empty queue, with 2 others waiting,");
    bool got[WAITERS] = {false};
    for (long item = 1; item <= WAITERS; item++)
        if (!queue_put(queue, item))
            broken("queue_put on an open queue returned false");
    for (int g = 0; g < WAITERS; g++) {
        finish(&gets[g], "3 getters waiting on an empty queue were each woken by one of 3 puts");
        long item = gets[g].item;
        if (!gets[g].returned_true || item < 1 || item > WAITERS || got[item - 1])
            broken("3 waiting getters each getting one of the items 1, 2, 3 put; got one "
                   "returning false, or an item twice, or one never put");
        got[item - 1] = true;
    }
    queue_destroy(queue);

    queue = make_queue(1);
    if (!queue_put(queue, 10))
        broken("queue_put into a free slot returned false");
    start_waiters(puts, queue, one_put, 11, "queue_put on a full queue, with 2 others waiting,");
    long item = 0;
    if (!queue_get(queue, &item) || item != 10)
        broken("the first queue_get did not return the item that was in the queue (10)");
    bool put_in[WAITERS] = {false};
    for (int g = 0; g < WAITERS; g++) {
        if (!queue_get(queue, &item) || item < 11 || item >= 11 + WAITERS || put_in[item - 11])
            broken("each of 3 waiting puts' items (11, 12, 13) coming out once as gets make "
                   "room; got an item twice, or one never put");
        put_in[item - 11] = true;
    }
    for (int p = 0; p < WAITERS; p++) {
        finish(&puts[p], "3 putters waiting on a full queue were each woken as gets made room");
        if (!puts[p].returned_true)
            broken("a waiting put whose item went in returned false");
    }
    queue_destroy(queue);
    printf("OK: 3 waiting getters got one item each; 3 waiting putters each got theirs in\n");
}

static void test_close_getters(void)
{
    struct queue *queue = make_queue(1);
    struct call gets[WAITERS];
    start_waiters(gets, queue, one_get, 0, "queue_get on an empty queue");
    queue_close(queue);
    for (int g = 0; g < WAITERS; g++) {
        finish(&gets[g], "3 getters waiting on an empty queue were all woken by close");
        if (gets[g].returned_true)
            broken("queue_get on a closed, empty queue returned true");
    }
    queue_destroy(queue);
    printf("OK: close woke all 3 getters waiting on the empty queue; each returned false\n");
}

/* get hands out first..last in order, then says closed, twice over. */
static void expect_drained(struct queue *queue, long first, long last)
{
    long item = 0;
    for (long expected = first; expected <= last; expected++)
        if (!queue_get(queue, &item) || item != expected)
            broken("queue_get on a closed queue handing out every item left, in the order "
                   "they went in, before it says closed; got one missing or out of order");
    for (int again = 0; again < 2; again++)
        if (queue_get(queue, &item))
            broken("queue_get on a closed, drained queue returned true");
}

static void test_close_putters(void)
{
    struct queue *queue = make_queue(2);
    if (!queue_put(queue, 1) || !queue_put(queue, 2))
        broken("queue_put into free slots returned false");
    struct call puts[WAITERS];
    start_waiters(puts, queue, one_put, 3, "queue_put on a full queue");
    queue_close(queue);
    for (int p = 0; p < WAITERS; p++) {
        finish(&puts[p], "3 putters waiting on a full queue were all woken by close");
        if (puts[p].returned_true)
            broken("a put waiting when the queue was closed returned true");
    }
    expect_drained(queue, 1, 2);
    queue_destroy(queue);
    printf("OK: close woke all 3 putters waiting on the full queue; the 2 items in were "
           "drained\n");
}

static void test_close_room(void)
{
    struct queue *queue = make_queue(4);
    struct call get; /* a queue in use: a getter has waited on it, and been served */
    start(&get, queue, one_get, 0);
    if (!waits(&get))
        broken("queue_get on an empty queue returned at once; it must wait for an item");
    if (!queue_put(queue, 9))
        broken("queue_put on an open queue returned false");
    finish(&get, "queue_get got an item put after it started waiting");
    if (!get.returned_true || get.item != 9)
        broken("queue_get woke up but did not return true with the item put (9)");
    if (!queue_put(queue, 1) || !queue_put(queue, 2))
        broken("queue_put into free slots returned false");
    queue_close(queue);
    if (queue_put(queue, 3))
        broken("queue_put on a closed queue with free slots returning false; got true");
    expect_drained(queue, 1, 2);
    queue_destroy(queue);
    printf("OK: the closed queue with room refused a put; the 2 items in were drained\n");
}

/* ---- stress ---- */
struct stress {
    struct queue *queue;
    long items, producers;
    atomic_int *seen;  /* how many times each item came out */
    atomic_long wrong; /* items out of range or out of their producer's order */
};

struct worker {
    pthread_t thread;
    struct stress *stress;
    long index;
};

static void *produce(void *arg)
{
    struct worker *worker = arg;
    struct stress *stress = worker->stress;
    for (long item = worker->index; item < stress->items; item += stress->producers)
        if (!queue_put(stress->queue, item))
            broken("queue_put returned false on an open queue");
    return NULL;
}

static void *consume(void *arg)
{
    struct worker *worker = arg;
    struct stress *stress = worker->stress;
    long *last = malloc((size_t)stress->producers * sizeof *last); /* per producer */
    if (last == NULL)
        kit_die_errno("malloc");
    for (long p = 0; p < stress->producers; p++)
        last[p] = -1;
    long item;
    while (queue_get(stress->queue, &item)) {
        if (item < 0 || item >= stress->items) {
            atomic_fetch_add(&stress->wrong, 1);
            continue;
        }
        atomic_fetch_add(&stress->seen[item], 1);
        long producer = item % stress->producers;
        if (item <= last[producer])
            atomic_fetch_add(&stress->wrong, 1); /* one producer's items out of order */
        last[producer] = item;
    }
    free(last);
    return NULL;
}

static void test_stress(long producers, long consumers, long items, long capacity)
{
    struct stress stress = {
        .queue = make_queue((size_t)capacity), .items = items, .producers = producers};
    stress.seen = calloc((size_t)items, sizeof stress.seen[0]);
    struct worker *workers = calloc((size_t)(producers + consumers), sizeof workers[0]);
    if (stress.seen == NULL || workers == NULL)
        kit_die_errno("calloc");
    /* Consumers first: they meet an empty queue, producers then meet a full one. */
    for (long w = 0; w < producers + consumers; w++) {
        long c = w < consumers ? w : -1;
        workers[w] = (struct worker){.stress = &stress, .index = c >= 0 ? c : w - consumers};
        KIT_CHECK_EN(
            pthread_create(&workers[w].thread, NULL, c >= 0 ? consume : produce, &workers[w]));
    }
    for (long w = consumers; w < producers + consumers; w++)
        KIT_CHECK_EN(pthread_join(workers[w].thread, NULL));
    queue_close(stress.queue); /* every item is in: consumers drain and stop */
    for (long w = 0; w < consumers; w++)
        KIT_CHECK_EN(pthread_join(workers[w].thread, NULL));

    long lost = 0, duplicated = 0, first_lost = -1;
    for (long i = 0; i < items; i++) {
        int seen = atomic_load(&stress.seen[i]);
        if (seen == 0 && lost++ == 0)
            first_lost = i;
        if (seen > 1)
            duplicated += seen - 1;
    }
    long wrong = atomic_load(&stress.wrong);
    queue_destroy(stress.queue);
    free(stress.seen);
    free(workers);
    printf("%ld producers, %ld consumers, %ld items, %ld slots\n", producers, consumers, items,
           capacity);
    if (lost > 0 || duplicated > 0 || wrong > 0) {
        printf("BROKEN: every item exactly once, in order per producer; got %ld lost (the first: "
               "%ld), %ld duplicated, %ld out of range or out of order\n",
               lost, first_lost, duplicated, wrong);
        exit(1);
    }
    printf("OK: %ld items through the queue, none lost, none duplicated, order kept\n", items);
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"test", required_argument, NULL, 't'},
        {"producers", required_argument, NULL, 'p'},
        {"consumers", required_argument, NULL, 'c'},
        {"items", required_argument, NULL, 'n'},
        {"capacity", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *test = NULL;
    long producers = 4, consumers = 4, items = 20000, capacity = 2;
    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "t:p:c:n:k:h", options, NULL)) != -1;) {
        switch (opt) {
        case 't': test = optarg; break;
        case 'p': producers = kit_parse_long("--producers", optarg, 1, 64); break;
        case 'c': consumers = kit_parse_long("--consumers", optarg, 1, 64); break;
        case 'n': items = kit_parse_long("--items", optarg, 1, 10000000); break;
        case 'k': capacity = kit_parse_long("--capacity", optarg, 1, 1000000); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (test == NULL)
        kit_usage_error("--test is required");
    if (strcmp(test, "get-blocks") == 0)
        test_get_blocks();
    else if (strcmp(test, "put-blocks") == 0)
        test_put_blocks();
    else if (strcmp(test, "stolen-wakeup") == 0)
        test_stolen_wakeup();
    else if (strcmp(test, "many-waiters") == 0)
        test_many_waiters();
    else if (strcmp(test, "close-getters") == 0)
        test_close_getters();
    else if (strcmp(test, "close-putters") == 0)
        test_close_putters();
    else if (strcmp(test, "close-room") == 0)
        test_close_room();
    else if (strcmp(test, "stress") == 0)
        test_stress(producers, consumers, items, capacity);
    else
        kit_usage_error("unknown --test '%s'", test);
    return 0;
}
