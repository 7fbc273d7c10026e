/**
 * @file grade_bank.c
 * @brief The grader's driver for exercise 02: calls the student's transfer() in set scenes.
 *
 * The grader builds this file beside the student's bank.c (tests/grade/prepare) and compiles
 * bank.c into itself, its main renamed, so that it can call the student's static transfer()
 * and see struct account. Its sched_yield(), the work between a transfer's two locks, goes
 * through grade_yield(): there the driver can hold a transfer still, with its first lock taken.
 * Each --test prints one verdict line, `OK: ...` (exit 0) or `BROKEN: what was expected, what
 * happened` (exit 1):
 *
 *   replay    threads make known transfers; each account's final balance must equal a replay
 *             of the transfers it was given, one by one (the total alone hides money moved the
 *             wrong way)
 *   overlap   a transfer C -> D is held still inside transfer(), after its first lock, until
 *             main has judged; a transfer A -> B must finish meanwhile (one lock for the whole
 *             bank never lets it)
 *   opposite  A -> B and B -> A at the same moment: each is held after its first lock until
 *             the other has reached its own, or is asleep (blocked, /proc/self/task/TID/stat
 *             says S); with one lock order the second waits for the first's lock and the
 *             first goes on, with two they hold one lock each and wait for each other forever
 *
 * Every wait has a limit, so a wrong bank ends with BROKEN, never a hang. Nothing is judged by
 * speed: the scenes are set by rendezvous and by what the kernel says a thread is doing, the
 * same on a busy machine and on one CPU; the limits only end a scene that cannot go on.
 *
 * Usage: grade_bank --test=NAME
 */
#define _GNU_SOURCE /* gettid() */
#include "kit.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const double FINISH_S = 3.0; /* how long a transfer that can go on gets to finish */

/* The role of the calling thread in a scene: who is held in grade_yield(), and until what. */
enum grade_role { GRADE_FREE, GRADE_HELD_UNTIL_RELEASED, GRADE_HELD_UNTIL_OTHER_ARRIVES };
static _Thread_local enum grade_role grade_role;
static _Thread_local int grade_me;   /* 0 or 1: this thread's place in the scene */
static atomic_bool grade_arrived[2]; /* the thread reached the work between its two locks */
static atomic_bool grade_done[2];    /* the thread's transfer returned */
static atomic_int grade_tid[2];      /* the thread's id, once it runs */
static atomic_bool grade_released;   /* main has judged: a held thread may go on */

