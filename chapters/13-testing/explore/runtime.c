/**
 * @file runtime.c
 * @brief The controlled scheduler's runtime: real threads, run one at a time, and a decision
 * before every operation that another thread could see.
 *
 * Where the decisions come from. The program under test is compiled with -fsanitize=thread
 * but linked with this file instead of libtsan: the compiler then calls __tsan_read4(addr)
 * before each 4-byte load of memory that may be shared, __tsan_atomic64_fetch_add() in place
 * of each atomic add, and so on; every one of those calls is a decision here. The pthread,
 * semaphore, sleep and clock calls are renamed at link time (-Wl,--wrap=pthread_mutex_lock
 * makes every call of pthread_mutex_lock in the program and in common/ call
 * __wrap_pthread_mutex_lock below, which may call the real one as __real_pthread_mutex_lock).
 * Link-time wrapping was chosen over LD_PRELOAD interposition because it touches only the code
 * under test and common/, never libc's own internal calls, and needs no dlsym.
 *
 * How one thread at a time. Each thread owns a baton (a semaphore): it runs only while
 * `running` names it. At a decision the scheduler picks the next thread among those that can
 * go (enabled), and if that is another, posts the other's baton and waits on its own. A
 * blocking call (a lock held by another thread, an empty semaphore, a join) is never made for
 * real: the thread records what it waits for and stops being enabled until that holds. When no
 * thread is enabled, time jumps to the earliest timed wait's deadline (time is virtual: sleeps
 * never sleep); with no timed wait either, it is a deadlock, reported thread by thread.
 *
 * What is not modelled: spurious wake-ups, the order in which a signal picks among waiters
 * (always the longest waiting), weak memory (every run is sequentially consistent), and
 * blocking calls other than the ones below (a read on a pipe would really block).
 */
#define _GNU_SOURCE /* usleep, on_exit */
#include "explore.h"

