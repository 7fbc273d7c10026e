/**
 * @file grade_map.c
 * @brief The grader's driver for exercise 04: checks a pool_map.h implementation, one test a run.
 *
 * The grader builds this file beside the student's lib/pool_map.c (tests/grade/prepare). Each
 * --test prints one verdict line, `OK: ...` (exit 0) or `BROKEN: what was expected, what
 * happened` (exit 1):
 *
 *   order     12 inputs whose calls take longer the earlier the input (the last finishes
 *             first): results in input order; also 0 inputs, 1 input, more workers than inputs
 *   errors    input 2 fails late with ERANGE, input 5 fails early with EDOM: the map returns
 *             ERANGE (first in input order), failed results are 0 (a failing call writes a
 *             value of its own to its result before it fails), the others right
 *   many      10000 tiny calls: every result right
 *   at-once   3 x W inputs on W workers (-w): each call waits, with a 5 s timeout, until W calls
 *             are inside fn at once (a rendezvous the driver controls, so no CPU load can
 *             change the verdict); the calls ran on W threads, not more
 *   share     input 0 waits until every other input is done (5 s timeout): the free workers
 *             must take every next input one at a time, none kept for a busy worker
 *   join      200 maps on 4 workers: afterwards no more threads than before, and the address
 *             space did not grow by the stacks of threads never joined (8 MB each)
 *
 * Usage: grade_map --test=NAME [-w N]
 */
#include "kit.h"
#include "lib/pool_map.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "Usage: grade_map [options]\n"
    "Checks a pool_map.h implementation (the grader's driver for exercise 04).\n"
    "  -t, --test=NAME     order, errors, many, at-once, share or join\n"
    "  -w, --workers=N     worker threads for order, errors, many, at-once, share (default 4)\n"
    "  -h, --help          show this help and exit\n";

/* What a failing call leaves in its result before it returns its error. */
enum { FAILED_CALL_LEFT = -4242 };

struct input {
    long value;     /* the result is value * value + 1; negative: EDOM; over 1000: ERANGE */
    double sleep_s; /* how long the call takes */
};

static int compute(void *arg, long *result)
{
    const struct input *input = arg;
    if (input->sleep_s > 0)
        kit_sleep(input->sleep_s);
    if (input->value < 0 || input->value > 1000) {
        *result = FAILED_CALL_LEFT; /* written before failing: the map must still give 0 */
        return input->value < 0 ? EDOM : ERANGE;
    }
    *result = input->value * input->value + 1;
    return 0;
}

/* Print `BROKEN: ` and the message, and exit 1. */
static void broken(const char *fmt, ...) KIT_PRINTF(1, 2) KIT_NORETURN;
static void broken(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    printf("BROKEN: ");
    vprintf(fmt, args);
    va_end(args);
    printf("\n");
    exit(1);
}

/* The names of the error numbers this driver meets. */
static const char *error_name(int error)
{
    switch (error) {
    case 0: return "no error";
    case EDOM: return "EDOM";
    case ERANGE: return "ERANGE";
    case ENOSYS: return "ENOSYS: not written yet";
    default: return "another error";
    }
}

/* Map over count inputs and check the results: the error returned, and each result. */
static void map_and_check(int workers, struct input *inputs, size_t count, int expected_error)
{
    long *results = calloc(count + 1, sizeof results[0]);
    if (results == NULL)
        kit_die_errno("calloc");
    for (size_t i = 0; i < count; i++)
        results[i] = -7; /* not a result any input gives */
    int error = pool_map(workers, compute, inputs, sizeof inputs[0], count, results);
    if (error != expected_error)
        broken("pool_map returned %d (%s), expected %d (%s): the first failing input's error in "
               "input order, 0 if none failed",
               error, error_name(error), expected_error, error_name(expected_error));
    for (size_t i = 0; i < count; i++) {
        long expected = inputs[i].value < 0 || inputs[i].value > 1000
                            ? 0
                            : inputs[i].value * inputs[i].value + 1;
        if (results[i] != expected)
            broken("results[%zu] is %ld, expected %ld (each input's result in its own slot; 0 "
                   "for a failed input)",
                   i, results[i], expected);
    }
    free(results);
}

static void test_order(int workers)
{
    struct input inputs[12];
    for (int i = 0; i < 12; i++) /* input 0 takes longest: later inputs finish first */
        inputs[i] = (struct input){.value = 3 * i + 2, .sleep_s = 0.004 * (12 - i)};
    map_and_check(workers, inputs, 12, 0);
    map_and_check(workers, inputs, 1, 0);
    map_and_check(workers, inputs, 0, 0);
    map_and_check(16, inputs, 3, 0); /* more workers than inputs */
    printf("OK: 12 results in input order on %d workers, although the last finished first\n",
           workers);
}

