/**
 * @file concurrency_vs_parallelism.c
 * @brief The same CPU-bound job on N threads, first pinned to one CPU, then free on all CPUs.
 *
 * What to look for: the job (about 0.1 s of pure calculation, split evenly over N threads) is
 * run two ways. Pinned: every thread is tied to one CPU with pthread_attr_setaffinity_np().
 * The threads are concurrent, all in progress at once, but the CPU runs only one of them at a
 * time, so they take turns and the job takes as long as doing it alone. Free: the threads may
 * use every CPU this process is allowed, run in parallel, and finish up to N times sooner.
 * The program prints both times, the speedup (`x1.97`), and how much of its life each thread
 * really spent running, from its own CPU clock: about 1/N when pinned (the rest was waiting
 * for its turn), close to 100% when free.
 *
 * Beside them, in the same rounds, K copies of the whole job run at once, one thread each (K =
 * threads or CPUs, the fewer): on K idle CPUs they take as long as one job, so K x the pinned
 * time over theirs is the ceiling, what this machine gave in this very run (`ceiling: x1.98`).
 * Each way runs five times, taking turns, and the fastest run of each counts: other programs
 * can only ever slow a run down. When they kept the CPUs busy anyway, the ceiling shows it and a
 * `note:` says what that means for the speedup. On one CPU (try `taskset -c 0`) there is no
 * parallelism to have: both ways take the same time, about x1.0, and the verdict says so.
 * Sleeping threads, unlike these, overlap even on one CPU (many_threads.c).
 *
 * See also: chapter 07's gil_sim.c (why Python threads get about x1.0 even with many CPUs).
 *
 * Usage: concurrency_vs_parallelism [--threads=N] [--work=SECONDS] [--rounds=N]
 */
#define _GNU_SOURCE /* cpu_set_t, pthread_attr_setaffinity_np(), pthread_getaffinity_np() */
#include "kit.h"

#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static const char usage[] =
    "Usage: concurrency_vs_parallelism [options]\n"
    "Run one CPU-bound job on N threads pinned to one CPU, then on all CPUs, and compare.\n"
    "  -t, --threads=N        how many threads share the job (1 to 64;\n"
    "                         default: one per CPU, at least 2, at most 16)\n"
    "  -w, --work=SECONDS     CPU time the whole job takes on one CPU (0.01 to 60, default 0.1)\n"
    "  -r, --rounds=N         run each way (and the ceiling's copies) N times, keep the fastest\n"
    "                         (1 to 100, default 5)\n"
    "  -h, --help             show this help and exit\n";

#define MAX_THREADS 64
#define ANY_CPU (-1)

/* One thread's share of the job, and what it measured about itself. */
struct runner {
    pthread_t thread;
    uint64_t iterations; /* its share of the work */
    double cpu_seconds;  /* out: time it really ran, by its own CPU clock */
    double life_seconds; /* out: time from its first instruction to its last */
    int allowed_cpus;    /* out: how many CPUs its affinity mask allowed it */
};

static void *run_share(void *arg)
{
    struct runner *self = arg;
    double born = kit_now();
    kit_cpu_work(self->iterations);
    self->cpu_seconds = kit_cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
    self->life_seconds = kit_seconds_since(born);

    cpu_set_t allowed;
    KIT_CHECK_EN(pthread_getaffinity_np(pthread_self(), sizeof allowed, &allowed));
    self->allowed_cpus = CPU_COUNT(&allowed);
    return NULL;
}

/* How many iterations of kit_cpu_work() this machine does per second: the best of a few
 * short probes, so that --work means seconds here whatever the CPU (or sanitizer). */
static double iterations_per_second(void)
{
    const uint64_t probe = UINT64_C(1) << 22;
    double best = 1e9;
    for (int i = 0; i < 5; i++) {
        double start = kit_now();
        kit_cpu_work(probe);
        double took = kit_seconds_since(start);
        if (took < best)
            best = took;
    }
    return (double)probe / best;
}

/* What one run of the job measured. */
struct measurement {
    double seconds;       /* wall time, from the first pthread_create to the last join */
    double running_share; /* the threads' mean CPU time / lifetime: 1.0 = never waited */
    int misplaced;        /* threads allowed more or fewer CPUs than intended (must be 0) */
};

/* Runs the job once, every thread on `cpu` or, with ANY_CPU, on any of the process's CPUs. */
static struct measurement run_job(struct runner *runners, long thread_count, int cpu)
{
    pthread_attr_t attr;
    KIT_CHECK_EN(pthread_attr_init(&attr));
    if (cpu != ANY_CPU) {
        cpu_set_t only_one;
        CPU_ZERO(&only_one);
        CPU_SET(cpu, &only_one);
        KIT_CHECK_EN(pthread_attr_setaffinity_np(&attr, sizeof only_one, &only_one));
    }
    double start = kit_now();
    for (long i = 0; i < thread_count; i++)
        KIT_CHECK_EN(pthread_create(&runners[i].thread, &attr, run_share, &runners[i]));
    for (long i = 0; i < thread_count; i++)
        KIT_CHECK_EN(pthread_join(runners[i].thread, NULL));
    struct measurement result = {.seconds = kit_seconds_since(start)};
    KIT_CHECK_EN(pthread_attr_destroy(&attr));

    int intended_cpus = cpu == ANY_CPU ? kit_cpu_count() : 1;
    for (long i = 0; i < thread_count; i++) {
        result.running_share += runners[i].cpu_seconds / runners[i].life_seconds;
        if (runners[i].allowed_cpus != intended_cpus)
            result.misplaced++;
    }
    result.running_share /= (double)thread_count;
    return result;
}

