/**
 * @file kit.h
 * @brief The kit's tiny helper library: error exits, checked option parsing, clocks, CPU work.
 *
 * Every program in the kit links this library, so that the lesson in each program is the
 * concurrency, not the plumbing. Nothing concurrent lives here on purpose: a thread pool,
 * a queue or an event loop is a chapter's lesson and stays in that chapter, in full view.
 * (The threads of kit_time_copies() are a measuring instrument, not a lesson.)
 *
 * Conventions the helpers follow:
 * - Functions returning -1 and setting errno are checked with kit_die_errno().
 * - pthread functions return an error number instead: check them with KIT_CHECK_EN() or
 *   kit_die_en(). They never set errno.
 * - A child process after fork() leaves with kit_child_die_errno(), which calls _exit().
 * - Every fatal message says which program, what failed, why (with the errno name) and where:
 *   `race_counter: pthread_create: Resource temporarily unavailable (EAGAIN) [race_counter.c:42]`.
 *   However long the message, the reason and the place are kept (the message is cut instead).
 *
 * Rules every program follows by calling two functions:
 * - kit_cli_init() first thing in main(): stdout is line-buffered and checked at exit (a failed
 *   write makes the exit status 1, with a message), SIGPIPE is ignored (EPIPE is reported
 *   instead), and standard descriptors closed at start are filled with /dev/null.
 * - kit_own_children() before the first fork(), in every program that forks: Ctrl-C, SIGTERM
 *   to the parent alone, or an error exit stop and reap every child. A child that is going to
 *   exec calls kit_child_signal_defaults() first.
 */
#ifndef KIT_H
#define KIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#if defined(__GNUC__)
#define KIT_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#define KIT_NORETURN __attribute__((noreturn))
#else
#define KIT_PRINTF(fmt_index, first_arg)
#define KIT_NORETURN
#endif

/** @name Fatal errors
 * Print `program: message: reason (ENAME) [FILE:LINE]` to stderr and exit with status 1.
 * @{
 */

/** Exit after a call that failed and set errno. Usage: `kit_die_errno("open %s", path);` */
#define kit_die_errno(...) kit_die_errno_at(__FILE__, __LINE__, __VA_ARGS__)

/** Exit after a call that returned an error number @p en (pthread_*, posix_spawn, ...). */
#define kit_die_en(en, ...) kit_die_en_at(__FILE__, __LINE__, (en), __VA_ARGS__)

/** Exit with a message and no errno (a failed check, an impossible state). */
#define kit_die(...) kit_die_at(__FILE__, __LINE__, __VA_ARGS__)

/** Like kit_die_errno(), but safe in a child after fork(): formats into a local buffer,
 *  writes with write(2) and leaves with _exit(1), so the parent's stdio buffers and atexit
 *  handlers are never run twice. */
#define kit_child_die_errno(...) kit_child_die_errno_at(__FILE__, __LINE__, __VA_ARGS__)

/** Run a call that returns an error number (0 on success) and exit if it failed.
 *  Usage: `KIT_CHECK_EN(pthread_join(thread, NULL));` */