#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the real calls, reached through -Wl,--wrap ---- */
int __real_pthread_create(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
int __real_pthread_join(pthread_t, void **);
_Noreturn void __real_pthread_exit(void *);
int __real_pthread_mutex_lock(pthread_mutex_t *);
int __real_pthread_mutex_trylock(pthread_mutex_t *);
int __real_pthread_mutex_timedlock(pthread_mutex_t *, const struct timespec *);
int __real_pthread_mutex_unlock(pthread_mutex_t *);
int __real_pthread_cond_wait(pthread_cond_t *, pthread_mutex_t *);
int __real_pthread_cond_timedwait(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
int __real_pthread_cond_signal(pthread_cond_t *);
int __real_pthread_cond_broadcast(pthread_cond_t *);
int __real_pthread_barrier_init(pthread_barrier_t *, const pthread_barrierattr_t *, unsigned);
int __real_pthread_barrier_wait(pthread_barrier_t *);
int __real_sem_init(sem_t *, int, unsigned);
int __real_sem_wait(sem_t *);
int __real_sem_trywait(sem_t *);
int __real_sem_timedwait(sem_t *, const struct timespec *);
int __real_sem_post(sem_t *);
int __real_sem_getvalue(sem_t *, int *);
int __real_sched_yield(void);
int __real_nanosleep(const struct timespec *, struct timespec *);
int __real_clock_nanosleep(clockid_t, int, const struct timespec *, struct timespec *);
int __real_usleep(useconds_t);
unsigned __real_sleep(unsigned);
int __real_clock_gettime(clockid_t, struct timespec *);

/* ---- state of the run (this process only) ---- */

/* A synchronisation object or a memory location, found by its address. */
struct object {
    const void *address;
    uint32_t number; /* 1, 2, ... in order of first use: the trace's name for it */
    int owner;       /* a mutex's owning thread, or -1 */
    long count;      /* a semaphore's count; a barrier's arrivals */
    unsigned needed; /* a barrier's thread count */
    unsigned generation;
    /* A memory word, in this run: the first thread to use it, whether another has, any write. */
    int first_user;
    bool second_user, written;
};

/* The objects of a run, in order of first use, found by address through an open-addressing
 * index that doubles as it fills. Both stay small and dense: each page a fresh run touches for
 * the first time costs it a page fault, the main cost of a run (see search.c). */
enum { OBJECTS = 1 << 16, INDEX_FIRST = 1 << 10, INDEX_MAX = 1 << 17 };
static struct object objects[OBJECTS];
static uint32_t object_count;
static uint32_t object_index[INDEX_MAX]; /* 1 + a place in objects[]; 0: empty */
static uint32_t index_size = INDEX_FIRST;

enum state { UNUSED, ALIVE, FINISHED };

struct thread {
    enum state state;
    enum explore_wait wait;
    struct object *waits_for;
    unsigned generation; /* a barrier wait: the generation it arrived in */
    bool timed;          /* a timed wait: it may end at `deadline` */
    int64_t deadline;    /* virtual nanoseconds */
    bool timed_out;
    bool signalled;       /* a condition wait: woken by signal or broadcast */
    uint64_t wait_ticket; /* a condition wait: its place in the line of waiters */
    int yields_in_a_row;  /* yields and sleeps with nobody else run in between */
    uint64_t priority;    /* random mode */
    uintptr_t held[4];    /* the mutexes it holds (the first four) */
    unsigned held_count;
    pthread_t real;
    void *(*start)(void *);
    void *argument;
    void *result;
    sem_t baton;
    long pending_write; /* a traced write whose value is read at the next step, or -1 */
    const void *pending_address;
    unsigned pending_size;
};

static struct explore_shared *shared;
static bool controlled; /* this process is a run under control */
static struct thread threads[EXPLORE_THREADS];
static unsigned thread_count;
static _Atomic unsigned running;
static __thread int self = -1;
static uint32_t decisions;
static uint32_t next_forced;
static uint64_t tickets;
static int64_t virtual_ns = 1000000000; /* virtual nanoseconds: both clocks start at 1 s */
static uint64_t pct_state;
static uint32_t pct_change[8];
static uint32_t pct_changes;
static uint32_t object_numbers;

/* A thread that yields (or sleeps) this many times in a row with no write in between is
 * waiting for another: the default hands over, with no preemption counted. Without that, a
 * spin-wait loop would spin for ever under the default rule. */
enum { YIELDS_BEFORE_FAIR_SWITCH = 3 };

static _Noreturn void runtime_die(const char *what)
{
    fprintf(stderr, "explore: %s\n", what);
    _exit(125);
}

static uint32_t *index_slot(const void *address)
{
    uintptr_t hash = ((uintptr_t)address >> 3) * 0x9E3779B97F4A7C15u;
    for (size_t i = hash >> 40;; i++) {
        uint32_t *slot = &object_index[i & (index_size - 1)];
        if (*slot == 0 || objects[*slot - 1].address == address)
            return slot;
    }
}

static struct object *object_of(const void *address)
{
    uint32_t *slot = index_slot(address);
    if (*slot != 0)
        return &objects[*slot - 1];
    if (object_count == OBJECTS)
        runtime_die("more than 65536 objects and memory words in one run");
    if ((object_count + 1) * 4 > index_size * 3) { /* three quarters full: double it */
        index_size *= 2;
        memset(object_index, 0, index_size * sizeof object_index[0]);
        for (uint32_t o = 0; o < object_count; o++)
            *index_slot(objects[o].address) = o + 1;
        slot = index_slot(address);
    }
    objects[object_count] = (struct object){.address = address, .owner = -1, .first_user = self};
    *slot = ++object_count;
    return &objects[object_count - 1];
}

/* ---- the trace (a replay only) ---- */

static uint32_t number_of(struct object *object)
{
    if (object->number == 0)
        object->number = ++object_numbers;
    return object->number;
}

static int64_t load_value(const void *address, unsigned size)
{
    switch (size) {
    case 1: return *(const volatile int8_t *)address;
    case 2: return *(const volatile int16_t *)address;
    case 4: return *(const volatile int32_t *)address;
    case 8: return *(const volatile int64_t *)address;
    default: return 0;
    }
}

/* The value a traced write stored is in memory at the thread's next step: nobody ran between. */
static void finish_pending_write(struct thread *me)
{
    if (me->pending_write < 0)
        return;
    struct explore_step *step = &shared->trace[me->pending_write];
    step->value = load_value(me->pending_address, me->pending_size);
    step->has_value = true;
    me->pending_write = -1;
}

/* The caller's call stack, the explorer picks the first frame in the program's own code. */
static void record_frames(uintptr_t out[EXPLORE_FRAMES])
{
    void *frames[EXPLORE_FRAMES];
    int depth = backtrace(frames, EXPLORE_FRAMES);
    for (int i = 0; i < EXPLORE_FRAMES; i++)
        out[i] = i < depth ? (uintptr_t)frames[i] : 0;
}

static void trace_step(int op, const void *address, unsigned size, bool has_value, int64_t value)
{
    if (!shared->tracing || shared->trace_count >= EXPLORE_TRACE)
        return;
    struct explore_step *step = &shared->trace[shared->trace_count];
    *step = (struct explore_step){
        .decision = decisions, .thread = (uint8_t)self, .op = (uint8_t)op, .size = (uint8_t)size};
    if (address != NULL)
        step->object = number_of(object_of(address));
    record_frames(step->frames);
    if (op == OP_READ || op == OP_ATOMIC_LOAD) {
        step->has_value = true;
        step->value = load_value(address, size);
    } else if (op == OP_WRITE || op == OP_ATOMIC_STORE || op == OP_ATOMIC_RMW) {
        struct thread *me = &threads[self];
        me->pending_write = shared->trace_count;
        me->pending_address = address;
        me->pending_size = size;
    } else {
        step->has_value = has_value;
        step->value = value;
    }
    shared->trace_count++;
}

/* ---- deciding who goes next ---- */

static bool enabled(const struct thread *thread)
{
    if (thread->state != ALIVE)
        return false;
    if (thread->timed_out)
        return true;
    switch (thread->wait) {
    case WAIT_NONE: return true;
    case WAIT_MUTEX: return thread->waits_for->owner == -1;
    case WAIT_COND: return thread->signalled;
    case WAIT_SEM: return thread->waits_for->count > 0;
    case WAIT_BARRIER: return thread->waits_for->generation != thread->generation;
    case WAIT_JOIN: return threads[thread->waits_for->owner].state == FINISHED;
    }
    return false;
}

static uint32_t enabled_set(void)
{
    uint32_t set = 0;
    for (unsigned t = 0; t < thread_count; t++)
        if (enabled(&threads[t]))
            set |= 1u << t;
    return set;
}

/* Record what every thread waits for, then end the run: nobody can go, nobody will. */
static _Noreturn void report_deadlock(void)
{
    for (unsigned t = 0; t < thread_count; t++) {
        struct explore_waiter *waiter = &shared->waiters[t];
        waiter->state = threads[t].state == FINISHED ? 2 : 1;
        waiter->wait = (uint8_t)threads[t].wait;
        waiter->holder = threads[t].wait == WAIT_MUTEX ? (int8_t)threads[t].waits_for->owner : -1;
        if (threads[t].wait == WAIT_JOIN)
            waiter->object = (uint32_t)threads[t].waits_for->owner; /* the thread it joins */
        else
            waiter->object = threads[t].waits_for ? number_of(threads[t].waits_for) : 0;
    }
    shared->end = END_DEADLOCK;
    fflush(stdout);
    _exit(124);
}

/* No thread can go: the earliest timed wait times out, time jumping to its deadline. */
static void time_out_earliest(void)
{
    int earliest = -1;
    for (unsigned t = 0; t < thread_count; t++)
        if (threads[t].state == ALIVE && threads[t].timed &&
            (earliest < 0 || threads[t].deadline < threads[earliest].deadline))
            earliest = (int)t;
    if (earliest < 0)
        report_deadlock();
    if (threads[earliest].deadline > virtual_ns)
        virtual_ns = threads[earliest].deadline;
    threads[earliest].timed_out = true;
}

static uint64_t splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* The default rule: the current thread goes on if it can (no preemption); a thread that has
 * yielded many times in a row with others waiting hands over (else a spin-wait loop would spin
 * for ever); a blocked or finished one hands over to the next enabled thread in turn. */
static unsigned fallback_of(uint32_t set, bool yielding)
{
    struct thread *me = &threads[self];
    bool stay = (set >> self) & 1u;
    if (stay && !(yielding && me->yields_in_a_row >= YIELDS_BEFORE_FAIR_SWITCH))
        return (unsigned)self;
    for (unsigned i = 1; i <= thread_count; i++) {
        unsigned t = ((unsigned)self + i) % thread_count;
        if ((set >> t) & 1u)
            return t;
    }
    return (unsigned)self;
}

/* PCT (random mode): the enabled thread of highest priority goes; at each of a few random
 * decisions, the running thread drops below every other. */
static unsigned pct_pick(uint32_t set)
{
    for (uint32_t c = 0; c < pct_changes; c++)
        if (pct_change[c] == decisions && threads[self].state == ALIVE)
            threads[self].priority = c; /* below the initial priorities, which are >= 8 */
    unsigned best = 0;
    bool found = false;
    for (unsigned t = 0; t < thread_count; t++)
        if (((set >> t) & 1u) && (!found || threads[t].priority > threads[best].priority)) {
            best = t;
            found = true;
        }
    return best;
}

static void wait_for_baton(struct thread *me)
{
    while (atomic_load(&running) != (unsigned)self)
        while (__real_sem_wait(&me->baton) == -1 && errno == EINTR)
            continue;
}

static void pass_baton(unsigned next)
{
    atomic_store(&running, next);
    if (__real_sem_post(&threads[next].baton) == -1)
        runtime_die("sem_post of a baton failed");
}

/* Pick the thread that goes at this decision: forced, random or by default. */
static unsigned decide(bool yielding, bool visible)
{
    uint32_t set;
    while ((set = enabled_set()) == 0)
        time_out_earliest();
    uint32_t step = ++decisions;
    if (step > EXPLORE_MAX_STEPS) {
        shared->end = END_ENDLESS;
        fflush(stdout);
        _exit(124);
    }
    shared->steps = step;
    unsigned fallback = fallback_of(set, yielding), next = fallback;
    if (next_forced < shared->forced_count && shared->forced[next_forced].step == step) {
        next = shared->forced[next_forced++].thread;
        if (next >= thread_count || !((set >> next) & 1u)) {
            shared->end = END_DIVERGED; /* the program is not the same from run to run */
            fflush(stdout);
            _exit(124);
        }
    } else if (shared->pct_seed != 0) {
        next = pct_pick(set);
    }
    bool current_enabled = (set >> self) & 1u;
    if (!visible && current_enabled && shared->pct_seed == 0 && !shared->tracing)
        return next; /* nothing another thread could see: no choice worth making here */
    if ((set & (set - 1)) != 0 && shared->choice_count < EXPLORE_CHOICES)
        shared->choices[shared->choice_count++] = (struct explore_choice){
            .step = step,
            .enabled = set,
            .current = (uint8_t)self,
            .chosen = (uint8_t)next,
            .fallback = (uint8_t)fallback,
            .current_enabled = current_enabled,
        };
    return next;
}

static bool holds(const struct thread *thread, uintptr_t mutex)
{
    for (unsigned h = 0; h < thread->held_count; h++)
        if (thread->held[h] == mutex)
            return true;
    return false;
}

static bool others_alive(void)
{
    for (unsigned t = 0; t < thread_count; t++)
        if (t != (unsigned)self && threads[t].state == ALIVE)
            return true;
    return false;
}

/* What this access teaches about @p known: a write while shared, and the mutexes held. */
static void learn(struct explore_word *known, bool write)
{
    struct thread *me = &threads[self];
    if (write && !known->written_shared) {
        known->written_shared = true;
        shared->visibility_changed = true;
    }
    if (known->guard == GUARD_UNKNOWN) { /* the first lockset: what this thread holds */
        known->guard = me->held_count > 0 ? GUARD_LOCKS : GUARD_NONE;
        known->guards[0] = me->held_count > 0 ? me->held[0] : 0;
        known->guards[1] = me->held_count > 1 ? me->held[1] : 0;
        shared->visibility_changed |= known->written_shared;
    } else if (known->guard == GUARD_LOCKS) { /* it shrinks to the mutexes this one holds */
        for (int g = 0; g < 2; g++)
            if (known->guards[g] != 0 && !holds(me, known->guards[g])) {
                known->guards[g] = 0;
                shared->visibility_changed |= known->written_shared;
            }
        if (known->guards[0] == 0 && known->guards[1] == 0)
            known->guard = GUARD_NONE;
    }
}

/* Where memory word @p word (an address / 8) is in the index of shared words, or goes. */
static uint16_t *word_slot(uintptr_t word)
{
    for (size_t i = (word * 0x9E3779B97F4A7C15u) >> 50;; i++) {
        uint16_t *slot = &shared->word_index[i & (EXPLORE_WORD_INDEX - 1)];
        if (*slot == 0 || shared->shared_words[*slot - 1].word == word)
            return slot;
    }
}

/* Is this memory access one another thread could see, so that a choice before it matters?
 *
 * Only if its word is shared (two threads use it in some run, one writing), written while
 * shared, and not guarded. Shared: accessed by a second thread while another thread that used
 * it is alive; before that, a word set up by one thread and then handed over (through
 * pthread_create, say) has one owner at a time. Guarded: always accessed holding one same
 * mutex (its lockset, learnt as Eraser does): the word cannot change between this choice and
 * the thread's next one, since any other thread would need that mutex first, so a choice here
 * is one already made at the lock. What a run learns goes into the shared set, and the search
 * starts again when the set changes (search.c). */
static bool access_visible(const void *address, bool write)
{
    if (shared->all_visible)
        return true;
    uintptr_t word = (uintptr_t)address >> 3;
    struct object *object = object_of((const void *)(word << 3));
    if (object->first_user != self)
        object->second_user = true;
    uint16_t *slot = word_slot(word);
    if (*slot == 0 && object->second_user && others_alive()) {
        if (shared->shared_word_count == EXPLORE_SHARED_WORDS) {
            shared->all_visible = shared->visibility_changed = true; /* too many to keep */
            return true;
        }
        shared->shared_words[shared->shared_word_count] =
            (struct explore_word){.word = word, .guard = GUARD_UNKNOWN};
        *slot = (uint16_t)++shared->shared_word_count;
    }
    if (*slot == 0)
        return false; /* one owner at a time so far */
    struct explore_word *known = &shared->shared_words[*slot - 1];
    if (object->second_user && others_alive())
        learn(known, write);
    struct thread *me = &threads[self];
    return known->written_shared && !(known->guard == GUARD_LOCKS &&
                                      (holds(me, known->guards[0]) || holds(me, known->guards[1])));
}

/* A decision before this thread's next operation; returns when this thread may do it. */
static void point(int op, const void *address, unsigned size)
{
    struct thread *me = &threads[self];
    if (shared->tracing)
        finish_pending_write(me);
    if (shared->tracing) /* where it is, for a deadlock report */
        record_frames(shared->waiters[self].frames);
    bool yielding = op == OP_YIELD || op == OP_SLEEP, visible;
    if (op == OP_READ || op == OP_WRITE || op == OP_ATOMIC_LOAD || op == OP_ATOMIC_STORE ||
        op == OP_ATOMIC_RMW) /* size 0: a range, always visible */
        visible = size == 0 || access_visible(address, op != OP_READ && op != OP_ATOMIC_LOAD);
    else
        visible = !yielding; /* a yield or a sleep changes nothing another thread sees */
    unsigned next = decide(yielding, visible);
    bool progress = op == OP_WRITE || op == OP_ATOMIC_STORE || op == OP_ATOMIC_RMW ||
                    op == OP_LOCK || op == OP_UNLOCK || op == OP_SEM_POST;
    if (progress)
        me->yields_in_a_row = 0;
    else if (yielding && next == (unsigned)self)
        me->yields_in_a_row++; /* counted until it writes, or another thread runs */
    if (next != (unsigned)self) {
        me->yields_in_a_row = threads[next].yields_in_a_row = 0;
        pass_baton(next);
        wait_for_baton(me);
    }
    if (op != OP_COND_WAIT && op != OP_EXIT)
        trace_step(op, address, size, false, 0);
}

/* Is this thread one the runtime controls? Not before control starts, nor in the explorer. */
static inline bool under_control(void)
{
    return controlled && self >= 0;
}

/* ---- taking control of a fresh run ---- */

/* The run's end (main returned, or exit was called, after the program's own atexit functions):
 * what it printed is flushed, and the rest of the clean-up, which a fork about to vanish does
 * not need, is skipped. */
static void end_run(int status, void *unused)
{
    (void)unused;
    fflush(NULL);
    _exit(status);
}

void explore_take_control(struct explore_shared *the_shared)
{
    if (on_exit(end_run, NULL) != 0)
        runtime_die("on_exit failed");
    shared = the_shared;
    controlled = true;
    thread_count = 1;
    self = 0;
    threads[0] = (struct thread){.state = ALIVE, .real = pthread_self(), .pending_write = -1};
    if (__real_sem_init(&threads[0].baton, 0, 0) == -1)
        runtime_die("sem_init of a baton failed");
    pct_state = shared->pct_seed;
    if (shared->pct_seed != 0) {
        threads[0].priority = 8 + splitmix(&pct_state) % 1000000;
        pct_changes = shared->pct_depth > 1 ? shared->pct_depth - 1 : 0;
        if (pct_changes > 8)
            pct_changes = 8;
        for (uint32_t c = 0; c < pct_changes; c++)
            pct_change[c] = 1 + (uint32_t)(splitmix(&pct_state) % (shared->pct_steps + 1));
    }
    atomic_store(&running, 0);
}

/* ---- threads ---- */

/* This thread has ended: the next one goes. What it still runs (its exit) is not the program's. */
static void finish_thread(void *result)
{
    struct thread *me = &threads[self];
    if (shared->tracing)
        finish_pending_write(me);
    trace_step(OP_EXIT, NULL, 0, false, 0);
    me->result = result;
    me->state = FINISHED;
    pass_baton(decide(false, true));
    self = -1;
}

_Noreturn void __wrap_pthread_exit(void *result);
_Noreturn void __wrap_pthread_exit(void *result)
{
    if (under_control())
        finish_thread(result);
    __real_pthread_exit(result);
}

/* A thread ends by returning, not by pthread_exit, which would load the unwinder (libgcc_s)
 * afresh in every run. */
static void *thread_start(void *argument)
{
    struct thread *me = argument;
    self = (int)(me - threads);
    wait_for_baton(me);
    trace_step(OP_START, NULL, 0, false, 0);
    finish_thread(me->start(me->argument));
    return NULL;
}

int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attributes,
                          void *(*start)(void *), void *argument);
int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attributes,
                          void *(*start)(void *), void *argument)
{
    if (!under_control())
        return __real_pthread_create(thread, attributes, start, argument);
    point(OP_CREATE, NULL, 0);
    if (thread_count == EXPLORE_THREADS) {
        shared->end = END_TOO_MANY_THREADS;
        fflush(stdout);
        _exit(124);
    }
    struct thread *new = &threads[thread_count];
    *new =
        (struct thread){.state = ALIVE, .start = start, .argument = argument, .pending_write = -1};
    if (shared->pct_seed != 0)
        new->priority = 8 + splitmix(&pct_state) % 1000000;
    if (__real_sem_init(&new->baton, 0, 0) == -1)
        runtime_die("sem_init of a baton failed");
    int en = __real_pthread_create(&new->real, attributes, thread_start, new);
    if (en != 0)
        return en;
    *thread = new->real;
    thread_count++;
    shared->threads = thread_count;
    if (shared->tracing && shared->trace_count > 0)
        shared->trace[shared->trace_count - 1].value = thread_count - 1, /* the new thread */
            shared->trace[shared->trace_count - 1].has_value = true;
    return 0;
}

