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
 * What goes wrong when a process dies holding the lock: nobody is left to unlock it, and every
 * other process waits for it forever. So the mutex is also ROBUST: the next process to lock it
 * gets EOWNERDEAD instead of waiting, and the lock with it. The data the dead holder guarded may
 * be half-updated: the new holder checks or repairs it, then calls pthread_mutex_consistent()
 * to make the lock usable again. Here the increment either happened or not, so the repair is
 * nothing. `--die-holding=K` shows it: child 0 is killed (SIGKILL, as by the OOM killer) while
 * it holds the lock, after K increments; the next process to lock it (another child, or the
 * parent reading the total at the end) recovers it, and the total is exact minus the
 * increments child 0 never made. A child killed from outside (`kill -KILL`) is
 * not part of the plan: the parent names it, stops the others, and exits 1.
 *
 * See also: process_queue.c (sending messages instead of sharing memory), chapter 06 (pools).
 *
 * Usage: shared_memory [-p N] [-i N] [--die-holding=K]
 */
#include "kit.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
    "Usage: shared_memory [options]\n"
    "Child processes increment one counter in shared memory, under a process-shared mutex.\n"
    "  -p, --processes=N    child processes (default 4)\n"
    "  -i, --increments=N   increments per process (default 1000000; 4e8 in all at most)\n"
    "  -d, --die-holding=N  child 0 is killed while holding the lock after N increments;\n"
    "                       the others recover the lock (EOWNERDEAD) and go on\n"
    "  -h, --help           show this help and exit\n";

/* What lives in the shared memory: the counter and the lock that guards it, side by side. */
struct shared_counter {
    pthread_mutex_t lock; /* process-shared: it works across fork(); robust: survives a holder */
    long value;           /* guarded by lock */
    long recoveries;      /* guarded by lock: times a child found the holder dead (EOWNERDEAD) */
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

/* Initialise the mutex in the shared memory as one that several processes may use, and that
 * tells the next locker when its holder died (robust). */
static void init_shared_mutex(pthread_mutex_t *mutex)
{
    pthread_mutexattr_t attributes;
    KIT_CHECK_EN(pthread_mutexattr_init(&attributes));
    KIT_CHECK_EN(pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED));
    KIT_CHECK_EN(pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST));
    KIT_CHECK_EN(pthread_mutex_init(mutex, &attributes));
    KIT_CHECK_EN(pthread_mutexattr_destroy(&attributes));
}

/* In a child: an error number from a pthread call is fatal (the child helper wants errno). */
static void child_check(int en, const char *what)
{
    if (en != 0) {
        errno = en;
        kit_child_die_errno("child %d: %s", (int)getpid(), what);
    }
}

/* Lock the shared mutex. If its holder died holding it, we get it with EOWNERDEAD: repair what
 * it guards (an increment happened or not: nothing to repair), then mark it consistent. */
static void lock_shared(struct shared_counter *counter)
{
    int en = pthread_mutex_lock(&counter->lock);
    if (en == EOWNERDEAD) {
        counter->recoveries++;
        child_check(pthread_mutex_consistent(&counter->lock), "pthread_mutex_consistent");
        en = 0;
    }
    child_check(en, "pthread_mutex_lock");
}

/* A child: add 1 to the shared counter, increments times, each under the shared lock. With
 * die_after >= 0, die (SIGKILL) holding the lock once that many increments are done. */
