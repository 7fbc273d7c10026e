/**
 * @file proc_figures.h
 * @brief What something cost, from the figures the kernel keeps in /proc: time and memory
 *        (RSS, virtual size, kernel stacks), and how long a thread waited for a CPU.
 *
 * The measuring half of programs whose lesson is something else, kept out of them so that each
 * shows only its lesson: chapter 08's tasks_vs_threads.c takes the cost of starting its waiters
 * (cost_start() before, cost_since() once all of them wait); chapter 08's blocking_pitfall.c
 * and chapter 11's ticker take the time their loop's thread spent waiting for a CPU (other
 * programs' load) off each lateness they measure; chapter 09's c10k_client reads a server's
 * threads and RSS from /proc/PID/status. Every figure is read from a text file of /proc, as
 * `cat` would show it:
 *
 * - /proc/self/statm: this process's virtual size and resident set (RSS), in pages;
 * - /proc/meminfo, `KernelStack:`: the kernel stacks of every thread on the machine, in KB
 *   (machine-wide, so other programs move it too);
 * - /proc/thread-self/schedstat, 2nd field: nanoseconds the calling thread spent runnable but
 *   waiting in the run queue for a CPU (the kernel keeps it with CONFIG_SCHED_INFO).
 */
#ifndef PROC_FIGURES_H
#define PROC_FIGURES_H

/** Memory in bytes: this process's resident and virtual size, the machine's kernel stacks. */
struct memory_use {
    double rss;           /**< resident set: pages really in RAM, the memory really used */
    double virt;          /**< address space reserved, touched or not: not RAM */
    double kernel_stacks; /**< all threads' kernel stacks, machine-wide; -1 if unknown */
};

/** A moment (monotonic seconds and memory), or after cost_since() what elapsed and grew. */
struct cost {
    double seconds;
    struct memory_use memory;
};

/** Memory in use now. Exits saying why if /proc/self/statm cannot be read. */
struct memory_use memory_use_now(void);

/** How much each figure grew since @p before (kernel_stacks -1 if either reading is unknown). */
struct memory_use memory_use_since(struct memory_use before);

/** The start of a measurement: memory first, then the clock, so that reading /proc is not
 *  counted in the time. */
struct cost cost_start(void);

/** What elapsed and grew since @p start: the clock first, then memory. */
struct cost cost_since(struct cost start);

/** Seconds the calling thread has spent runnable but waiting for a CPU, or 0 if the kernel
 *  does not say. */
double cpu_wait_seconds(void);

/** The number after @p key at the start of a line of the file at @p path ("" for the first
 *  line): `proc_number("/proc/sys/kernel/threads-max", "")`. -1 if there is none. */
double proc_number(const char *path, const char *key);

/** Print what starting @p count things cost, for each and in all, as two lines:
 *  `   start-up: 11.2 ms (1.12 us per task)` and
 *  `   RSS: +1.4 MB (149 B per task); virtual: +1.3 MB`, with @p each naming one thing. */
void cost_print(struct cost cost, long count, const char *each);

/** A byte count for people, "1.2 MB", "8.4 KB", "96 B", written into @p text. Returns @p text. */
const char *bytes_text(double bytes, char text[16]);

#endif /* PROC_FIGURES_H */
