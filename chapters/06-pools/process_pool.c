/**
 * @file process_pool.c
 * @brief A pre-forked process pool fed over pipes: chunked sums of squares, compute(n), speedup.
 *
 * What to look for: like Python's `ProcessPoolExecutor` or `multiprocessing.Pool`, the pool
 * forks its workers once, at the start, and then only sends them work. Each worker has its own
 * task pipe; all workers write their results to one shared result pipe. Tasks and results are
 * fixed-size records, smaller than PIPE_BUF, so a write of one record is atomic: results from
 * several workers never interleave. Each result says which worker sent it, and the parent gives
 * that worker the next task, so a fast worker simply gets more tasks.
 *
 * The program runs the tutorials' examples, then a race:
 * 1. the sum of squares of range(1,000,000) in 4 chunks of 250,000 (`Pool.starmap` over chunks);
 * 2. compute(n) = the sum of squares of range(n) for 5M, 10M and 20M (`executor.map`). These
 *    totals are larger than 2^64: Python's integers grow, C's do not, so they are 128-bit here.
 * 3. a speed run on large chunks: the same sum computed by the parent alone, then by the pool,
 *    timed side by side (speedup about x2 on 2 CPUs, about x1 under `taskset -c 0`). Each
 *    worker also reports the CPU time its tasks took, and the program prints how many CPUs the
 *    pool kept busy: near 2.0 on 2 CPUs, even when the CPUs, slower side by side, give less
 *    than x2.
 * Every total is checked against the closed formula (n - 1) n (2n - 1) / 6.
 *
 * Shutdown: the parent closes the task pipes, each worker reads end-of-file and exits, and the
 * parent reaps every one with waitpid. Ctrl-C (SIGINT) stops the workers with SIGTERM and reaps
 * them too. What goes wrong otherwise: a worker that kept a copy of a sibling's task pipe would
 * keep that sibling from ever seeing end-of-file (a hang at shutdown); a parent that does not
 * wait leaves zombies (chapter 04); a parent that dies leaves orphans, unless, as here, each
 * worker asks the kernel to stop it when its parent dies (PR_SET_PDEATHSIG).
 *
 * See also: thread_pool.c (the same with threads), task_size.c (what small tasks cost).
 *
 * Usage: process_pool [--workers=N] [--numbers=N] [--chunks=N] [--rounds=N]
 */
#define _GNU_SOURCE /* prctl */
#include "kit.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
    "Usage: process_pool [options]\n"
    "A pre-forked process pool: chunked sums of squares, compute(n), and its speedup.\n"
    "  -w, --workers=N   worker processes (default: one per CPU, like ProcessPoolExecutor)\n"
    "  -n, --numbers=N   the speed run sums the squares of range(N) (default 200000000,\n"
    "                    at most 4000000000)\n"
    "  -c, --chunks=N    chunks the speed run is cut into (default 8)\n"
    "  -r, --rounds=N    times the speed run is repeated; the best time counts (default 3)\n"
    "  -h, --help        show this help and exit\n";

enum { MAX_WORKERS = 64, MAX_CHUNKS = 1024 };

typedef unsigned __int128 u128; /* a GCC and Clang extension: 0 to about 3.4e38 */

/* The records have no padding: every byte written to a pipe has been set. */
struct task_record { /* parent -> one worker: sum the squares of range(first, first + count) */
    uint64_t first, count;
    uint64_t id; /* the task's place in the parent's list */
};

struct result_record { /* any worker -> parent */
    u128 sum;
    uint32_t id;              /* which task */
    uint32_t worker;          /* who ran it: it is free for the next task */
    uint64_t cpu_nanoseconds; /* CPU time the worker spent on it */
};

_Static_assert(sizeof(struct task_record) == 24 && sizeof(struct result_record) == 32,
               "no padding bytes");
_Static_assert(sizeof(struct result_record) <= PIPE_BUF, "a record must fit in PIPE_BUF");

struct process_pool {
    int worker_count;
    pid_t pids[MAX_WORKERS];
    int task_fds[MAX_WORKERS]; /* write end of each worker's own task pipe */
    int result_fd;             /* read end of the result pipe all workers share */
    uint64_t cpu_nanoseconds;  /* CPU time the workers reported, over every task so far */
};

static atomic_bool interrupted; /* set by the SIGINT handler (lock-free, so signal-safe) */

