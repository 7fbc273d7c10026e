/**
 * @file thread_bugs.c
 * @brief Four bugs that threads make and a plain run does not show: the patient for the tools.
 *
 * @deliberate_race
 *
 * What to look for: each bug runs to the end and prints a result that looks fine. That is the
 * lesson: none of them crashes, none gives a wrong answer in this run, and a test that checks
 * only the output passes. Each is a bug the kit has shown or made itself:
 *
 * - `race`: chapter 02's counter, two threads adding with no lock. The second thread starts
 *   20 ms after the first, by which time the first is done: the total is right, the code is
 *   not (nothing orders the two threads' accesses; only the timing kept them apart).
 * - `lock-order`: chapter 03's two transfers, one locks A then B, the other B then A. Here
 *   the second starts after the first has ended, so they cannot deadlock in this run; run
 *   them at the same moment and they can (chapter 03's deadlock.c).
 * - `use-after-free`: the bug ThreadSanitizer found in chapter 06's pool. A worker marks its
 *   job done, main sees that and frees the job, and the worker then reads one more field of it.
 *   A sleep of 200 ms between the worker's two steps stands in for being preempted there, so
 *   the read comes after the free on every run.
 * - `leak`: workers return a result allocated with malloc through pthread_join; main joins
 *   them with a NULL result pointer and the results are lost.
 * - `none`: the same kinds of work done right (a lock, malloc and free in four threads). It
 *   reports its CPU time, which sanitizers.c uses to measure what each tool costs.
 *
 * Run it under a tool to see the bug: `sanitizers` does that for every bug and every tool and
 * prints one table. By default this program runs `race` (data races are this program's
 * deliberate lesson under `make run-chapter-13 SANITIZE=thread`; the memory bugs run only
 * when asked for, so that an ASan build's default run stays clean).
 *
 * See also: sanitizers.c (the table), chapter 02's README ("Finding races with tools").
 *
 * Usage: thread_bugs [--bug=race|lock-order|use-after-free|leak|none] [--rounds=N]
 */
#include "kit.h"

#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "Usage: thread_bugs [options]\n"
    "Run one bug that a plain run does not show (run it under a tool; see sanitizers).\n"
    "  -b, --bug=NAME   race, lock-order, use-after-free, leak, or none: the same work\n"
    "                   done right, timed (default race)\n"
    "  -r, --rounds=N   rounds of work per thread for none (default 2000)\n"
    "  -h, --help       show this help and exit\n";

/* ---- race: two threads add to one counter with no lock ------------------------------------- */
static long counter; /* shared, plain: the bug */

static void *add_thousand(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++)
        counter++; /* read, add, write: unordered with the other thread's */
    return NULL;
}

static void run_race(void)
{
    pthread_t first, second;
    KIT_CHECK_EN(pthread_create(&first, NULL, add_thousand, NULL));
    kit_sleep(0.02); /* the first is long done by then: timing, not synchronisation */
    KIT_CHECK_EN(pthread_create(&second, NULL, add_thousand, NULL));
    KIT_CHECK_EN(pthread_join(first, NULL));
    KIT_CHECK_EN(pthread_join(second, NULL));
    printf("race: counter is %ld of 2000, right this time\n", counter);
}

/* ---- lock-order: A then B in one thread, B then A in another ------------------------------- */
static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER, lock_b = PTHREAD_MUTEX_INITIALIZER;

static void *transfer(void *arg)
{
    bool a_first = *(bool *)arg;
    pthread_mutex_t *first = a_first ? &lock_a : &lock_b, *second = a_first ? &lock_b : &lock_a;
    KIT_CHECK_EN(pthread_mutex_lock(first));
    KIT_CHECK_EN(pthread_mutex_lock(second)); /* holding one lock, waiting for the other */
    KIT_CHECK_EN(pthread_mutex_unlock(second));
    KIT_CHECK_EN(pthread_mutex_unlock(first));
    return NULL;
}

static void run_lock_order(void)
{
    bool orders[2] = {true, false};
    for (int t = 0; t < 2; t++) { /* one after the other: no deadlock can happen in this run */
        pthread_t thread;
        KIT_CHECK_EN(pthread_create(&thread, NULL, transfer, &orders[t]));
        KIT_CHECK_EN(pthread_join(thread, NULL));
    }
    printf("lock-order: A then B, later B then A: both transfers done, no deadlock this time\n");
}

/* ---- use-after-free: the worker reads its job after marking it done ------------------------ */
struct job {
    long input, result;
    const char *label; /* read by the worker after `done`: the bug */
    atomic_bool done;
};

static void *work_on_job(void *arg)
{
    struct job *job = arg;
    job->result = job->input * job->input;
    atomic_store_explicit(&job->done, true, memory_order_release); /* main may free it now */
    kit_sleep(0.2);                 /* preempted right here, on every run */
    const char *label = job->label; /* reads freed memory */
    return (void *)label;
}

