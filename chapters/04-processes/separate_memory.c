/**
 * @file separate_memory.c
 * @brief A child process changes a global and the parent never sees it; a thread's change is seen.
 *
 * What to look for: a global `value` starts at 0. A forked child sets it to 42 and reads 42
 * back; after waitpid() the parent still reads 0. Then a thread sets the same global to 42, and
 * after pthread_join() main reads 42. All of them print the same address for `value`: a child
 * gets a copy of the parent's whole address space (copied lazily, page by page, when either
 * side writes: copy-on-write), so the same address names different memory in each process.
 * Threads share one address space. This is why Python's multiprocessing needs Queue, Pipe or
 * Value to move data between processes, and why threads need locks.
 *
 * See also: spawn_cost.c (what the copy costs), chapter 05 (pipes and shared memory).
 *
 * Usage: separate_memory [--value=N] [--sleep=N]
 */
#include "kit.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
    "Usage: separate_memory [options]\n"
    "A child process and a thread each change the same global; see who sees the change.\n"
    "  -v, --value=N   what the child and the thread write, 1 to 1000000 (default 42)\n"
    "  -s, --sleep=N   seconds the child and the thread wait before writing (default 0)\n"
    "  -h, --help      show this help and exit\n";

/* One global: one copy in each process, one copy for all the threads of a process. */
static long value = 0;

struct write_job {
    long new_value;
    double sleep_seconds;
};

static void write_global(const struct write_job *job, const char *who)
{
    kit_sleep(job->sleep_seconds);
    value = job->new_value;
    printf("%-24s pid %d: wrote %ld at %p, reads back %ld\n", who, (int)getpid(), job->new_value,
           (void *)&value, value);
}

static void *thread_main(void *arg)
{
    write_global(arg, "thread:");
    return NULL;
}

/* Fork a child that writes the global, wait for it, return what the parent then reads. */
static long value_after_child(const struct write_job *job)
{
    fflush(stdout); /* flush before fork: the child must not print our buffered lines again */
    pid_t child = fork();
    if (child == -1)
        kit_die_errno("fork");
    if (child == 0) {
        write_global(job, "child process:");
        fflush(stdout);
        _exit(0);
    }
    int status;
    if (waitpid(child, &status, 0) == -1)
        kit_die_errno("waitpid %d", (int)child);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        kit_die("child %d did not exit cleanly (status word %#x)", (int)child, status);
    printf("%-24s pid %d: after waitpid, reads %ld at %p\n", "parent:", (int)getpid(), value,
           (void *)&value);
    return value;
}

/* Start a thread that writes the global, join it, return what main then reads. */
static long value_after_thread(struct write_job *job)
{
    pthread_t thread;
    KIT_CHECK_EN(pthread_create(&thread, NULL, thread_main, job));
    KIT_CHECK_EN(pthread_join(thread, NULL)); /* join also makes the thread's write visible */
    printf("%-24s pid %d: after pthread_join, reads %ld at %p\n", "main:", (int)getpid(), value,
           (void *)&value);
    return value;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"value", required_argument, NULL, 'v'},
        {"sleep", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct write_job job = {.new_value = 42, .sleep_seconds = 0};

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "v:s:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'v': job.new_value = kit_parse_long("--value", optarg, 1, 1000000); break;
        case 's': job.sleep_seconds = kit_parse_double("--sleep", optarg, 0, 3600); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    kit_own_children();

    long before = value;
    printf("value starts at %ld\n", before);
    /* Fork first, while the process has one thread: fork copies only the calling thread. */
    long seen_after_child = value_after_child(&job);
    long seen_after_thread = value_after_thread(&job);

    printf("\n%-24s %22s %24s\n", "", "child process (fork)", "thread (pthread_create)");
    printf("%-24s %22ld %24ld\n", "value before", before, before);
    printf("%-24s %22ld %24ld\n", "the worker wrote", job.new_value, job.new_value);
    printf("%-24s %22ld %24ld\n", "main reads afterwards", seen_after_child, seen_after_thread);

    if (seen_after_child == before && seen_after_thread == job.new_value) {
        printf("OK: the child's write stayed in the child (parent still reads %ld); "
               "the thread's write is shared (main reads %ld)\n",
               seen_after_child, seen_after_thread);
        return 0;
    }
    printf("FAILED: after the child main read %ld (expected %ld), after the thread %ld "
           "(expected %ld)\n",
           seen_after_child, before, seen_after_thread, job.new_value);
    return 1;
}