static void on_sigint(int signal_number)
{
    (void)signal_number;
    atomic_store(&interrupted, true);
}

/* ---- the work ---------------------------------------------------------------------------- */

/* i * i fits in 64 bits for i below 2^32; the running total needs 128. (Clang turns the same
 * loop with a 128-bit product into the closed formula, and there is nothing left to time.) */
static u128 sum_of_squares(uint64_t first, uint64_t count)
{
    u128 total = 0;
    for (uint64_t i = first; i < first + count; i++)
        total += i * i;
    return total;
}

/* 0^2 + 1^2 + ... + (n - 1)^2, the closed formula every total is checked against. */
static u128 formula(uint64_t n)
{
    return n == 0 ? 0 : (u128)(n - 1) * n * (2 * (u128)n - 1) / 6;
}

/* printf has no conversion for 128 bits: write the digits backwards into text. */
static const char *u128_text(u128 value, char text[40])
{
    char *digit = text + 39;
    *digit = '\0';
    do {
        *--digit = (char)('0' + (int)(value % 10));
        value /= 10;
    } while (value > 0);
    return digit;
}

/* ---- records over pipes ------------------------------------------------------------------ */

/* Read one whole record. Returns 1, or 0 at end-of-file before the record, or -1 if a signal
 * interrupted the wait and SIGINT has been seen. A pipe may hand over less than asked for. */
static int read_record(int fd, void *record, size_t size)
{
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, (char *)record + got, size - got);
        if (n == -1 && errno == EINTR) {
            if (atomic_load(&interrupted))
                return -1;
            continue;
        }
        if (n == -1)
            return -2; /* the caller says what failed */
        if (n == 0) {
            if (got == 0)
                return 0;
            errno = EPROTO; /* the writer died in the middle of a record */
            return -2;
        }
        got += (size_t)n;
    }
    return 1;
}

/* Write one record: at most PIPE_BUF bytes go into a pipe in one piece or not at all. */
static bool write_record(int fd, const void *record, size_t size)
{
    ssize_t n;
    do
        n = write(fd, record, size);
    while (n == -1 && errno == EINTR);
    return n == (ssize_t)size;
}

/* ---- the pool ---------------------------------------------------------------------------- */

static void close_fd(int fd)
{
    if (close(fd) == -1)
        kit_die_errno("close fd %d", fd);
}

/* CPU time this worker process has used so far (called in a worker only). */
static uint64_t process_cpu_nanoseconds(void)
{
    struct timespec used;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &used) == -1)
        kit_child_die_errno("clock_gettime CLOCK_PROCESS_CPUTIME_ID");
    return (uint64_t)used.tv_sec * 1000000000u + (uint64_t)used.tv_nsec;
}

/* A worker's whole life: read a task, compute, write the result, until end-of-file. */
_Noreturn static void worker_main(int index, int task_fd, int result_fd)
{
    for (;;) {
        struct task_record task;
        int got = read_record(task_fd, &task, sizeof task);
        if (got == 0)
            _exit(0); /* the parent closed our pipe: the pool is shutting down */
        if (got < 0)
            kit_child_die_errno("worker %d: read a task", index);
        uint64_t cpu_before = process_cpu_nanoseconds();
        struct result_record result = {.sum = sum_of_squares(task.first, task.count),
                                       .id = (uint32_t)task.id, /* < MAX_CHUNKS */
                                       .worker = (uint32_t)index};
        result.cpu_nanoseconds = process_cpu_nanoseconds() - cpu_before;
        if (!write_record(result_fd, &result, sizeof result))
            kit_child_die_errno("worker %d: write a result", index);
    }
}