static struct thread *thread_of(pthread_t real)
{
    for (unsigned t = 1; t < thread_count; t++)
        if (pthread_equal(threads[t].real, real))
            return &threads[t];
    return NULL;
}

int __wrap_pthread_join(pthread_t thread, void **result);
int __wrap_pthread_join(pthread_t thread, void **result)
{
    struct thread *target = under_control() ? thread_of(thread) : NULL;
    if (target == NULL)
        return __real_pthread_join(thread, result);
    struct thread *me = &threads[self];
    struct object *object = object_of(target);
    object->owner = (int)(target - threads);
    me->wait = WAIT_JOIN;
    me->waits_for = object;
    point(OP_JOIN, target, 0);
    me->wait = WAIT_NONE;
    void *ignored;
    int en = __real_pthread_join(thread, &ignored); /* it has finished: only its exit is left */
    if (en == 0 && result != NULL)
        *result = target->result;
    return en;
}

/* ---- mutexes ---- */

static void set_timed(struct thread *me, const struct timespec *deadline)
{
    me->timed = deadline != NULL;
    me->timed_out = false;
    if (deadline != NULL)
        me->deadline = (int64_t)deadline->tv_sec * 1000000000 + deadline->tv_nsec;
}

static void clear_wait(struct thread *me)
{
    me->wait = WAIT_NONE;
    me->waits_for = NULL;
    me->timed = me->timed_out = me->signalled = false;
}

