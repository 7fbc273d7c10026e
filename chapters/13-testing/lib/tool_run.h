/**
 * @file tool_run.h
 * @brief Chapter 13's runner for sanitizers.c: commands run a few at a time, each one's output
 *        kept in a file, and the other builds of a program found beside this one.
 *
 * Not the lesson (sanitizers.c's tables of what each tool prints and must find are), but the
 * plumbing every test driver has, fork, exec, dup2 and waitpid:
 *
 * - tool_run_command() gives a run its command: a tool's words (valgrind and its options, or
 *   none), the program, its arguments;
 * - tool_run_all() starts every run that has a command, at most N at once, its stdout and
 *   stderr going to an unlinked temporary file. Each run is killed by SIGALRM after a time
 *   limit (an alarm set before exec survives it). It returns once every run has ended, with
 *   its wait status, and its output rewound for reading. Call kit_own_children() first: then
 *   Ctrl-C or a SIGTERM to the driver stops and reaps the runs too;
 * - tool_run_line() reads a finished run's output line by line, each line also as a headline
 *   shows it: without the "==PID== " that valgrind and the sanitizers put before theirs;
 * - tool_run_ending() says how a run ended, as a table cell: `-`, `exit 1`, `killed (signal 9)`,
 *   or `not installed` / `not built` when its command was not there to start;
 * - tool_build_path() finds a program of the same lesson in another build of the kit, named as
 *   the Makefile names them: build/gcc-thread/chapters/... beside build/gcc/chapters/...
 */
#ifndef CHAPTER13_TOOL_RUN_H
#define CHAPTER13_TOOL_RUN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/** One command to run, and how it went. */
struct tool_run {
    const char *argv[8]; /**< the command, NULL-terminated; argv[0] NULL: not to be run */
    FILE *output;        /**< its stdout and stderr; the caller reads it, then fcloses it */
    pid_t pid;           /**< 0 until it is started */
    int status;          /**< its wait status, once it has ended */
    bool exec_failed;    /**< its output says it could not start (tool_run_line() saw it) */
};

/** Give @p run its command: the words of @p tool (NULL-terminated, none for a program run as it
 *  is: "valgrind", "--tool=helgrind"), then @p program, then @p args (NULL-terminated). */
void tool_run_command(struct tool_run *run, const char *const tool[], const char *program,
                      const char *const args[]);

/** Run every run of @p runs that has a command, at most @p parallel at once, each killed after
 *  @p limit seconds; return when all have ended. A failed exec prints `exec NAME: ...` into
 *  the run's output and exits 1. */
void tool_run_all(struct tool_run runs[], size_t count, int parallel, unsigned limit);

enum { TOOL_LINE = 1024 }; /**< longer lines come in pieces */

/** Read the next line of @p run's output (once it has ended) into @p line, without its newline
 *  and without the addresses ASan puts after " at pc ", and point @p text at it as a headline
 *  shows it: without the "==PID== " of valgrind or the "==PID==" of a sanitizer. A line that
 *  says its exec failed (tool_run_all()'s `exec NAME: ...`) sets run->exec_failed. Returns false
 *  at the end of the output, which it then closes. */
bool tool_run_line(struct tool_run *run, char line[TOOL_LINE], const char **text);

/** How @p run ended, once tool_run_line() has read all its output, into @p text: `not built`
 *  when the program it names by a path could not start, `not installed` when the tool it names
 *  for the PATH to find could not, else `killed (signal N)`, `exit N`, or `-` for exit 0.
 *  Returns @p text. */
const char *tool_run_ending(const struct tool_run *run, char *text, size_t size);

/** Into @p path: where @p program of this program's lesson is in the build whose folder ends in
 *  @p suffix ("" for the plain build, "-thread", "-address-undefined"), beside this program's
 *  own build, whichever sanitizer that one has. */
void tool_build_path(char path[PATH_MAX], const char *suffix, const char *program);

#endif /* CHAPTER13_TOOL_RUN_H */