/* The highest-numbered CPU this process may run on: the one the first run pins to. CPU 0
 * tends to be the busiest (interrupts, programs started with `taskset -c 0`). */
static int last_allowed_cpu(void)
{
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == -1)
        kit_die_errno("sched_getaffinity");
    for (int cpu = CPU_SETSIZE - 1; cpu >= 0; cpu--)
        if (CPU_ISSET(cpu, &allowed))
            return cpu;
    kit_die("sched_getaffinity: no CPU allowed");
}

/* One copy of the whole job, as the ceiling runs it: arg points at its iterations. */
static void whole_job(void *arg, int copy)
{
    (void)copy;
    kit_cpu_work(*(const uint64_t *)arg);
}

/* Keeps the faster of two runs of the same kind. */
static void keep_faster(struct measurement *best, struct measurement run)
{
    if (run.seconds < best->seconds)
        *best = run;
}

/* Prints both runs, the speedup beside the ceiling of this run, a note when other programs
 * held the ceiling down or the rounds were disturbed unevenly, and the verdict. */
static void report(const struct measurement *pinned, const struct measurement *spread,
                   double copies_seconds, int pinned_cpu, long thread_count, int cpu_count)
{
    printf("concurrent, all on CPU %d: %.3f s; each thread was running %.0f%% of its life\n",
           pinned_cpu, pinned->seconds, 100 * pinned->running_share);
    const char *cpus = cpu_count == 1 ? "CPU" : "CPUs";
    printf("parallel, free on %d %s: %.3f s; each thread was running %.0f%% of its life\n",
           cpu_count, cpus, spread->seconds, 100 * spread->running_share);

    int best_possible = thread_count < cpu_count ? (int)thread_count : cpu_count;
    double speedup = pinned->seconds / spread->seconds;
    char ratio[32];
    printf("speedup: %s (%ld thread%s, %d %s; fastest runs)\n", kit_ratio_text(speedup, ratio),
           thread_count, thread_count == 1 ? "" : "s", cpu_count, cpus);
    double ceiling = kit_print_ceiling(best_possible, pinned->seconds, copies_seconds);
    char contender[48];
    snprintf(contender, sizeof contender, "%ld thread%s free on %d %s", thread_count,
             thread_count == 1 ? "" : "s", cpu_count, cpus);
    kit_note_above_ceiling(contender, speedup, ceiling);
    if (best_possible < 2) {
        printf("OK: measured %s; with %s, parallelism was not possible here "
               "(about x1.00 is right)\n",
               ratio, cpu_count < 2 ? "only 1 CPU" : "only 1 thread");
        return;
    }
    char limit[32];
    kit_ratio_text(ceiling, limit);
    printf("OK: the threads ran where they were put; in parallel %s, of a ceiling of %s in "
           "this run\n",
           ratio, limit);
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"threads", required_argument, NULL, 't'},
        {"work", required_argument, NULL, 'w'},
        {"rounds", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int cpu_count = kit_cpu_count();
    long thread_count = cpu_count < 2 ? 2 : cpu_count > 16 ? 16 : cpu_count;
    double work_seconds = 0.1;
    long rounds = 5;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "t:w:r:h", options, NULL)) != -1;) {
        switch (opt) {
        case 't': thread_count = kit_parse_long("--threads", optarg, 1, MAX_THREADS); break;
        case 'w': work_seconds = kit_parse_double("--work", optarg, 0.01, 60); break;
        case 'r': rounds = kit_parse_long("--rounds", optarg, 1, 100); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (work_seconds * (double)rounds > 20)
        kit_usage_error("--work=%g x --rounds=%ld is over the cap of 20 s per way: with the "
                        "ceiling's copies, about a minute",
                        work_seconds, rounds);

    struct runner runners[MAX_THREADS] = {0};
    uint64_t share = (uint64_t)(work_seconds * iterations_per_second() / (double)thread_count);
    for (long i = 0; i < thread_count; i++)
        runners[i].iterations = share;
    int pinned_cpu = last_allowed_cpu();
    printf("CPUs this process may use: %d\n", cpu_count);
    printf("the job: %" PRIu64 " iterations of kit_cpu_work (about %.2f s of CPU) over %ld "
           "thread%s, run %ld time%s each way\n",
           share * (uint64_t)thread_count, work_seconds, thread_count, thread_count == 1 ? "" : "s",
           rounds, rounds == 1 ? "" : "s");

    /* Other programs on the machine can only ever slow a run down, so the fastest run of each
     * kind is the truest; alternating the two kinds exposes both to the same disturbances. */
    struct measurement pinned = {.seconds = 1e9}, spread = {.seconds = 1e9};
    int misplaced = 0;
    int copies = thread_count < cpu_count ? (int)thread_count : cpu_count;
    uint64_t whole = share * (uint64_t)thread_count;
    double copies_seconds = 1e9;
    for (long round = 0; round < rounds; round++) {
        struct measurement one_cpu = run_job(runners, thread_count, pinned_cpu);
        struct measurement all_cpus = run_job(runners, thread_count, ANY_CPU);
        double together = kit_time_copies(copies, whole_job, &whole);
        misplaced += one_cpu.misplaced + all_cpus.misplaced;
        keep_faster(&pinned, one_cpu);
        keep_faster(&spread, all_cpus);
        if (together < copies_seconds)
            copies_seconds = together;
    }
    if (misplaced > 0) {
        printf("FAILED: %d threads were not where intended (only on CPU %d, or free on all %d)\n",
               misplaced, pinned_cpu, cpu_count);
        return 1;
    }
    report(&pinned, &spread, copies_seconds, pinned_cpu, thread_count, cpu_count);
    return 0;
}
