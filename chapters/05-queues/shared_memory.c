/**
 * @file shared_memory.c
 * @brief Processes increment one counter in POSIX shared memory, under a process-shared mutex.
 *
 * What to look for: processes do not share memory (chapter 04), unless they ask for it. Here
 * the parent creates a POSIX shared memory object with shm_open(), sizes it with ftruncate() and
 * maps it with mmap(MAP_SHARED). The children it forks inherit the mapping, so all of them see
 * the same bytes: a counter and the mutex that guards it. The mutex is made with the attribute
 * PTHREAD_PROCESS_SHARED, which lets it work between processes. Every child adds its share, and
 * the total comes out exact. That is what Python's `multiprocessing.Value('i', 0)` with its
 * `get_lock()` is made of.
 *
 * The object's name (it shows up as a file under /dev/shm) is only needed by processes that
 * open it by name. These children inherit the mapping through fork(), so the parent unlinks the
 * name at once: the memory lives on until the last mapping goes, and nothing is left in /dev/shm
 * even if the program is killed. For related processes only, `mmap(MAP_SHARED | MAP_ANONYMOUS)`
 * before fork() gives the same shared memory with no name at all.
 *
 * What goes wrong without the mutex: `counter++` is a load, an add and a store; two processes
 * interleave them exactly as two threads do (chapter 02), and updates are lost.
 *
 * See also: process_queue.c (sending messages instead of sharing memory), chapter 06 (pools).
 *
 * Usage: shared_memory [-p N] [-i N]
 */
#include "kit.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
    "Usage: shared_memory [options]\n"
    "Child processes increment one counter in shared memory, under a process-shared mutex.\n"
    "  -p, --processes=N    child processes (default 4)\n"
    "  -i, --increments=N   increments per process (default 1000000)\n"
    "  -h, --help           show this help and exit\n";

/* What lives in the shared memory: the counter and the lock that guards it, side by side. */
struct shared_counter {
    pthread_mutex_t lock; /* process-shared: it works across fork() */
    long value;           /* guarded by lock */
};

/* Create, size and map a fresh shared memory object, then unlink its name (see the header). */
static struct shared_counter *map_shared_counter(void)
{
    char name[64];
    snprintf(name, sizeof name, "/kit-shared-memory-%d", (int)getpid());
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600); /* EXCL: never reuse a stale one */
    if (fd == -1)
        kit_die_errno("shm_open %s", name);
    if (ftruncate(fd, sizeof(struct shared_counter)) == -1) /* a new object has size 0 */
        kit_die_errno("ftruncate %s", name);
    void *memory =
        mmap(NULL, sizeof(struct shared_counter), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (memory == MAP_FAILED)
        kit_die_errno("mmap %s", name);
    printf("created /dev/shm%s, mapped it, unlinked the name: the mapping stays\n", name);
    if (close(fd) == -1) /* the mapping does not need the descriptor */
        kit_die_errno("close %s", name);
    if (shm_unlink(name) == -1) /* the name goes now; the memory when the last mapping does */
        kit_die_errno("shm_unlink %s", name);
    return memory; /* fresh from ftruncate: all zero bytes */
}

/* Initialise the mutex in the shared memory as one that several processes may use. */
static void init_shared_mutex(pthread_mutex_t *mutex)
{
    pthread_mutexattr_t attributes;
    KIT_CHECK_EN(pthread_mutexattr_init(&attributes));
    KIT_CHECK_EN(pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED));
    KIT_CHECK_EN(pthread_mutex_init(mutex, &attributes));
    KIT_CHECK_EN(pthread_mutexattr_destroy(&attributes));
}

/* A child: add 1 to the shared counter, increments times, each under the shared lock. */
static void child_increment(struct shared_counter *counter, long increments)
{
    for (long i = 0; i < increments; i++) {
        int en = pthread_mutex_lock(&counter->lock);
        if (en != 0) {
            errno = en; /* pthread calls return the error number; the child helper wants errno */
            kit_child_die_errno("child %d: pthread_mutex_lock", (int)getpid());
        }
        counter->value++; /* load, add, store: safe only because the lock is held */
        en = pthread_mutex_unlock(&counter->lock);
        if (en != 0) {
            errno = en;
            kit_child_die_errno("child %d: pthread_mutex_unlock", (int)getpid());
        }
    }
    _exit(0);
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"processes", required_argument, NULL, 'p'},
        {"increments", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long processes = 4, increments = 1000000;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "p:i:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'p': processes = kit_parse_long("--processes", optarg, 1, 64); break;
        case 'i': increments = kit_parse_long("--increments", optarg, 1, 100000000); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    struct shared_counter *counter = map_shared_counter();
    init_shared_mutex(&counter->lock);
    printf("%ld processes x %ld increments of one shared counter\n", processes, increments);
    fflush(stdout); /* before fork, so no child inherits unprinted output */

    double start = kit_now();
    for (long p = 0; p < processes; p++) {
        pid_t child = fork();
        if (child == -1)
            kit_die_errno("fork child %ld", p);
        if (child == 0)
            child_increment(counter, increments);
    }
    long failed_children = 0;
    for (long p = 0; p < processes; p++) { /* reap every child, in any order: no zombies */
        int status;
        if (wait(&status) == -1)
            kit_die_errno("wait");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed_children++;
    }
    double seconds = kit_seconds_since(start);

    long expected = processes * increments;
    long got = counter->value; /* every child has exited: nobody else touches it now */
    printf("%ld locked increments in %.3f s\n", expected, seconds);
    KIT_CHECK_EN(pthread_mutex_destroy(&counter->lock));
    if (munmap(counter, sizeof *counter) == -1) /* the last mapping: the memory is freed */
        kit_die_errno("munmap");

    if (failed_children != 0) {
        printf("FAILED: %ld child process(es) did not exit with status 0\n", failed_children);
        return 1;
    }
    if (got != expected) {
        printf("FAILED: expected %ld, got %ld (%ld updates lost)\n", expected, got, expected - got);
        return 1;
    }
    printf("OK: expected %ld, got %ld\n", expected, got);
    return 0;
}