/* Mutex @p object is now @p me's. */
static void take(struct thread *me, struct object *object)
{
    object->owner = self;
    if (me->held_count < 4)
        me->held[me->held_count] = (uintptr_t)object->address;
    me->held_count++;
}

/* Mutex @p object is free again. */
static void release(struct thread *me, struct object *object)
{
    object->owner = -1;
    unsigned kept = 0;
    for (unsigned h = 0; h < me->held_count && h < 4; h++)
        if (me->held[h] != (uintptr_t)object->address)
            me->held[kept++] = me->held[h];
    me->held_count = me->held_count > 4 ? me->held_count - 1 : kept;
}

static int lock(pthread_mutex_t *mutex, int op, const struct timespec *deadline)
{
    struct thread *me = &threads[self];
    struct object *object = object_of(mutex);
    if (op == OP_TRYLOCK) {
        point(op, mutex, 0);
    } else {
        me->wait = WAIT_MUTEX;
        me->waits_for = object;
        set_timed(me, deadline);
        point(op, mutex, 0);
    }
    bool free = object->owner == -1;
    clear_wait(me);
    if (!free)
        return op == OP_TRYLOCK ? EBUSY : ETIMEDOUT;
    take(me, object);
    return 0;
}

int __wrap_pthread_mutex_lock(pthread_mutex_t *mutex);
int __wrap_pthread_mutex_lock(pthread_mutex_t *mutex)
{
    return under_control() ? lock(mutex, OP_LOCK, NULL) : __real_pthread_mutex_lock(mutex);
}

