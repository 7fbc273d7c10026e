/**
 * @file senders.h
 * @brief process_queue's senders as the parent knows them: one that dies is named, the rest go.
 *
 * process_queue.c forks its sender processes and then only reads. A sender that ends early (a
 * crash, `kill -KILL`) will never send the rest of its frames, and the reader must not wait for
 * them: reap_senders() notices it, names it and how it ended, stops and reaps the others
 * (kit_stop_children()), and exits 1. The reader calls it now and then while frames arrive,
 * and once more at the end to reap every sender.
 *
 * Users: chapter 05's process_queue.c.
 */
#ifndef CHAPTER05_SENDERS_H
#define CHAPTER05_SENDERS_H

#include <sys/types.h>

/** The senders, as the parent knows them. */
struct senders {
    long count;  /**< how many were started */
    pid_t *pids; /**< pids[s] is sender s's process id, to name a sender that died */
    long reaped; /**< how many have ended and been reaped so far */
};

/** Reap the senders that have ended (@p flags 0: wait for all of them; WNOHANG: only those
 *  already gone). A sender that did not exit with 0 is not part of the plan: print
 *  `sender S (pid P) HOW: stopping the other senders`, stop and reap the others, print
 *  `FAILED: sender S died; N other senders stopped and reaped`, and exit 1. */
void reap_senders(struct senders *senders, int flags);

#endif /* CHAPTER05_SENDERS_H */