static void test_errors(int workers)
{
    struct input inputs[8];
    for (int i = 0; i < 8; i++)
        inputs[i] = (struct input){.value = i + 1, .sleep_s = 0.005};
    inputs[2] = (struct input){.value = 5000, .sleep_s = 0.08}; /* fails late: ERANGE */
    inputs[5] = (struct input){.value = -1, .sleep_s = 0};      /* fails first: EDOM */
    map_and_check(workers, inputs, 8, ERANGE);
    map_and_check(workers, inputs + 3, 5, EDOM); /* only the EDOM one: it must come back too */
    printf("OK: the first error in input order came back (ERANGE of input 2, not EDOM of "
           "input 5); the other results are right\n");
}

static void test_many(int workers)
{
    enum { COUNT = 10000 };
    static struct input inputs[COUNT];
    for (int i = 0; i < COUNT; i++)
        inputs[i] = (struct input){.value = i % 1000};
    map_and_check(workers, inputs, COUNT, 0);
    printf("OK: 10000 tiny calls on %d workers, every result right\n", workers);
}

/* The rendezvous of the at-once and share tests: what the calls inside fn see, under lock. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int inside, most_inside; /* calls inside fn now, and the most at once */
    size_t done;             /* calls returned */
    pthread_t threads[64];   /* the threads that ran calls */
    int thread_count;
    bool met, gave_up; /* the rendezvous happened; or a wait timed out (then nobody waits) */
    size_t done_when_given_up;
} meet = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

enum { MEET_TIMEOUT_S = 5 };

/* Wait under meet.lock until @p ready says so, or until @p deadline (then nobody waits any
 * more). */
static void meet_wait(bool (*ready)(long), long arg, const struct timespec *deadline)
{
    while (!ready(arg) && !meet.gave_up) {
        int error = pthread_cond_timedwait(&meet.changed, &meet.lock, deadline);
        if (error == ETIMEDOUT) {
            meet.gave_up = true;
            meet.done_when_given_up = meet.done;
        } else if (error != 0)
            kit_die_en(error, "pthread_cond_timedwait");
    }
    KIT_CHECK_EN(pthread_cond_broadcast(&meet.changed));
}

static int meet_workers; /* W of the at-once test */

/* W calls are inside now, or were once (met stays true: the later calls wait for nobody). */
static bool all_inside(long unused)
{
    (void)unused;
    if (meet.inside >= meet_workers)
        meet.met = true;
    return meet.met;
}

/* at-once: wait until W calls are inside at once (once they were, nobody waits any more). */
static int rendezvous(void *arg, long *result)
{
    const struct input *input = arg;
    struct timespec deadline = kit_deadline(CLOCK_REALTIME, MEET_TIMEOUT_S);
    KIT_CHECK_EN(pthread_mutex_lock(&meet.lock));
    pthread_t self = pthread_self();
    bool known = false;
    for (int t = 0; t < meet.thread_count; t++)
        known = known || pthread_equal(meet.threads[t], self);
    if (!known && meet.thread_count < 64)
        meet.threads[meet.thread_count++] = self;
    meet.inside++;
    if (meet.inside > meet.most_inside)
        meet.most_inside = meet.inside;
    meet_wait(all_inside, 0, &deadline);
    meet.inside--;
    KIT_CHECK_EN(pthread_mutex_unlock(&meet.lock));
    *result = input->value * input->value + 1;
    return 0;
}

static void test_at_once(int workers)
{
    enum { MOST = 64 };
    if (workers > MOST / 3)
        kit_usage_error("--workers for at-once: at most %d", MOST / 3);
    struct input inputs[MOST];
    int count = 3 * workers;
    for (int i = 0; i < count; i++)
        inputs[i] = (struct input){.value = i};
    meet_workers = workers;
    long results[MOST];
    int error = pool_map(workers, rendezvous, inputs, sizeof inputs[0], (size_t)count, results);
    if (error != 0)
        broken("pool_map returned %d (%s), expected 0", error, error_name(error));
    for (int i = 0; i < count; i++)
        if (results[i] != inputs[i].value * inputs[i].value + 1)
            broken("results[%d] is %ld, expected %ld", i, results[i],
                   inputs[i].value * inputs[i].value + 1);
    if (!meet.met)
        broken("%d calls inside fn at once on %d workers (each call waited up to %d s for the "
               "others); at most %d were ever inside together",
               workers, workers, MEET_TIMEOUT_S, meet.most_inside);
    if (meet.thread_count > workers)
        broken("the calls run on the %d workers pool_map starts; %d threads ran them", workers,
               meet.thread_count);
    printf("OK: %d calls inside fn at once on %d workers, run by %d threads\n", meet.most_inside,
           workers, meet.thread_count);
}

static bool others_done(long count)
{
    return meet.done >= (size_t)count - 1;
}