int __wrap_pthread_mutex_trylock(pthread_mutex_t *mutex);
int __wrap_pthread_mutex_trylock(pthread_mutex_t *mutex)
{
    return under_control() ? lock(mutex, OP_TRYLOCK, NULL) : __real_pthread_mutex_trylock(mutex);
}

int __wrap_pthread_mutex_timedlock(pthread_mutex_t *mutex, const struct timespec *deadline);
int __wrap_pthread_mutex_timedlock(pthread_mutex_t *mutex, const struct timespec *deadline)
{
    return under_control() ? lock(mutex, OP_TIMEDLOCK, deadline)
                           : __real_pthread_mutex_timedlock(mutex, deadline);
}

static int unlock(pthread_mutex_t *mutex)
{
    point(OP_UNLOCK, mutex, 0);
    struct object *object = object_of(mutex);
    if (object->owner != self)
        return EPERM;
    release(&threads[self], object);
    return 0;
}

int __wrap_pthread_mutex_unlock(pthread_mutex_t *mutex);
int __wrap_pthread_mutex_unlock(pthread_mutex_t *mutex)
{
    return under_control() ? unlock(mutex) : __real_pthread_mutex_unlock(mutex);
}

/* ---- condition variables ---- */

static int cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex, const struct timespec *deadline)
{
    struct thread *me = &threads[self];
    struct object *held = object_of(mutex);
    if (held->owner != self)
        return EPERM;
    point(OP_COND_WAIT, cond, 0); /* the decision before releasing the mutex and sleeping */
    trace_step(OP_COND_WAIT, cond, 0, false, 0);
    release(me, held);
    me->wait = WAIT_COND;
    me->waits_for = object_of(cond);
    me->wait_ticket = ++tickets;
    set_timed(me, deadline);
    point(OP_COND_WOKEN, cond, 0);
    bool timed_out = !me->signalled;
    clear_wait(me);
    me->wait = WAIT_MUTEX; /* woken (or timed out): take the mutex back before returning */
    me->waits_for = held;
    point(OP_LOCK, mutex, 0);
    clear_wait(me);
    take(me, held);
    return timed_out ? ETIMEDOUT : 0;
}