static void pool_start(struct process_pool *pool, int workers)
{
    int result_pipe[2];
    if (pipe(result_pipe) == -1)
        kit_die_errno("pipe");
    pid_t parent = getpid();
    fflush(stdout); /* else a child that called exit() would print this output a second time */
    for (int i = 0; i < workers; i++) {
        int task_pipe[2];
        if (pipe(task_pipe) == -1)
            kit_die_errno("pipe");
        pid_t pid = fork();
        if (pid == -1)
            kit_die_errno("fork worker %d", i);
        if (pid == 0) {
            /* Die with the parent, whatever kills it: no orphans left computing. */
            if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
                kit_child_die_errno("prctl PR_SET_PDEATHSIG");
            if (getppid() != parent) /* the parent died before the line above */
                _exit(1);
            if (signal(SIGINT, SIG_IGN) == SIG_ERR) /* Ctrl-C is the parent's to handle */
                kit_child_die_errno("signal SIGINT");
            /* Keep only our own ends. A copy of an older sibling's task pipe kept here would
             * stop that sibling from ever reading end-of-file at shutdown. */
            for (int older = 0; older < i; older++)
                if (close(pool->task_fds[older]) == -1)
                    kit_child_die_errno("close worker %d's task pipe", older);
            if (close(task_pipe[1]) == -1 || close(result_pipe[0]) == -1)
                kit_child_die_errno("close the parent's pipe ends");
            worker_main(i, task_pipe[0], result_pipe[1]);
        }
        close_fd(task_pipe[0]);
        pool->pids[i] = pid;
        pool->task_fds[i] = task_pipe[1];
    }
    close_fd(result_pipe[1]); /* only workers write results */
    pool->result_fd = result_pipe[0];
    pool->worker_count = workers;
    pool->cpu_nanoseconds = 0;
}

/* Hand out count tasks, one per free worker, and collect every result by its id. Returns false
 * if SIGINT came. A signal that lands just before read() blocks is seen when the next result
 * arrives: at most one chunk later. */
static bool pool_run(struct process_pool *pool, const struct task_record tasks[], size_t count,
                     u128 sums[], int ran_on[])
{
    size_t sent = 0, received = 0;
    for (int w = 0; w < pool->worker_count && sent < count; w++, sent++)
        if (!write_record(pool->task_fds[w], &tasks[sent], sizeof tasks[sent]))
            kit_die_errno("send task %zu to worker %d", sent, w);
    while (received < count) {
        struct result_record result;
        int got = read_record(pool->result_fd, &result, sizeof result);
        if (got < 0 && atomic_load(&interrupted))
            return false;
        if (got == 0)
            kit_die("every worker has gone: %zu of %zu results received", received, count);
        if (got < 0)
            kit_die_errno("read a result");
        if (result.id >= count || result.worker >= (uint32_t)pool->worker_count)
            kit_die("a result for task %llu from worker %llu makes no sense",
                    (unsigned long long)result.id, (unsigned long long)result.worker);
        sums[result.id] = result.sum;
        ran_on[result.id] = (int)result.worker;
        pool->cpu_nanoseconds += result.cpu_nanoseconds;
        received++;
        if (sent < count) {
            if (!write_record(pool->task_fds[result.worker], &tasks[sent], sizeof tasks[sent]))
                kit_die_errno("send task %zu to worker %d", sent, (int)result.worker);
            sent++;
        }
    }
    return true;
}

/* Close every task pipe (each worker reads end-of-file and exits), or, when stopping in a
 * hurry, SIGTERM them first. Then reap all. Returns how many exited as they should. */
static int pool_stop(struct process_pool *pool, bool terminate)
{
    for (int i = 0; i < pool->worker_count; i++) {
        if (terminate && kill(pool->pids[i], SIGTERM) == -1)
            kit_die_errno("kill worker %d (pid %d)", i, (int)pool->pids[i]);
        close_fd(pool->task_fds[i]);
    }
    int clean_exits = 0;
    for (int i = 0; i < pool->worker_count; i++) {
        int status;
        while (waitpid(pool->pids[i], &status, 0) == -1)
            if (errno != EINTR)
                kit_die_errno("waitpid worker %d (pid %d)", i, (int)pool->pids[i]);
        bool expected = terminate ? WIFSIGNALED(status) || WIFEXITED(status)
                                  : WIFEXITED(status) && WEXITSTATUS(status) == 0;
        clean_exits += expected;
    }
    close_fd(pool->result_fd);
    return clean_exits;
}

/* True when this process has no child left, zombie or running. */
static bool no_children_left(void)
{
    return waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD;
}

/* ---- the examples ------------------------------------------------------------------------ */

/* Cut range(numbers) into chunks tasks; the last one takes the remainder. */
static void cut_into_chunks(uint64_t numbers, size_t chunks, struct task_record tasks[])
{
    uint64_t size = numbers / chunks;
    for (size_t i = 0; i < chunks; i++) {
        tasks[i].first = i * size;
        tasks[i].count = i + 1 < chunks ? size : numbers - i * size;
        tasks[i].id = i;
    }
}