static void run_use_after_free(void)
{
    struct job *job = malloc(sizeof *job);
    if (job == NULL)
        kit_die_errno("malloc");
    *job = (struct job){.input = 12, .label = "square"};
    pthread_t worker;
    KIT_CHECK_EN(pthread_create(&worker, NULL, work_on_job, job));
    while (!atomic_load_explicit(&job->done, memory_order_acquire))
        sched_yield();
    long result = job->result;
    free(job); /* done means done, thinks main */
    KIT_CHECK_EN(pthread_join(worker, NULL));
    printf("use-after-free: the worker said 12 squared is %ld, and main freed its job\n", result);
}

/* ---- leak: results returned through pthread_join, never freed ------------------------------ */
static void *compute_result(void *arg)
{
    long *result = malloc(4 * sizeof *result);
    if (result == NULL)
        kit_die_errno("malloc");
    result[0] = (long)(intptr_t)arg;
    return result; /* the caller of pthread_join owns this now */
}

static void run_leak(void)
{
    for (long t = 0; t < 4; t++) {
        pthread_t thread;
        KIT_CHECK_EN(pthread_create(&thread, NULL, compute_result, (void *)(intptr_t)t));
        KIT_CHECK_EN(pthread_join(thread, NULL)); /* NULL: the result is dropped */
    }
    printf("leak: 4 workers returned their results, and main never looked at them\n");
}

/* ---- none: the same kinds of work, done right ---------------------------------------------- */
static pthread_mutex_t total_lock = PTHREAD_MUTEX_INITIALIZER;
static long total;         /* guarded by total_lock */
static double cpu_worked;  /* the workers' CPU time, added up: guarded by total_lock */
static long rounds = 2000; /* per worker: set by --rounds before the workers start */

static void *work_right(void *arg)
{
    (void)arg;
    double cpu = kit_cpu_seconds(CLOCK_THREAD_CPUTIME_ID); /* the work only, not thread start */
    for (long i = 0; i < rounds; i++) {
        long *scratch = malloc(64 * sizeof *scratch), sum = 0;
        if (scratch == NULL)
            kit_die_errno("malloc");
        for (int k = 0; k < 64; k++) /* some work on memory of its own ... */
            scratch[k] = (long)(i ^ k) * (k + 1);
        for (int k = 0; k < 64; k += 1 + (int)(scratch[k] & 1))
            sum += scratch[k];
        KIT_CHECK_EN(pthread_mutex_lock(&total_lock)); /* ... and one short step that is shared */
        total += sum;
        KIT_CHECK_EN(pthread_mutex_unlock(&total_lock));
        free(scratch);
    }
    cpu = kit_cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu;
    KIT_CHECK_EN(pthread_mutex_lock(&total_lock));
    cpu_worked += cpu;
    KIT_CHECK_EN(pthread_mutex_unlock(&total_lock));
    return NULL;
}

static void run_none(void)
{
    pthread_t threads[4];
    for (int t = 0; t < 4; t++)
        KIT_CHECK_EN(pthread_create(&threads[t], NULL, work_right, NULL));
    for (int t = 0; t < 4; t++)
        KIT_CHECK_EN(pthread_join(threads[t], NULL));
    printf("none: 4 threads x %ld rounds of malloc, fill, sum, lock, add, unlock, free: total "
           "%ld\n",
           rounds, total);
    /* The four workers' CPU time, added up, and per round: sanitizers compares these. */
    printf("cpu: %.3f ms for %ld rounds, %.1f ns a round\n", cpu_worked * 1e3, 4 * rounds,
           cpu_worked * 1e9 / (double)(4 * rounds));
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"bug", required_argument, NULL, 'b'},
        {"rounds", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const struct {
        const char *name;
        void (*run)(void);
    } bugs[] = {{"race", run_race},
                {"lock-order", run_lock_order},
                {"use-after-free", run_use_after_free},
                {"leak", run_leak},
                {"none", run_none}};
    int chosen = 0;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "b:r:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'b':
            for (chosen = 4; chosen >= 0 && strcmp(optarg, bugs[chosen].name) != 0; chosen--)
                continue;
            if (chosen < 0)
                kit_usage_error("--bug=%s: no such bug", optarg);
            break;
        case 'r': rounds = kit_parse_long("--rounds", optarg, 1, 1000000); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    bugs[chosen].run();
    if (strcmp(bugs[chosen].name, "none") == 0) {
        printf("OK: no bug here: no tool should report anything\n");
        return 0;
    }
    printf("BROKEN: the %s bug ran and this run looked fine: only a tool can tell "
           "(sanitizers runs each)\n",
           bugs[chosen].name);
    return 0;
}