int __wrap_pthread_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex);
int __wrap_pthread_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex)
{
    return under_control() ? cond_wait(cond, mutex, NULL) : __real_pthread_cond_wait(cond, mutex);
}

int __wrap_pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex,
                                  const struct timespec *deadline);
int __wrap_pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex,
                                  const struct timespec *deadline)
{
    return under_control() ? cond_wait(cond, mutex, deadline)
                           : __real_pthread_cond_timedwait(cond, mutex, deadline);
}

/* Wake the longest waiting thread on @p cond (all of them when @p all); returns how many. */
static int wake(pthread_cond_t *cond, bool all)
{
    point(all ? OP_BROADCAST : OP_SIGNAL, cond, 0);
    struct object *object = object_of(cond);
    int woken = 0;
    for (;;) {
        struct thread *first = NULL;
        for (unsigned t = 0; t < thread_count; t++) {
            struct thread *thread = &threads[t];
            if (thread->state == ALIVE && thread->wait == WAIT_COND &&
                thread->waits_for == object && !thread->signalled && !thread->timed_out &&
                (first == NULL || thread->wait_ticket < first->wait_ticket))
                first = thread;
        }
        if (first == NULL)
            break;
        first->signalled = true;
        woken++;
        if (!all)
            break;
    }
    if (shared->tracing && shared->trace_count > 0) {
        shared->trace[shared->trace_count - 1].value = woken;
        shared->trace[shared->trace_count - 1].has_value = true;
    }
    return 0;
}

int __wrap_pthread_cond_signal(pthread_cond_t *cond);
int __wrap_pthread_cond_signal(pthread_cond_t *cond)
{
    return under_control() ? wake(cond, false) : __real_pthread_cond_signal(cond);
}

int __wrap_pthread_cond_broadcast(pthread_cond_t *cond);
int __wrap_pthread_cond_broadcast(pthread_cond_t *cond)
{
    return under_control() ? wake(cond, true) : __real_pthread_cond_broadcast(cond);
}

/* ---- barriers ---- */

int __wrap_pthread_barrier_init(pthread_barrier_t *barrier, const pthread_barrierattr_t *attr,
                                unsigned count);
int __wrap_pthread_barrier_init(pthread_barrier_t *barrier, const pthread_barrierattr_t *attr,
                                unsigned count)
{
    if (under_control()) {
        struct object *object = object_of(barrier);
        object->needed = count;
        object->count = 0;
    }
    return __real_pthread_barrier_init(barrier, attr, count);
}

int __wrap_pthread_barrier_wait(pthread_barrier_t *barrier);
int __wrap_pthread_barrier_wait(pthread_barrier_t *barrier)
{
    if (!under_control())
        return __real_pthread_barrier_wait(barrier);
    struct thread *me = &threads[self];
    struct object *object = object_of(barrier);
    point(OP_BARRIER, barrier, 0);
    if (++object->count == object->needed) {
        object->count = 0;
        object->generation++;
        return PTHREAD_BARRIER_SERIAL_THREAD;
    }
    me->wait = WAIT_BARRIER;
    me->waits_for = object;
    me->generation = object->generation;
    point(OP_BARRIER, barrier, 0);
    clear_wait(me);
    return 0;
}

/* ---- semaphores (their functions return -1 and set errno) ---- */

int __wrap_sem_init(sem_t *sem, int shared_between_processes, unsigned value);
int __wrap_sem_init(sem_t *sem, int shared_between_processes, unsigned value)
{
    if (under_control())
        object_of(sem)->count = value;
    return __real_sem_init(sem, shared_between_processes, value);
}

static int sem_take(sem_t *sem, int op, bool try, const struct timespec *deadline)
{
    struct thread *me = &threads[self];
    struct object *object = object_of(sem);
    if (!try) {
        me->wait = WAIT_SEM;
        me->waits_for = object;
        set_timed(me, deadline);
    }
    point(op, sem, 0);
    clear_wait(me);
    if (object->count == 0) {
        errno = try ? EAGAIN : ETIMEDOUT;
        return -1;
    }
    object->count--;
    return 0;
}

int __wrap_sem_wait(sem_t *sem);
int __wrap_sem_wait(sem_t *sem)
{
    return under_control() ? sem_take(sem, OP_SEM_WAIT, false, NULL) : __real_sem_wait(sem);
}

int __wrap_sem_trywait(sem_t *sem);
int __wrap_sem_trywait(sem_t *sem)
{
    return under_control() ? sem_take(sem, OP_SEM_WAIT, true, NULL) : __real_sem_trywait(sem);
}