_Noreturn static void child_increment(struct shared_counter *counter, long increments,
                                      long die_after)
{
    for (long i = 0; i < increments; i++) {
        lock_shared(counter);
        if (i == die_after)
            raise(SIGKILL); /* killed holding the lock, as by the OOM killer or `kill -KILL` */
        counter->value++;   /* load, add, store: safe only because the lock is held */
        child_check(pthread_mutex_unlock(&counter->lock), "pthread_mutex_unlock");
    }
    _exit(0);
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"processes", required_argument, NULL, 'p'},
        {"increments", required_argument, NULL, 'i'},
        {"die-holding", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long processes = 4, increments = 1000000, die_holding = -1;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "p:i:d:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'p': processes = kit_parse_long("--processes", optarg, 1, 64); break;
        case 'i': increments = kit_parse_long("--increments", optarg, 1, 100000000); break;
        case 'd': die_holding = kit_parse_long("--die-holding", optarg, 0, 100000000); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (processes * increments > 400000000L) /* about 20 s of locked increments here */
        kit_usage_error("%ld processes x %ld increments is over the cap of 4e8 in all: "
                        "it would run for minutes",
                        processes, increments);
    if (die_holding >= increments)
        kit_usage_error("--die-holding=%ld: child 0 makes only %ld increments", die_holding,
                        increments);
    if (die_holding >= 0 && processes < 2)
        kit_usage_error("--die-holding needs 2 processes or more: one to die, one to recover");
    kit_own_children(); /* Ctrl-C, SIGTERM, a fork refused half-way: children stopped, reaped */

    struct shared_counter *counter = map_shared_counter();
    init_shared_mutex(&counter->lock);
    printf("%ld processes x %ld increments of one shared counter\n", processes, increments);
    fflush(stdout); /* before fork, so no child inherits unprinted output */
    pid_t first_child = 0;

    double start = kit_now();
    for (long p = 0; p < processes; p++) {
        pid_t child = fork();
        if (child == -1)
            kit_die_errno("fork child %ld", p); /* the children already started are stopped */
        if (child == 0)
            child_increment(counter, increments, p == 0 ? die_holding : -1);
        if (p == 0)
            first_child = child;
    }
    for (long p = 0; p < processes; p++) { /* reap every child, in any order: no zombies */
        int status;
        pid_t ended = wait(&status);
        if (ended == -1 && errno == EINTR) {
            p--;
            continue;
        }
        if (ended == -1)
            kit_die_errno("wait");
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            continue;
        char how[64];
        kit_describe_status(status, how, sizeof how);
        if (die_holding >= 0 && ended == first_child && WIFSIGNALED(status) &&
            WTERMSIG(status) == SIGKILL) {
            printf("child 0 (pid %d) %s holding the lock, as asked (--die-holding)\n", (int)ended,
                   how);
            continue;
        }
        printf("child %d %s: stopping the other children\n", (int)ended, how);
        printf("FAILED: a child did not finish; %d others stopped and reaped\n",
               kit_stop_children());
        return 1;
    }
    double seconds = kit_seconds_since(start);

    long expected = processes * increments - (die_holding >= 0 ? increments - die_holding : 0);
    /* Every child has exited, but the lock may still be owned by a dead one, if no other
     * child locked it after the death: the parent takes it once more, the robust way. */
    int en = pthread_mutex_lock(&counter->lock);
    if (en == EOWNERDEAD) {
        counter->recoveries++;
        en = pthread_mutex_consistent(&counter->lock);
    }
    if (en != 0)
        kit_die_en(en, "pthread_mutex_lock in the parent");
    long got = counter->value;
    long recoveries = counter->recoveries;
    KIT_CHECK_EN(pthread_mutex_unlock(&counter->lock));
    printf("%ld locked increments in %.3f s\n", expected, seconds);
    if (die_holding >= 0)
        printf("the lock was recovered %ld time%s with EOWNERDEAD after its holder died, then "
               "made consistent\n",
               recoveries, recoveries == 1 ? "" : "s");
    KIT_CHECK_EN(pthread_mutex_destroy(&counter->lock));
    if (munmap(counter, sizeof *counter) == -1) /* the last mapping: the memory is freed */
        kit_die_errno("munmap");

    if (got != expected || (die_holding >= 0 && recoveries != 1)) {
        printf("FAILED: expected %ld, got %ld (%ld update%s lost), %ld recoveries\n", expected, got,
               expected - got, expected - got == 1 ? "" : "s", recoveries);
        return 1;
    }
    if (die_holding >= 0)
        printf("OK: expected %ld, got %ld: the lock survived the death of its holder\n", expected,
               got);
    else
        printf("OK: expected %ld, got %ld\n", expected, got);
    return 0;
}