/* Whether the thread of place @p who is asleep: blocked on a lock, in the student's code. */
static bool grade_asleep(int who)
{
    int tid = atomic_load(&grade_tid[who]);
    if (tid == 0)
        return false;
    char path[64], stat[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return false; /* gone: it finished */
    size_t length = fread(stat, 1, sizeof stat - 1, file);
    fclose(file);
    stat[length] = '\0';
    const char *state = strrchr(stat, ')'); /* the name may hold spaces and parentheses */
    return state != NULL && state[1] == ' ' && state[2] == 'S';
}

__attribute__((unused)) /* unused if the student's bank.c never yields */
static int
grade_yield(void)
{
    if (grade_role == GRADE_FREE || atomic_load(&grade_arrived[grade_me]))
        return sched_yield();
    atomic_store(&grade_arrived[grade_me], true);
    double since = kit_now();
    int other = 1 - grade_me;
    while (kit_seconds_since(since) < 2 * FINISH_S) { /* main judges within FINISH_S */
        if (grade_role == GRADE_HELD_UNTIL_RELEASED
                ? atomic_load(&grade_released)
                : atomic_load(&grade_arrived[other]) || grade_asleep(other))
            break;
        kit_sleep(0.001);
    }
    return sched_yield();
}

/* The student's program, its main renamed and its sched_yield() routed through grade_yield().
 * Its headers are already included, so the renaming reaches its code only. */
int bank_main(int argc, char *argv[]);
#define main bank_main
#define sched_yield grade_yield
#include "bank.c"
#undef main
#undef sched_yield

static _Noreturn void broken(const char *what)
{
    printf("BROKEN: %s\n", what);
    fflush(stdout);
    _exit(1); /* threads may be stuck in transfer(): do not wait for them */
}

static struct account *open_accounts(long count)
{
    struct account *accounts = calloc((size_t)count, sizeof accounts[0]);
    if (accounts == NULL)
        kit_die_errno("calloc %ld accounts", count);
    for (long a = 0; a < count; a++) {
        KIT_CHECK_EN(pthread_mutex_init(&accounts[a].lock, NULL));
        accounts[a].balance = OPENING_BALANCE;
    }
    return accounts;
}

static void close_accounts(struct account *accounts, long count)
{
    for (long a = 0; a < count; a++)
        KIT_CHECK_EN(pthread_mutex_destroy(&accounts[a].lock));
    free(accounts);
}

/* ---- replay ---- */
enum { REPLAY_ACCOUNTS = 6, REPLAY_THREADS = 4, REPLAY_TRANSFERS = 3000 };

struct planned {
    int from, to;
    long amount;
};

struct replayer {
    pthread_t thread;
    struct account *accounts;
    struct planned plan[REPLAY_TRANSFERS];
};

static void *replay_plan(void *arg)
{
    struct replayer *replayer = arg;
    for (int i = 0; i < REPLAY_TRANSFERS; i++) {
        const struct planned *planned = &replayer->plan[i];
        transfer(&replayer->accounts[planned->from], &replayer->accounts[planned->to],
                 planned->amount);
    }
    return NULL;
}

static void test_replay(void)
{
    static struct replayer replayers[REPLAY_THREADS];
    struct account *accounts = open_accounts(REPLAY_ACCOUNTS);
    long expected[REPLAY_ACCOUNTS];
    for (int a = 0; a < REPLAY_ACCOUNTS; a++)
        expected[a] = OPENING_BALANCE;
    uint64_t state = 0x2545F4914F6CDD1Du;
    for (int t = 0; t < REPLAY_THREADS; t++) {
        replayers[t].accounts = accounts;
        for (int i = 0; i < REPLAY_TRANSFERS; i++) {
            state ^= state << 13, state ^= state >> 7, state ^= state << 17; /* xorshift64 */
            int from = (int)(state % REPLAY_ACCOUNTS);
            int to = (int)((state >> 8) % (REPLAY_ACCOUNTS - 1));
            to += to >= from; /* any account but from */
            long amount = 1 + (long)((state >> 16) % 100);
            replayers[t].plan[i] = (struct planned){.from = from, .to = to, .amount = amount};
            expected[from] -= amount;
            expected[to] += amount;
        }
    }
    for (int t = 0; t < REPLAY_THREADS; t++)
        KIT_CHECK_EN(pthread_create(&replayers[t].thread, NULL, replay_plan, &replayers[t]));
    for (int t = 0; t < REPLAY_THREADS; t++)
        KIT_CHECK_EN(pthread_join(replayers[t].thread, NULL));
    int wrong = 0;
    char first_wrong[160] = "";
    for (int a = 0; a < REPLAY_ACCOUNTS; a++) {
        if (accounts[a].balance != expected[a] && wrong++ == 0)
            snprintf(first_wrong, sizeof first_wrong, "account %d holds %ld, expected %ld", a,
                     accounts[a].balance, expected[a]);
    }
    close_accounts(accounts, REPLAY_ACCOUNTS);
    if (wrong > 0) {
        char message[300];
        snprintf(message, sizeof message,
                 "each account's balance equal to a replay of its %d transfers; got %d of %d "
                 "accounts wrong: %s",
                 REPLAY_THREADS * REPLAY_TRANSFERS, wrong, REPLAY_ACCOUNTS, first_wrong);
        broken(message);
    }
    printf("OK: %d transfers by %d threads; all %d balances equal to the replay\n",
           REPLAY_THREADS * REPLAY_TRANSFERS, REPLAY_THREADS, REPLAY_ACCOUNTS);
}

/* ---- overlap and opposite: two transfers, each in a thread of its own ---- */
struct staged {
    pthread_t thread;
    int me;
    enum grade_role role;
    struct account *from, *to;
    long amount;
};

static void *staged_transfer(void *arg)
{
    struct staged *staged = arg;
    atomic_store(&grade_tid[staged->me], (int)gettid());
    grade_me = staged->me;
    grade_role = staged->role;
    transfer(staged->from, staged->to, staged->amount);
    atomic_store(&grade_done[staged->me], true);
    return NULL;
}

static void start_staged(struct staged *staged, int me, enum grade_role role, struct account *from,
                         struct account *to, long amount)
{
    *staged = (struct staged){.me = me, .role = role, .from = from, .to = to, .amount = amount};
    atomic_store(&grade_arrived[me], false);
    atomic_store(&grade_done[me], false);
    atomic_store(&grade_tid[me], 0);
    KIT_CHECK_EN(pthread_create(&staged->thread, NULL, staged_transfer, staged));
}

/* Wait up to seconds for flag; true if it was set. */
static bool wait_for(atomic_bool *flag, double seconds)
{
    double since = kit_now();
    while (!atomic_load(flag)) {
        if (kit_seconds_since(since) > seconds)
            return false;
        kit_sleep(0.001);
    }
    return true;
}

static void test_overlap(void)
{
    /* Both ways round: the held transfer's accounts after the free one's, then before. */
    for (int round = 0; round < 2; round++) {
        struct account *accounts = open_accounts(4);
        struct account *a = &accounts[round == 0 ? 0 : 2], *b = &accounts[round == 0 ? 1 : 3];
        struct account *c = &accounts[round == 0 ? 3 : 1], *d = &accounts[round == 0 ? 2 : 0];
        struct staged held, free_one;
        atomic_store(&grade_released, false);
        start_staged(&held, 0, GRADE_HELD_UNTIL_RELEASED, c, d, 30);
        if (!wait_for(&grade_arrived[0], FINISH_S)) {
            broken(atomic_load(&grade_done[0])
                       ? "transfer() to call sched_yield() between its two locks, as given; got "
                         "a transfer that never called it (keep it: it stands for the work done "
                         "there)"
                       : "a transfer C -> D to reach its sched_yield(), alone in the bank; got "
                         "none in 3 s (does transfer() wait for a lock nobody holds?)");
        }
        start_staged(&free_one, 1, GRADE_FREE, a, b, 7);
        if (!wait_for(&grade_done[1], FINISH_S))
            broken("a transfer A -> B finishing while another transfer, C -> D, is between its "
                   "two locks; got A -> B still waiting 3 s later (one lock for the whole bank? "
                   "Each account has its own mutex: a transfer locks its two accounts only)");
        KIT_CHECK_EN(pthread_join(free_one.thread, NULL));
        atomic_store(&grade_released, true);
        if (!wait_for(&grade_done[0], FINISH_S))
            broken("the transfer C -> D finishing once A -> B was done; got it still waiting");
        KIT_CHECK_EN(pthread_join(held.thread, NULL));
        close_accounts(accounts, 4);
    }
    printf("OK: a transfer between A and B finished while another held C and D, both ways "
           "round\n");
}

static void test_opposite(void)
{
    struct account *accounts = open_accounts(4);
    struct staged forth, back;
    start_staged(&forth, 0, GRADE_HELD_UNTIL_OTHER_ARRIVES, &accounts[0], &accounts[1], 10);
    start_staged(&back, 1, GRADE_HELD_UNTIL_OTHER_ARRIVES, &accounts[1], &accounts[0], 3);
    if (!wait_for(&grade_done[0], 2 * FINISH_S) || !wait_for(&grade_done[1], 2 * FINISH_S))
        broken("A -> B and B -> A started at the same moment both finishing; got them waiting "
               "for each other (each holds the lock the other needs: a deadlock. Take the two "
               "locks in one order that every thread agrees on)");
    KIT_CHECK_EN(pthread_join(forth.thread, NULL));
    KIT_CHECK_EN(pthread_join(back.thread, NULL));
    close_accounts(accounts, 4);
    printf("OK: A -> B and B -> A at the same moment both finished\n");
}

int main(int argc, char *argv[])
{
    const char *test = argc == 2 && strncmp(argv[1], "--test=", 7) == 0 ? argv[1] + 7 : "";
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(test, "replay") == 0)
        test_replay();
    else if (strcmp(test, "overlap") == 0)
        test_overlap();
    else if (strcmp(test, "opposite") == 0)
        test_opposite();
    else {
        fprintf(stderr, "Usage: grade_bank --test=replay|overlap|opposite\n");
        return 2;
    }
    return 0;
}
