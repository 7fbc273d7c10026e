/**
 * @file reap.h
 * @brief Chapter 04's safety net: on Ctrl-C, reap every child before dying, so nothing is left.
 *
 * Ctrl-C makes the terminal send SIGINT to every process of the foreground process group: the
 * parent and all its children get it at once. Each dies, in no particular order. A child that
 * dies after its parent becomes an orphan zombie, and only init is left to reap it; not every
 * init does (a container's PID 1 often does not), so it can stay in the process table for good.
 *
 * Every program of this chapter calls reap_children_before_dying() once, before its first
 * fork(). From then on SIGINT, SIGTERM or SIGHUP make the program first wait for all its
 * children (they got the same signal and are dying too), then die of that same signal, as if
 * it had never caught it. A second Ctrl-C while it waits kills it at once. An error exit
 * (kit_die_errno calls exit) also waits for the children still running first.
 */
#ifndef CHAPTER04_REAP_H
#define CHAPTER04_REAP_H

/* Install the handlers, and make this process the reaper of its orphaned grandchildren
 * (a shell started by exec_child may leave some): they are reaped as well. */
void reap_children_before_dying(void);

#endif
