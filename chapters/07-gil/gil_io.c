/**
 * @file gil_io.c
 * @brief Threads that wait for I/O overlap their waits, even under the simulated GIL.
 *
 * What it shows: why threads still pay off in Python for I/O-bound work. Each thread runs a
 * little "Python" (CPU steps, holding the simulated lock of lib/sim_gil.c), then makes a blocking
 * call, simulated by a sleep. Like CPython around a blocking read or time.sleep(), it lets go of
 * the lock for the length of the call (Py_BEGIN_ALLOW_THREADS) and takes it back afterwards
 * (Py_END_ALLOW_THREADS). A thread that is only waiting needs no lock, so the others may run.
 *
 * What to see: each thread's wait on a timeline. N threads that each wait S seconds finish in
 * about S, not N times S, and all N are waiting at once. This holds on a single CPU too: waiting
 * uses no CPU. Compare gil_sim.c, where the threads compute instead of wait and get about x1.0.
 *
 * The broken variant, `--hold-lock`: the blocking call keeps the lock, as a C extension would
 * that forgets to release the GIL around its I/O. The other threads can only queue behind it,
 * the waits happen one after another, and the program reports BROKEN.
 *
 * See also: gil_sim.c (CPU-bound threads under the same lock).
 *
 * Usage: gil_io [--threads=N] [--sleep=N] [--interval=N] [--hold-lock]
 */
#include "kit.h"
#include "lib/sim_gil.h"

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
    "Usage: gil_io [options]\n"
    "Threads that wait for simulated I/O under a simulated GIL, and how their waits overlap.\n"
    "  -t, --threads=N    threads, each making one blocking call (default 4)\n"
    "  -s, --sleep=N      seconds each blocking call takes (default 0.2)\n"
    "  -i, --interval=N   switch interval in milliseconds (default 5, as in CPython)\n"
    "      --hold-lock    keep the lock during the call (the broken variant)\n"
    "  -h, --help         show this help and exit\n";

enum {
    SCRIPT_STEPS = 50, /* "Python" steps before and after the call: well under 1 ms */
    STEP_SIZE = 4000,  /* kit_cpu_work iterations per step, as in gil_sim */
};

/* What all the threads share. */
struct io_job {
    struct sim_gil gil;
    double start;            /* kit_now() when the first thread was started */
    double call_seconds;     /* how long each blocking call takes */
    bool hold_lock;          /* the broken variant: block while holding the lock */
    atomic_int waiting;      /* threads inside their blocking call right now */
    atomic_int most_waiting; /* the most that ever were at once */
};

struct io_thread {
    pthread_t thread;
    struct io_job *job;
    double call_began; /* seconds after job->start */
    double call_ended;
};

/* Some "Python code" run under the lock: steps with a switch check between each two. */
static void run_script(struct sim_gil *gil)
{
    for (int step = 0; step < SCRIPT_STEPS; step++) {
        (void)kit_cpu_work(STEP_SIZE); /* the call is the work; its result is not needed */
        sim_gil_yield_if_asked(gil);
    }
}

/* Count this thread in as waiting, and keep the highest count seen. */
static void note_waiting(struct io_job *job)
{
    int now_waiting = atomic_fetch_add(&job->waiting, 1) + 1;
    int most = atomic_load(&job->most_waiting);
    while (now_waiting > most &&
           !atomic_compare_exchange_weak(&job->most_waiting, &most, now_waiting)) {
        /* another thread raised it meanwhile: `most` now holds its value, compare again */
    }
}

/* The blocking call. The sleep touches no "Python objects", so it needs no lock. */
static void blocking_call(struct io_thread *me)
{
    struct io_job *job = me->job;
    me->call_began = kit_seconds_since(job->start);
    note_waiting(job);
    kit_sleep(job->call_seconds);
    atomic_fetch_sub(&job->waiting, 1);
    me->call_ended = kit_seconds_since(job->start);
}

/* One thread: some Python, a blocking call with the lock let go (unless told to hold it), and
 * some more Python to handle the answer. */