static size_t share_count;

/* share: input 0 waits until every other input is done; the others return at once. */
static int hold_first(void *arg, long *result)
{
    const struct input *input = arg;
    struct timespec deadline = kit_deadline(CLOCK_REALTIME, MEET_TIMEOUT_S);
    KIT_CHECK_EN(pthread_mutex_lock(&meet.lock));
    if (input->value == 0)
        meet_wait(others_done, (long)share_count, &deadline);
    else
        meet.done++;
    KIT_CHECK_EN(pthread_cond_broadcast(&meet.changed));
    KIT_CHECK_EN(pthread_mutex_unlock(&meet.lock));
    *result = input->value * input->value + 1;
    return 0;
}

static void test_share(int workers)
{
    enum { COUNT = 12 };
    struct input inputs[COUNT];
    for (int i = 0; i < COUNT; i++)
        inputs[i] = (struct input){.value = i};
    share_count = COUNT;
    long results[COUNT];
    int error = pool_map(workers, hold_first, inputs, sizeof inputs[0], COUNT, results);
    if (error != 0)
        broken("pool_map returned %d (%s), expected 0", error, error_name(error));
    if (meet.gave_up)
        broken("while input 0's call was busy, the free workers (%d) took every next input: "
               "%d calls; %zu were done after %d s (inputs kept for the busy worker, taken in "
               "batches or by fixed shares?)",
               workers - 1, COUNT - 1, meet.done_when_given_up, MEET_TIMEOUT_S);
    for (int i = 0; i < COUNT; i++)
        if (results[i] != inputs[i].value * inputs[i].value + 1)
            broken("results[%d] is %ld, expected %ld", i, results[i],
                   inputs[i].value * inputs[i].value + 1);
    printf("OK: while input 0 was busy, the other %d worker%s took all %d other inputs\n",
           workers - 1, workers == 2 ? "" : "s", COUNT - 1);
}

static long threads_now(void)
{
    DIR *tasks = opendir("/proc/self/task");
    if (tasks == NULL)
        kit_die_errno("opendir /proc/self/task");
    long count = 0;
    for (struct dirent *entry; (entry = readdir(tasks)) != NULL;)
        count += entry->d_name[0] != '.';
    closedir(tasks);
    return count;
}

static long address_space_mb(void)
{
    FILE *status = fopen("/proc/self/status", "r");
    if (status == NULL)
        kit_die_errno("fopen /proc/self/status");
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, status) != NULL)
        if (sscanf(line, "VmSize: %ld kB", &kb) == 1)
            break;
    fclose(status);
    return kb / 1024;
}

static void test_join(void)
{
    struct input inputs[8];
    for (int i = 0; i < 8; i++)
        inputs[i] = (struct input){.value = i};
    map_and_check(4, inputs, 8, 0); /* the first map may set up caches: measure after it */
    long start_mb = address_space_mb();
    long start_threads = threads_now(); /* main, and a sanitizer's own threads if any */
    for (int round = 0; round < 200; round++)
        map_and_check(4, inputs, 8, 0);
    /* A joined thread is gone when pthread_join returns; give exiting ones 1 s anyway, so that
     * only threads that never end are counted. */
    double start = kit_now();
    while (threads_now() > start_threads && kit_seconds_since(start) < 1.0)
        kit_sleep(0.01);
    long left = threads_now() - start_threads, growth = address_space_mb() - start_mb;
    if (left > 0)
        broken("%ld threads still running after pool_map returned, expected 0 (join every "
               "worker)",
               left);
    if (growth > 256)
        broken("the address space grew by %ld MB over 200 maps on 4 workers, expected little "
               "(threads never joined keep their stacks: %ld MB would be %ld such threads)",
               growth, growth, growth / 8);
    printf("OK: 200 maps on 4 workers; 0 threads left; the address space grew by %ld MB\n", growth);
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"test", required_argument, NULL, 't'},
        {"workers", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *test = NULL;
    int workers = 4;
    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "t:w:h", options, NULL)) != -1;) {
        switch (opt) {
        case 't': test = optarg; break;
        case 'w': workers = (int)kit_parse_long("--workers", optarg, 1, 64); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (test == NULL)
        kit_usage_error("--test is required");
    if (strcmp(test, "order") == 0)
        test_order(workers);
    else if (strcmp(test, "errors") == 0)
        test_errors(workers);
    else if (strcmp(test, "many") == 0)
        test_many(workers);
    else if (strcmp(test, "at-once") == 0)
        test_at_once(workers);
    else if (strcmp(test, "share") == 0) {
        if (workers < 2)
            kit_usage_error("--workers for share: at least 2");
        test_share(workers);
    } else if (strcmp(test, "join") == 0)
        test_join();
    else
        kit_usage_error("unknown --test '%s'", test);
    return 0;
}