#define KIT_CHECK_EN(call)                                                                         \
    do {                                                                                           \
        int kit_en_ = (call);                                                                      \
        if (kit_en_ != 0)                                                                          \
            kit_die_en_at(__FILE__, __LINE__, kit_en_, "%s", #call);                               \
    } while (0)

void kit_die_errno_at(const char *file, int line, const char *fmt, ...) KIT_PRINTF(3, 4)
    KIT_NORETURN;
void kit_die_en_at(const char *file, int line, int en, const char *fmt, ...) KIT_PRINTF(4, 5)
    KIT_NORETURN;
void kit_die_at(const char *file, int line, const char *fmt, ...) KIT_PRINTF(3, 4) KIT_NORETURN;
void kit_child_die_errno_at(const char *file, int line, const char *fmt, ...) KIT_PRINTF(3, 4)
    KIT_NORETURN;
/** @} */

/** @name Command line
 * Each program registers its usage text once, then parses options with getopt_long.
 * `-h` prints the usage to stdout and exits 0; a bad option or number prints one line saying
 * why, then the usage, to stderr and exits 2 (the kit's program contract).
 * @{
 */

/** Register the usage text printed by kit_usage_exit(). Call first thing in main(): it also
 *  makes the standard streams safe for the rest of the program:
 *  - a standard descriptor (0, 1, 2) closed at start gets /dev/null, so that no pipe or socket
 *    the program opens can take its number; stdout closed at start is an error (exit 1);
 *  - stdout becomes line-buffered, so a run killed by a timeout has printed every line so far;
 *  - SIGPIPE is ignored: a write to a pipe nobody reads fails with EPIPE instead of killing the
 *    program silently (a child that execs another program calls kit_child_signal_defaults());
 *  - stdout is checked at exit: if any write to it failed (`> /dev/full`, a closed pipe), the
 *    program says so on stderr and its exit status becomes 1. */
void kit_cli_init(const char *usage_text);

/** Print the usage (stdout if @p status is 0, else stderr) and exit with @p status. */
void kit_usage_exit(int status) KIT_NORETURN;

/** Print `program: <reason>` and the usage to stderr, exit 2. */
void kit_usage_error(const char *fmt, ...) KIT_PRINTF(1, 2) KIT_NORETURN;

/** Parse a whole number for @p option, in [@p min, @p max]; anything else is a usage error.
 *  Every option takes one number syntax: an optional `-`, digits, an optional fraction and
 *  exponent (`5`, `2e6`, `1.5e3`); no spaces, no `+`, no hex, no inf or nan. A whole-number
 *  option takes any such text whose value is whole (`2e6` yes, `2.5` no). */
long kit_parse_long(const char *option, const char *text, long min, long max);

/** Parse a number for @p option, in [@p min, @p max], in the same syntax as kit_parse_long(). */
double kit_parse_double(const char *option, const char *text, double min, double max);

/** Reject positional arguments (the programs take options only): call with `optind` after
 *  the getopt_long loop, as `kit_no_operands(argc, argv, optind)`. */
void kit_no_operands(int argc, char *argv[], int first_operand);
/** @} */

/** @name Clocks
 * CLOCK_MONOTONIC throughout: it never jumps when the wall clock is set.
 * @{
 */

/** Seconds on the monotonic clock, as a double (about 0.1 microsecond resolution here). */
double kit_now(void);

/** Seconds elapsed since @p start (a value from kit_now()). */
double kit_seconds_since(double start);

/** Sleep for @p seconds, resuming after signal handlers (nanosleep restarted on EINTR). */
void kit_sleep(double seconds);

/** The time @p seconds from now on @p clock, as pthread_cond_timedwait and friends want it. */
struct timespec kit_deadline(clockid_t clock, double seconds);

/** CPU time used so far, in seconds: by this whole process (CLOCK_PROCESS_CPUTIME_ID, all its
 *  threads) or by the calling thread (CLOCK_THREAD_CPUTIME_ID). */
double kit_cpu_seconds(clockid_t clock);
/** @} */

/** @name Whole reads and writes
 * A pipe or a socket is a byte stream: one read() may return fewer bytes than one write() put
 * in, and a write may be cut short. These loop until the whole record has gone through,
 * retrying after a signal handler (EINTR).
 * @{
 */

/** Read exactly @p size bytes. Returns 1 when they all arrived; 0 at end of file before the
 *  first byte (the writer closed its end between records); -1 on an error (errno set), or at
 *  end of file in the middle of the record (errno = EPROTO: a torn record). */
int kit_read_full(int fd, void *buffer, size_t size);

/** Write exactly @p size bytes. Returns 0, or -1 with errno set (EPIPE: nobody reads). */
int kit_write_full(int fd, const void *buffer, size_t size);
/** @} */

/** @name Child processes
 * A program that forks owns its children on every path: see children.c for why and how.
 * @{
 */

/** Call once, before the first fork(). From then on SIGINT, SIGTERM or SIGHUP (to the process
 *  group or to this process alone) stop and reap every child, say so on stderr, then end the
 *  program with that same signal; an exit() with children left (an error exit) stops and
 *  reaps them too; orphans of the children (a shell's background job) are adopted and stopped
 *  as well (PR_SET_CHILD_SUBREAPER). */
void kit_own_children(void);

/** Stop every child still there (SIGTERM, then SIGKILL after one second) and reap them all,
 *  zombies included. Returns how many were reaped. Async-signal-safe: it may run in a handler.
 *  Use it when one child died unexpectedly and the others must go too. */
int kit_stop_children(void);

/** In a child about to exec another program: put back the default action of SIGINT, SIGTERM,
 *  SIGHUP and SIGPIPE (an ignored signal stays ignored across exec). */
void kit_child_signal_defaults(void);

/** How a child ended, from its wait status, into @p text: `exited with status 3`,
 *  `was killed by signal 9 (Killed)`. Returns @p text. */
const char *kit_describe_status(int status, char *text, size_t size);
/** @} */

/** @name Figures
 * @{
 */

/** The kit's one notation for a ratio of times: @p times_faster = old time / new time, as
 *  `x1.93 faster` (>= 1) or `x1.05 slower` (< 1), always 2 decimals. Returns @p text. */
const char *kit_ratio_text(double times_faster, char text[32]);

/* The ceiling of a CPU-bound speedup is measured, in the same run, as N copies of the
 * baseline's whole work run at once: on N idle CPUs they take as long as one, and whatever
 * other programs or the host took shows in their time just as in the contenders'. A program
 * times the copies in every round, beside the baseline and the contenders, and keeps the
 * fastest, as for them. */

/** Run @p work(@p arg, i) on @p copies threads (1 to 64; i = 0 .. copies - 1, so that each copy
 *  can keep its results apart), let go together: returns the seconds until the last ended. */
double kit_time_copies(int copies, void (*work)(void *arg, int copy), void *arg);

/** Print `ceiling: x1.97 faster (...)`, the ceiling @p copies x @p baseline_seconds /
 *  @p copies_seconds, with a `note:` when it is well under @p copies (other programs had the
 *  CPUs: no parallel run could gain here) or above it (a disturbed or cold baseline).
 *  Returns the ceiling. */
double kit_print_ceiling(int copies, double baseline_seconds, double copies_seconds);

/** Print a `note:` when @p speedup, shown to 2 decimals, is above @p ceiling: the rounds were
 *  not disturbed alike, so the figure is not a lesson. @p contender names it: "2 threads". */
void kit_note_above_ceiling(const char *contender, double speedup, double ceiling);
/** @} */

/** @name Threads
 * @{
 */

/** pthread_barrier_wait(), checked: one thread of each round gets PTHREAD_BARRIER_SERIAL_THREAD,
 *  which is not an error; anything else but 0 is fatal. Returns true in that one thread. */
bool kit_barrier_wait(pthread_barrier_t *barrier);
/** @} */

/** @name Machine and work
 * @{
 */

/** CPUs this process may run on (its affinity mask): 1 under `taskset -c 0`. */
int kit_cpu_count(void);

/** CPU-bound work that the optimiser cannot remove: @p iterations rounds of an integer
 *  hash. Returns the hash so callers can print or combine it. Each round is a chain of seven
 *  dependent operations: about 5 ns on the 2-CPU machine the kit was written on (measured; a
 *  busy machine makes it slower). Programs that need a duration measure the rate first, as
 *  concurrency_vs_parallelism.c does. */
uint64_t kit_cpu_work(uint64_t iterations);

/** True when @p stream is a terminal and NO_COLOR is unset: colour and progress bars only then. */
bool kit_use_color(FILE *stream);
/** @} */

#endif /* KIT_H */
