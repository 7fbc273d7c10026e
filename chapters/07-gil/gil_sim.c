/**
 * @file gil_sim.c
 * @brief The same CPU-bound work on 1 and N threads, with a simulated GIL and without.
 *
 * What it shows: why CPU-bound Python threads give no speedup. The work is cut into small steps
 * (the stand-in for bytecodes, each a slice of kit_cpu_work). It runs four ways: on 1 thread and
 * on N threads, each time under a simulated global interpreter lock (lib/sim_gil.c) and without
 * one. Under the lock a thread may run steps only while it holds the lock; between two steps it
 * checks whether a waiting thread has asked for it, which a waiter does after one switch interval
 * (5 ms, like CPython's sys.getswitchinterval()). So the threads take turns on one CPU at a time.
 *
 * What to see: a speedup table. With the lock, N threads take as long as 1 (about x1.0, however
 * many CPUs there are), and the lock changed hands every few milliseconds. Without it, plain C
 * threads run in parallel: close to x2 on 2 CPUs. Beside them, in the same rounds, K copies of
 * the 1-thread work run at once (K = threads or CPUs, the fewer): the ceiling, what the CPUs
 * gave in this run, so a busy machine's x1.1 is read as its load, not as a lesson. On a single
 * CPU (`taskset -c 0`) both are about x1.0, and the program says so. The verdict checks that
 * the lock really let only one thread run a step at a time.
 *
 * How it maps to CPython: the lock is CPython's GIL design in miniature (a mutex, a condition
 * variable with a timed wait, the drop request, the forced switch): see lib/sim_gil.h. CPython
 * needs it because every object's reference count is changed all the time without any other
 * locking; the lock is what keeps those updates from racing.
 *
 * See also: gil_io.c (the same lock, but threads that wait for I/O, and they do overlap).
 *
 * Usage: gil_sim [--threads=N] [--steps=N] [--step-size=N] [--interval=N] [--repeat=N]
 */
#include "kit.h"
#include "lib/sim_gil.h"

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char usage[] =
    "Usage: gil_sim [options]\n"
    "Time CPU-bound work on 1 and N threads, with a simulated GIL and without.\n"
    "  -t, --threads=N     threads in the parallel runs (default 2)\n"
    "  -n, --steps=N       steps of work in all, shared out among the threads (default 8000)\n"
    "  -k, --step-size=N   work iterations in one step, a \"bytecode\" (default 4000)\n"
    "  -i, --interval=N    switch interval in milliseconds (default 5, as in CPython)\n"
    "  -r, --repeat=N      runs of each case (and of the ceiling's copies); the fastest counts\n"
    "                      (default 3)\n"
    "  -h, --help          show this help and exit\n";

/* What the threads of one run share. */
struct job {
    struct sim_gil *gil;     /* the lock, or NULL for a run without one */
    long step_size;          /* kit_cpu_work iterations per step */
    atomic_int inside;       /* threads inside a step right now (lock runs only) */
    atomic_long overlapping; /* steps begun while another thread was inside one */
};

struct worker {
    pthread_t thread;
    struct job *job;
    long steps; /* this thread's share of the work */
};

/* What one run measured. */
struct timing {
    double seconds;         /* wall-clock time */
    double cpus_in_use;     /* CPU time the process used / wall-clock time: CPUs busy on average */
    unsigned long switches; /* times the lock changed hands */
    long overlapping;       /* must stay 0 under the lock */
};

/* A thread of plain C: nothing stops it running on its own CPU. The result of kit_cpu_work is
 * not needed: the call is the work, and it lives in libkit, so the compiler cannot drop it. */
static void *compute_freely(void *arg)
{
    struct worker *me = arg;
    for (long step = 0; step < me->steps; step++)
        (void)kit_cpu_work(me->job->step_size);
    return NULL;
}

/* One copy of the 1-thread work, as the ceiling runs it: arg is a worker with every step. */
static void one_thread_alone(void *arg, int copy)
{
    (void)copy;
    compute_freely(arg);
}

/* A thread "running Python": it holds the lock while it runs steps, and between two steps hands
 * it over if a waiting thread asked (as CPython's eval loop does between bytecodes). The inside
 * counter checks the lock from the outside: no step may begin while another is running. */
static void *compute_under_gil(void *arg)
{
    struct worker *me = arg;
    struct job *job = me->job;

    sim_gil_acquire(job->gil);
    for (long step = 0; step < me->steps; step++) {
        if (atomic_fetch_add(&job->inside, 1) > 0)
            atomic_fetch_add(&job->overlapping, 1);
        (void)kit_cpu_work(job->step_size);
        atomic_fetch_sub(&job->inside, 1);
        sim_gil_yield_if_asked(job->gil);
    }
    sim_gil_release(job->gil);
    return NULL;
}