int __wrap_sem_timedwait(sem_t *sem, const struct timespec *deadline);
int __wrap_sem_timedwait(sem_t *sem, const struct timespec *deadline)
{
    return under_control() ? sem_take(sem, OP_SEM_WAIT, false, deadline)
                           : __real_sem_timedwait(sem, deadline);
}

int __wrap_sem_post(sem_t *sem);
int __wrap_sem_post(sem_t *sem)
{
    if (!under_control())
        return __real_sem_post(sem);
    point(OP_SEM_POST, sem, 0);
    object_of(sem)->count++;
    return 0;
}

int __wrap_sem_getvalue(sem_t *sem, int *value);
int __wrap_sem_getvalue(sem_t *sem, int *value)
{
    if (!under_control())
        return __real_sem_getvalue(sem, value);
    *value = (int)object_of(sem)->count;
    return 0;
}

/* ---- yields, sleeps and clocks: virtual time ---- */

int __wrap_sched_yield(void);
int __wrap_sched_yield(void)
{
    if (!under_control())
        return __real_sched_yield();
    point(OP_YIELD, NULL, 0);
    return 0;
}

static void virtual_sleep(int64_t ns)
{
    point(OP_SLEEP, NULL, 0);
    if (ns > 0)
        virtual_ns += ns;
}

int __wrap_nanosleep(const struct timespec *length, struct timespec *left);
int __wrap_nanosleep(const struct timespec *length, struct timespec *left)
{
    if (!under_control())
        return __real_nanosleep(length, left);
    virtual_sleep((int64_t)length->tv_sec * 1000000000 + length->tv_nsec);
    return 0;
}

int __wrap_clock_nanosleep(clockid_t clock, int flags, const struct timespec *length,
                           struct timespec *left);
int __wrap_clock_nanosleep(clockid_t clock, int flags, const struct timespec *length,
                           struct timespec *left)
{
    if (!under_control())
        return __real_clock_nanosleep(clock, flags, length, left);
    int64_t ns = (int64_t)length->tv_sec * 1000000000 + length->tv_nsec;
    virtual_sleep(flags & TIMER_ABSTIME ? ns - virtual_ns : ns);
    return 0;
}

int __wrap_usleep(useconds_t microseconds);
int __wrap_usleep(useconds_t microseconds)
{
    if (!under_control())
        return __real_usleep(microseconds);
    virtual_sleep((int64_t)microseconds * 1000);
    return 0;
}

unsigned __wrap_sleep(unsigned seconds);
unsigned __wrap_sleep(unsigned seconds)
{
    if (!under_control())
        return __real_sleep(seconds);
    virtual_sleep((int64_t)seconds * 1000000000);
    return 0;
}

/* Every wall clock reads the virtual time, so that deadlines, elapsed times and every figure a
 * run prints are the same in every run. CPU-time clocks stay real. */
int __wrap_clock_gettime(clockid_t clock, struct timespec *now);
int __wrap_clock_gettime(clockid_t clock, struct timespec *now)
{
    if (!under_control() || (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC))
        return __real_clock_gettime(clock, now);
    now->tv_sec = virtual_ns / 1000000000;
    now->tv_nsec = virtual_ns % 1000000000;
    return 0;
}

/* ---- the compiler's ThreadSanitizer calls: loads, stores, atomics ---- */

#define ACCESS(kind, op, size)                                                                     \
    void __tsan_##kind##size(void *address);                                                       \
    void __tsan_##kind##size(void *address)                                                        \
    {                                                                                              \
        if (under_control())                                                                       \
            point(op, address, size);                                                              \
    }                                                                                              \
    void __tsan_unaligned_##kind##size(void *address);                                             \
    void __tsan_unaligned_##kind##size(void *address)                                              \
    {                                                                                              \
        if (under_control())                                                                       \
            point(op, address, size);                                                              \
    }
ACCESS(read, OP_READ, 1)
ACCESS(read, OP_READ, 2)
ACCESS(read, OP_READ, 4)
ACCESS(read, OP_READ, 8)
ACCESS(read, OP_READ, 16)
ACCESS(write, OP_WRITE, 1)
ACCESS(write, OP_WRITE, 2)
ACCESS(write, OP_WRITE, 4)
ACCESS(write, OP_WRITE, 8)
ACCESS(write, OP_WRITE, 16)

void __tsan_read_range(void *address, unsigned long size);
void __tsan_read_range(void *address, unsigned long size)
{
    if (under_control())
        point(OP_READ, address, size > 8 ? 0 : (unsigned)size);
}

void __tsan_write_range(void *address, unsigned long size);
void __tsan_write_range(void *address, unsigned long size)
{
    if (under_control())
        point(OP_WRITE, address, size > 8 ? 0 : (unsigned)size);
}

/* Called on entry to and exit from each instrumented function, and once at start-up. */
void __tsan_func_entry(void *caller);
void __tsan_func_entry(void *caller)
{
    (void)caller;
}
void __tsan_func_exit(void);
void __tsan_func_exit(void)
{
}
void __tsan_init(void);
void __tsan_init(void)
{
}
void __tsan_atomic_thread_fence(int order);
void __tsan_atomic_thread_fence(int order)
{
    (void)order;
    if (under_control())
        point(OP_FENCE, NULL, 0);
}
void __tsan_atomic_signal_fence(int order);
void __tsan_atomic_signal_fence(int order)
{
    (void)order;
}

/* Each atomic call is a decision, then the operation itself (done sequentially consistent:
 * only one thread runs, so a stronger order changes nothing the program can see). */