static bool run_starmap_example(struct process_pool *pool, int *checks_passed)
{
    enum { CHUNKS = 4 };
    const uint64_t numbers = 1000000;
    struct task_record tasks[CHUNKS];
    u128 sums[CHUNKS], total = 0;
    int ran_on[CHUNKS];
    char text[40];
    cut_into_chunks(numbers, CHUNKS, tasks);
    if (!pool_run(pool, tasks, CHUNKS, sums, ran_on))
        return false;

    printf("1. sum of squares of range(%llu) in %d chunks (Pool.starmap):\n",
           (unsigned long long)numbers, CHUNKS);
    for (int i = 0; i < CHUNKS; i++) {
        printf("   range(%llu, %llu) -> %s  (worker %d)\n", (unsigned long long)tasks[i].first,
               (unsigned long long)(tasks[i].first + tasks[i].count), u128_text(sums[i], text),
               ran_on[i]);
        total += sums[i];
    }
    bool right = total == formula(numbers);
    printf("   total %s  (%s the closed formula)\n", u128_text(total, text),
           right ? "matches" : "DOES NOT MATCH");
    *checks_passed += right;
    return true;
}

static bool run_compute_example(struct process_pool *pool, int *checks_passed)
{
    enum { INPUTS = 3 };
    const uint64_t inputs[INPUTS] = {5000000, 10000000, 20000000};
    struct task_record tasks[INPUTS];
    u128 sums[INPUTS];
    int ran_on[INPUTS];
    char text[40];
    for (int i = 0; i < INPUTS; i++)
        tasks[i] = (struct task_record){.first = 0, .count = inputs[i], .id = (uint64_t)i};
    if (!pool_run(pool, tasks, INPUTS, sums, ran_on))
        return false;

    printf("2. compute(n) = sum of squares of range(n) (executor.map; over 2^64, so 128-bit):\n");
    for (int i = 0; i < INPUTS; i++) {
        bool right = sums[i] == formula(inputs[i]);
        printf("   compute(%llu) = %s  (%s the closed formula)\n", (unsigned long long)inputs[i],
               u128_text(sums[i], text), right ? "matches" : "DOES NOT MATCH");
        *checks_passed += right;
    }
    return true;
}

/* Seconds the parent alone takes to sum the chunks one after another; 0 if interrupted. It
 * looks at the SIGINT flag after every million numbers, so Ctrl-C is felt within a millisecond
 * or so: a handler can only set a flag, the loop must come and look. */
static double time_sequential(const struct task_record tasks[], size_t chunks, u128 *total)
{
    const uint64_t slice = 1000000;
    double start = kit_now();
    *total = 0;
    for (size_t i = 0; i < chunks; i++) {
        uint64_t end = tasks[i].first + tasks[i].count;
        for (uint64_t first = tasks[i].first; first < end; first += slice) {
            if (atomic_load(&interrupted))
                return 0;
            *total += sum_of_squares(first, end - first < slice ? end - first : slice);
        }
    }
    return kit_seconds_since(start);
}

/* Seconds the pool takes for the same chunks; 0 if interrupted. Also how many CPUs the workers
 * kept busy meanwhile, on average: their CPU time over the wall-clock time. */
static double time_pool(struct process_pool *pool, const struct task_record tasks[], size_t chunks,
                        u128 *total, double *cpus_in_use)
{
    u128 sums[MAX_CHUNKS];
    int ran_on[MAX_CHUNKS];
    uint64_t cpu_before = pool->cpu_nanoseconds;
    double start = kit_now();
    if (!pool_run(pool, tasks, chunks, sums, ran_on))
        return 0;
    double seconds = kit_seconds_since(start);
    *cpus_in_use = (double)(pool->cpu_nanoseconds - cpu_before) / 1e9 / seconds;
    *total = 0;
    for (size_t i = 0; i < chunks; i++)
        *total += sums[i];
    return seconds;
}

/* The same chunks, timed side by side: the parent alone, then the pool, rounds times. The
 * best time of each is kept: other programs running on the machine can only make a run
 * slower, never faster, so the fastest run is the one least disturbed. */