/* Share `steps` steps out among `threads` threads, start them together and time them all. */
static struct timing run_once(int threads, long steps, long step_size, double interval,
                              bool with_gil)
{
    struct sim_gil gil;
    struct job job = {.gil = with_gil ? &gil : NULL, .step_size = step_size};
    atomic_init(&job.inside, 0);
    atomic_init(&job.overlapping, 0);
    if (with_gil)
        sim_gil_init(&gil, interval);

    struct worker *workers = calloc((size_t)threads, sizeof *workers);
    if (workers == NULL)
        kit_die_errno("calloc %d workers", threads);

    double start = kit_now();
    double cpu_start = kit_cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
    for (int i = 0; i < threads; i++) {
        workers[i].job = &job;
        workers[i].steps = steps / threads + (i < steps % threads ? 1 : 0);
        KIT_CHECK_EN(pthread_create(&workers[i].thread, NULL,
                                    with_gil ? compute_under_gil : compute_freely, &workers[i]));
    }
    for (int i = 0; i < threads; i++)
        KIT_CHECK_EN(pthread_join(workers[i].thread, NULL));
    struct timing timing = {.seconds = kit_seconds_since(start),
                            .overlapping = atomic_load(&job.overlapping)};
    timing.cpus_in_use = (kit_cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start) / timing.seconds;

    if (with_gil) {
        timing.switches = sim_gil_switches(&gil);
        sim_gil_destroy(&gil);
    }
    free(workers);
    return timing;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"threads", required_argument, NULL, 't'},
        {"steps", required_argument, NULL, 'n'},
        {"step-size", required_argument, NULL, 'k'},
        {"interval", required_argument, NULL, 'i'},
        {"repeat", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int threads = 2;
    long steps = 8000;
    long step_size = 4000;
    double interval_ms = 5.0;
    int repeat = 3;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "t:n:k:i:r:h", options, NULL)) != -1;) {
        switch (opt) {
        case 't': threads = (int)kit_parse_long("--threads", optarg, 2, 64); break;
        case 'n': steps = kit_parse_long("--steps", optarg, 1, 1000000000); break;
        case 'k': step_size = kit_parse_long("--step-size", optarg, 1, 1000000000); break;
        case 'i': interval_ms = kit_parse_double("--interval", optarg, 0.1, 1000.0); break;
        case 'r': repeat = (int)kit_parse_long("--repeat", optarg, 1, 100); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if ((double)steps * (double)step_size * repeat > 2.5e9)
        kit_usage_error("--steps=%ld x --step-size=%ld x --repeat=%d is over the cap of 2.5e9 "
                        "iterations per case: it would run for minutes",
                        steps, step_size, repeat);

    int cpus = kit_cpu_count();
    printf("%ld steps of CPU work (%ld iterations each), on 1 thread and on %d threads\n", steps,
           step_size, threads);
    printf("switch interval %g ms, fastest of %d run(s) per case, %d CPU(s) available\n\n",
           interval_ms, repeat, cpus);

    /* best[with_gil][on_n_threads]. The cases take turns within each round, so a burst of load
     * from elsewhere on the machine hits them all alike; the fastest run is the one least
     * disturbed by it (the same reason Python's timeit reports the minimum). */
    struct timing best[2][2] = {0};
    long overlapping = 0;
    int copies = cpus < threads ? cpus : threads;
    struct job alone_job = {.gil = NULL, .step_size = step_size};
    struct worker alone = {.job = &alone_job, .steps = steps};
    double copies_seconds = 0;
    for (int round = 0; round < repeat; round++) {
        double together = kit_time_copies(copies, one_thread_alone, &alone);
        if (round == 0 || together < copies_seconds)
            copies_seconds = together;
        for (int with_gil = 1; with_gil >= 0; with_gil--) {
            for (int on_n = 0; on_n <= 1; on_n++) {
                struct timing run =
                    run_once(on_n ? threads : 1, steps, step_size, interval_ms / 1000.0, with_gil);
                overlapping += run.overlapping;
                if (round == 0 || run.seconds < best[with_gil][on_n].seconds)
                    best[with_gil][on_n] = run;
            }
        }
    }

    double with_gil = best[1][0].seconds / best[1][1].seconds;
    double without = best[0][0].seconds / best[0][1].seconds;
    printf("                          1 thread  %2d threads   speedup   CPUs in use   switches\n",
           threads);
    printf("with the simulated GIL   %7.3f s   %7.3f s    x%.2f   %11.2f   %8lu\n",
           best[1][0].seconds, best[1][1].seconds, with_gil, best[1][1].cpus_in_use,
           best[1][1].switches);
    printf("without a lock           %7.3f s   %7.3f s    x%.2f   %11.2f          -\n",
           best[0][0].seconds, best[0][1].seconds, without, best[0][1].cpus_in_use);
    printf("(CPUs in use: CPU time of the %d-thread run over its wall-clock time)\n\n", threads);

    printf("hoped for: up to x%d (%d threads on %d CPU(s)); the GIL held it to x%.2f\n", copies,
           threads, cpus, with_gil);
    double ceiling = kit_print_ceiling(copies, best[0][0].seconds, copies_seconds);
    char contender[48];
    snprintf(contender, sizeof contender, "%d threads without a lock", threads);
    kit_note_above_ceiling(contender, without, ceiling);
    snprintf(contender, sizeof contender, "%d threads under the simulated GIL", threads);
    kit_note_above_ceiling(contender, with_gil, ceiling);
    if (cpus < 2)
        printf("note: only 1 CPU here, so even without a lock the threads can only take turns\n"
               "      on it: ~x1.0 is the honest result. Give it 2 or more CPUs to see them run\n"
               "      in parallel.\n");

    if (overlapping > 0) {
        printf("FAILED: %ld steps began while another thread was inside a step, under the lock\n",
               overlapping);
        return 1;
    }
    printf("OK: with the simulated GIL x%.2f (one thread at a time, %lu switches), "
           "without it x%.2f\n",
           with_gil, best[1][1].switches, without);
    return 0;
}
