/**
 * @file proc_state.h
 * @brief Read a process's state letter and parent PID from /proc, as ps does.
 */
#ifndef CHAPTER04_PROC_STATE_H
#define CHAPTER04_PROC_STATE_H

#include <sys/types.h>

/* The state letter of process pid (`R` running, `S` sleeping, `Z` zombie, ...) from
 * /proc/PID/stat, and its parent's PID in *parent. Returns 0 when there is no such process. */
char proc_state(pid_t pid, pid_t *parent);

#endif