static bool run_speed_race(struct process_pool *pool, uint64_t numbers, size_t chunks, int rounds,
                           int *checks_passed)
{
    struct task_record tasks[MAX_CHUNKS];
    cut_into_chunks(numbers, chunks, tasks);
    double best_sequential = 0, best_pool = 0, best_pool_cpus = 0;
    bool right = true;
    for (int round = 0; round < rounds; round++) {
        u128 sequential_total, pool_total;
        double cpus_in_use = 0;
        double sequential = time_sequential(tasks, chunks, &sequential_total);
        double parallel =
            sequential > 0 ? time_pool(pool, tasks, chunks, &pool_total, &cpus_in_use) : 0;
        if (parallel == 0)
            return false; /* interrupted */
        right = right && sequential_total == formula(numbers) && pool_total == formula(numbers);
        if (round == 0 || sequential < best_sequential)
            best_sequential = sequential;
        if (round == 0 || parallel < best_pool) {
            best_pool = parallel;
            best_pool_cpus = cpus_in_use;
        }
    }
    printf("3. speed: sum of squares of range(%llu) in %zu chunks, totals %s\n",
           (unsigned long long)numbers, chunks, right ? "match the formula" : "DO NOT MATCH");
    printf("   sequential %.3f s, pool of %d worker%s %.3f s (best of %d), on %d CPU(s)\n",
           best_sequential, pool->worker_count, pool->worker_count == 1 ? "" : "s", best_pool,
           rounds, kit_cpu_count());
    printf("   speedup: x%.2f\n", best_sequential / best_pool);
    printf("   CPUs in use during that pool run: %.2f (the workers' CPU time over wall-clock time)\n",
           best_pool_cpus);
    *checks_passed += right;
    return true;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"workers", required_argument, NULL, 'w'},
        {"numbers", required_argument, NULL, 'n'},
        {"chunks", required_argument, NULL, 'c'},
        {"rounds", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int workers = kit_cpu_count() < MAX_WORKERS ? kit_cpu_count() : MAX_WORKERS;
    long numbers = 200000000, chunks = 8, rounds = 3;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "w:n:c:r:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'w': workers = (int)kit_parse_long("--workers", optarg, 1, MAX_WORKERS); break;
        case 'n': numbers = kit_parse_long("--numbers", optarg, 1, 4000000000L); break;
        case 'c': chunks = kit_parse_long("--chunks", optarg, 1, MAX_CHUNKS); break;
        case 'r': rounds = kit_parse_long("--rounds", optarg, 1, 100); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    struct process_pool pool;
    pool_start(&pool, workers);
    /* No SA_RESTART: a read() blocked on the result pipe returns EINTR, and we look at the flag. */
    struct sigaction on_interrupt = {.sa_handler = on_sigint};
    sigemptyset(&on_interrupt.sa_mask);
    if (sigaction(SIGINT, &on_interrupt, NULL) == -1)
        kit_die_errno("sigaction SIGINT");
    printf("pool: %d worker processes forked once, pids", workers);
    for (int i = 0; i < workers; i++)
        printf(" %d", (int)pool.pids[i]);
    printf("; records of %zu and %zu bytes over pipes\n", sizeof(struct task_record),
           sizeof(struct result_record));
    fflush(stdout);

    int checks_passed = 0;
    bool finished = run_starmap_example(&pool, &checks_passed) &&
                    run_compute_example(&pool, &checks_passed) &&
                    run_speed_race(&pool, (uint64_t)numbers, (size_t)chunks, (int)rounds,
                                   &checks_passed);

    int reaped = pool_stop(&pool, !finished);
    bool no_children = no_children_left();
    if (!finished) {
        printf("interrupted: %d of %d workers stopped and reaped; %s\n", reaped, workers,
               no_children ? "no child processes left" : "CHILD PROCESSES LEFT");
        fflush(stdout); /* dying by a signal does not flush stdio */
        /* Die of SIGINT, so that our own parent (a shell, a script) sees how we ended. */
        if (signal(SIGINT, SIG_DFL) == SIG_ERR || raise(SIGINT) != 0)
            kit_die_errno("raise SIGINT");
        return 130; /* not reached: what a shell reports for a death by SIGINT */
    }
    printf("pool shut down: %d of %d workers exited with status 0 and were reaped; %s\n", reaped,
           workers, no_children ? "no child processes left" : "CHILD PROCESSES LEFT");

    enum { CHECKS = 5 };
    if (checks_passed != CHECKS || reaped != workers || !no_children) {
        printf("FAILED: %d of %d totals right, %d of %d workers reaped cleanly, %s\n",
               checks_passed, CHECKS, reaped, workers,
               no_children ? "no children left" : "children left");
        return 1;
    }
    printf("OK: all %d totals match the closed formula, every worker reaped, no children left\n",
           CHECKS);
    return 0;
}