#define ATOMICS(bits)                                                                              \
    typedef int##bits##_t a##bits;                                                                 \
    a##bits __tsan_atomic##bits##_load(const volatile a##bits *a, int mo);                         \
    a##bits __tsan_atomic##bits##_load(const volatile a##bits *a, int mo)                          \
    {                                                                                              \
        (void)mo;                                                                                  \
        if (under_control())                                                                       \
            point(OP_ATOMIC_LOAD, (const void *)a, bits / 8);                                      \
        return __atomic_load_n(a, __ATOMIC_SEQ_CST);                                               \
    }                                                                                              \
    void __tsan_atomic##bits##_store(volatile a##bits *a, a##bits v, int mo);                      \
    void __tsan_atomic##bits##_store(volatile a##bits *a, a##bits v, int mo)                       \
    {                                                                                              \
        (void)mo;                                                                                  \
        if (under_control())                                                                       \
            point(OP_ATOMIC_STORE, (const void *)a, bits / 8);                                     \
        __atomic_store_n(a, v, __ATOMIC_SEQ_CST);                                                  \
    }                                                                                              \
    RMW(bits, exchange, __atomic_exchange_n)                                                       \
    RMW(bits, fetch_add, __atomic_fetch_add)                                                       \
    RMW(bits, fetch_sub, __atomic_fetch_sub)                                                       \
    RMW(bits, fetch_and, __atomic_fetch_and)                                                       \
    RMW(bits, fetch_or, __atomic_fetch_or)                                                         \
    RMW(bits, fetch_xor, __atomic_fetch_xor)                                                       \
    RMW(bits, fetch_nand, __atomic_fetch_nand)                                                     \
    CAS(bits, strong, 0)                                                                           \
    CAS(bits, weak, 1)                                                                             \
    a##bits __tsan_atomic##bits##_compare_exchange_val(volatile a##bits *a, a##bits c, a##bits v,  \
                                                       int mo, int fmo);                           \
    a##bits __tsan_atomic##bits##_compare_exchange_val(volatile a##bits *a, a##bits c, a##bits v,  \
                                                       int mo, int fmo)                            \
    {                                                                                              \
        (void)mo, (void)fmo;                                                                       \
        if (under_control())                                                                       \
            point(OP_ATOMIC_RMW, (const void *)a, bits / 8);                                       \
        __atomic_compare_exchange_n(a, &c, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);              \
        return c;                                                                                  \
    }
#define RMW(bits, name, builtin)                                                                   \
    a##bits __tsan_atomic##bits##_##name(volatile a##bits *a, a##bits v, int mo);                  \
    a##bits __tsan_atomic##bits##_##name(volatile a##bits *a, a##bits v, int mo)                   \
    {                                                                                              \
        (void)mo;                                                                                  \
        if (under_control())                                                                       \
            point(OP_ATOMIC_RMW, (const void *)a, bits / 8);                                       \
        return builtin(a, v, __ATOMIC_SEQ_CST);                                                    \
    }
#define CAS(bits, name, weak)                                                                      \
    int __tsan_atomic##bits##_compare_exchange_##name(volatile a##bits *a, a##bits *c, a##bits v,  \
                                                      int mo, int fmo);                            \
    int __tsan_atomic##bits##_compare_exchange_##name(volatile a##bits *a, a##bits *c, a##bits v,  \
                                                      int mo, int fmo)                             \
    {                                                                                              \
        (void)mo, (void)fmo;                                                                       \
        if (under_control())                                                                       \
            point(OP_ATOMIC_RMW, (const void *)a, bits / 8);                                       \
        return __atomic_compare_exchange_n(a, c, v, weak, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);     \
    }
ATOMICS(8)
ATOMICS(16)
ATOMICS(32)
ATOMICS(64)

/* ---- start-up: before main, hand over to the explorer when asked to explore ---- */

static void start_up(int argc, char **argv, char **environment)
{
    (void)environment;
    if (getenv("KIT_EXPLORE") == NULL)
        return; /* an instrumented program run by itself: every call is the real one */
    explore_main(argc, argv);
}

/* glibc passes main's arguments to the functions of .init_array. */
__attribute__((section(".init_array"),
               used)) static void (*const start_up_entry)(int, char **, char **) = start_up;

static const char *const op_names[OP_COUNT] = {
    [OP_START] = "start",
    [OP_READ] = "read",
    [OP_WRITE] = "write",
    [OP_ATOMIC_LOAD] = "atomic load",
    [OP_ATOMIC_STORE] = "atomic store",
    [OP_ATOMIC_RMW] = "atomic update",
    [OP_FENCE] = "fence",
    [OP_LOCK] = "lock",
    [OP_TRYLOCK] = "trylock",
    [OP_TIMEDLOCK] = "timedlock",
    [OP_UNLOCK] = "unlock",
    [OP_COND_WAIT] = "wait (sleeps)",
    [OP_COND_WOKEN] = "wait (woken)",
    [OP_SIGNAL] = "signal",
    [OP_BROADCAST] = "broadcast",
    [OP_SEM_WAIT] = "sem_wait",
    [OP_SEM_POST] = "sem_post",
    [OP_BARRIER] = "barrier",
    [OP_CREATE] = "create",
    [OP_JOIN] = "join",
    [OP_EXIT] = "exit",
    [OP_YIELD] = "yield",
    [OP_SLEEP] = "sleep",
};

const char *explore_op_name(int op)
{
    return op >= 0 && op < OP_COUNT ? op_names[op] : "?";
}

const char *explore_wait_name(int wait)
{
    static const char *const names[] = {"nothing",     "a mutex",   "a condition variable",
                                        "a semaphore", "a barrier", "a thread to end"};
    return wait >= 0 && wait <= WAIT_JOIN ? names[wait] : "?";
}
