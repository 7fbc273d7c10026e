/**
 * @file explore.h
 * @brief The controlled scheduler's two halves and what they share: the explorer (search.c)
 * forks one run per interleaving, the runtime (runtime.c) runs the program's threads one at a
 * time inside each run and makes every choice of which thread goes next.
 *
 * A run is told its forced choices (a list of "at decision N, run thread T"); at every other
 * decision it takes the default: the running thread goes on if it can, else the next thread in
 * turn. It writes every decision where two or more threads could go (a choice point), and how
 * it ended, into memory shared with the explorer, so even a crashed run leaves its record.
 */
#ifndef CHAPTER13_EXPLORE_H
#define CHAPTER13_EXPLORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    EXPLORE_THREADS = 32,           /**< threads a run may have: a choice point's set is a uint32 */
    EXPLORE_CHOICES = 1 << 16,      /**< choice points one run may record */
    EXPLORE_FORCED = 1 << 12,       /**< forced choices one run may be given */
    EXPLORE_TRACE = 1 << 14,        /**< steps a traced run records */
    EXPLORE_FRAMES = 8,             /**< call-stack frames kept per traced step */
    EXPLORE_MAX_STEPS = 200000,     /**< decisions after which a run counts as endless */
    EXPLORE_SHARED_WORDS = 1 << 12, /**< memory words known to be shared */
    EXPLORE_WORD_INDEX = 1 << 13,   /**< slots of their index (a power of two) */
};

/** What guards a shared memory word, as learnt over the runs so far. */
enum explore_guard {
    GUARD_UNKNOWN, /**< no access by one thread while another was alive and had used it */
    GUARD_NONE,    /**< accessed by two threads with no lock in common: every access counts */
    GUARD_LOCKS,   /**< always accessed holding one of `guards` (its lockset, as Eraser's) */
};

/** A memory word (address / 8) that two threads have used, one of them writing. */
struct explore_word {
    uintptr_t word;      /**< 0: an empty slot of the hash set */
    uint8_t guard;       /**< enum explore_guard */
    bool written_shared; /**< written while another thread that used it was alive */
    uintptr_t guards[2]; /**< the mutexes held at every access so far (0: no more) */
};

/** What a step does (the trace's operation column). */
enum explore_op {
    OP_START,
    OP_READ,
    OP_WRITE,
    OP_ATOMIC_LOAD,
    OP_ATOMIC_STORE,
    OP_ATOMIC_RMW,
    OP_FENCE,
    OP_LOCK,
    OP_TRYLOCK,
    OP_TIMEDLOCK,
    OP_UNLOCK,
    OP_COND_WAIT,
    OP_COND_WOKEN,
    OP_SIGNAL,
    OP_BROADCAST,
    OP_SEM_WAIT,
    OP_SEM_POST,
    OP_BARRIER,
    OP_CREATE,
    OP_JOIN,
    OP_EXIT,
    OP_YIELD,
    OP_SLEEP,
    OP_COUNT
};

/** What a thread waits for (the deadlock report says it for each thread). */
enum explore_wait { WAIT_NONE, WAIT_MUTEX, WAIT_COND, WAIT_SEM, WAIT_BARRIER, WAIT_JOIN };

/** How a run ended, beyond its exit status. */
enum explore_end { END_EXITED, END_DEADLOCK, END_ENDLESS, END_DIVERGED, END_TOO_MANY_THREADS };

/** One choice point: decision number @c step, where the threads in @c enabled could go. */
struct explore_choice {
    uint32_t step;
    uint32_t enabled;     /**< bit T set: thread T could run */
    uint8_t current;      /**< the thread that reached the decision */
    uint8_t chosen;       /**< the thread that went next */
    uint8_t fallback;     /**< the thread the default rule picks */
    bool current_enabled; /**< switching away from it is a preemption */
};

/** One forced choice: at decision @c step, thread @c thread goes. */
struct explore_forced {
    uint32_t step;
    uint32_t thread;
};

/** One traced step: a thread did @c op on @c object (a short number naming it). */
struct explore_step {
    uint8_t thread;
    uint8_t op;
    uint8_t size; /**< bytes read or written, 0 for no value */
    bool has_value;
    uint32_t decision; /**< the number of the decision made before it */
    uint32_t object;   /**< 1, 2, ... in order of first use in this run; 0 for none */
    int64_t value;     /**< the value read, written, or the call's result */
    uintptr_t frames[EXPLORE_FRAMES];
};

/** What a thread waits for at the end of a run (for the deadlock report). */
struct explore_waiter {
    uint8_t state; /**< 0 never existed, 1 alive, 2 finished */
    uint8_t wait;  /**< enum explore_wait */
    int8_t holder; /**< a mutex's owner, or -1 */
    uint32_t object;
    uintptr_t frames[EXPLORE_FRAMES];
};

/** What the explorer gives a run and what the run gives back: in memory both processes map.
 *  A forked run maps each page of it afresh on first touch (a page fault), so what every run
 *  touches comes first and the arrays fill from their start. */
struct explore_shared {
    /* in: */
    uint32_t forced_count;
    bool tracing;       /**< record every step (a replay) */
    uint64_t pct_seed;  /**< nonzero: pick threads the PCT way (random mode) */
    uint32_t pct_depth; /**< PCT: priority change points + 1 */
    uint32_t pct_steps; /**< PCT: the decisions a run is expected to take */
    /* out: */
    uint32_t end;     /**< enum explore_end */
    uint32_t steps;   /**< decisions taken */
    uint32_t threads; /**< threads the run had */
    uint32_t choice_count;
    uint32_t trace_count;
    /* in and out: */
    uint32_t shared_word_count;
    bool all_visible;        /**< the set is full: every access is worth a choice */
    bool visibility_changed; /**< this run changed the set: the search starts again */
    struct explore_forced forced[EXPLORE_FORCED];
    /** The memory words two threads have used, one of them writing, in the runs so far, and
     *  what guards each, in order of discovery, with an open-addressing index (1 + a place in
     *  shared_words; 0: empty): a set that the runs update. Only an access to one of these,
     *  unguarded, (or a synchronisation call) is worth a choice: see search.c. */
    uint16_t word_index[EXPLORE_WORD_INDEX];
    struct explore_word shared_words[EXPLORE_SHARED_WORDS];
    struct explore_choice choices[EXPLORE_CHOICES];
    struct explore_waiter waiters[EXPLORE_THREADS];
    struct explore_step trace[EXPLORE_TRACE];
};

/** The explorer: called by the runtime, before main, when KIT_EXPLORE is set. Returns in
 *  each forked run (to run main under control); the explorer itself exits when done. */
void explore_main(int argc, char **argv);

/** The runtime: take control of this process's threads (in a fresh run, before main). */
void explore_take_control(struct explore_shared *shared);

/** The name of operation @p op, for the trace. */
const char *explore_op_name(int op);

/** What wait @p wait is called in the deadlock report. */
const char *explore_wait_name(int wait);

#endif /* CHAPTER13_EXPLORE_H */