static void *make_request(void *arg)
{
    struct io_thread *me = arg;
    struct io_job *job = me->job;

    sim_gil_acquire(&job->gil);
    run_script(&job->gil);
    if (!job->hold_lock)
        sim_gil_release(&job->gil); /* Py_BEGIN_ALLOW_THREADS */
    blocking_call(me);
    if (!job->hold_lock)
        sim_gil_acquire(&job->gil); /* Py_END_ALLOW_THREADS */
    run_script(&job->gil);
    sim_gil_release(&job->gil);
    return NULL;
}

int main(int argc, char *argv[])
{
    enum { OPT_HOLD_LOCK = 256 };
    static const struct option options[] = {
        {"threads", required_argument, NULL, 't'},  {"sleep", required_argument, NULL, 's'},
        {"interval", required_argument, NULL, 'i'}, {"hold-lock", no_argument, NULL, OPT_HOLD_LOCK},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    int threads = 4;
    double interval_ms = 5.0;
    struct io_job job = {.call_seconds = 0.2};

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "t:s:i:h", options, NULL)) != -1;) {
        switch (opt) {
        case 't': threads = (int)kit_parse_long("--threads", optarg, 2, 64); break;
        case 's': job.call_seconds = kit_parse_double("--sleep", optarg, 0.001, 10.0); break;
        case 'i': interval_ms = kit_parse_double("--interval", optarg, 0.1, 1000.0); break;
        case OPT_HOLD_LOCK: job.hold_lock = true; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (threads * job.call_seconds > 60)
        kit_usage_error("--threads=%d x --sleep=%g is over the cap of 60 s of calls: with "
                        "--hold-lock it would run for minutes",
                        threads, job.call_seconds);

    struct io_thread *workers = calloc((size_t)threads, sizeof *workers);
    if (workers == NULL)
        kit_die_errno("calloc %d threads", threads);
    sim_gil_init(&job.gil, interval_ms / 1000.0);
    atomic_init(&job.waiting, 0);
    atomic_init(&job.most_waiting, 0);
    printf("%d threads, each making one blocking call of %.3f s, under the simulated GIL;\n"
           "during the call each thread %s the lock\n\n",
           threads, job.call_seconds, job.hold_lock ? "KEEPS" : "lets go of");

    job.start = kit_now();
    for (int i = 0; i < threads; i++) {
        workers[i].job = &job;
        KIT_CHECK_EN(pthread_create(&workers[i].thread, NULL, make_request, &workers[i]));
    }
    for (int i = 0; i < threads; i++)
        KIT_CHECK_EN(pthread_join(workers[i].thread, NULL));
    double elapsed = kit_seconds_since(job.start);

    for (int i = 0; i < threads; i++)
        printf("  thread %d: in its blocking call from %+.3f s to %+.3f s\n", i,
               workers[i].call_began, workers[i].call_ended);
    double one_after_another = threads * job.call_seconds;
    double overlap = one_after_another / elapsed;
    char ratio[32];
    printf("\none after another the calls would take %.3f s; all %d took %.3f s: %s\n",
           one_after_another, threads, elapsed, kit_ratio_text(overlap, ratio));
    printf("most threads in a blocking call at the same time: %d of %d\n",
           atomic_load(&job.most_waiting), threads);
    printf("(threads that compute instead of wait get no such overlap: run gil_sim)\n");

    /* Overlapped or not: is the time nearer to one call (all at once) or to N calls (one after
     * another)? The halfway mark leaves plenty of room for a busy machine either way. */
    bool overlapped = elapsed < job.call_seconds * (1 + threads) / 2;
    sim_gil_destroy(&job.gil);
    free(workers);

    if (!job.hold_lock && overlapped) {
        printf("OK: the threads let go of the lock while blocked, so their calls overlapped "
               "(%s)\n",
               ratio);
        return 0;
    }
    if (job.hold_lock && !overlapped) {
        printf("BROKEN: the threads kept the lock while blocked, so the calls ran one after "
               "another (%s)\n",
               ratio);
        return 0;
    }
    printf("FAILED: expected the calls to %s, but the run took %.3f s (%s)\n",
           job.hold_lock ? "run one after another" : "overlap", elapsed, ratio);
    return 1;
}
