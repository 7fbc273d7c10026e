/**
 * @file senders.c
 * @brief senders.h: reap the senders that have ended, and stop them all if one died.
 */
#include "senders.h"

#include "kit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

void reap_senders(struct senders *senders, int flags)
{
    while (senders->reaped < senders->count) {
        int status;
        pid_t ended = waitpid(-1, &status, flags);
        if (ended == 0 || (ended == -1 && errno == EINTR && flags == WNOHANG))
            return; /* WNOHANG: the others are still running */
        if (ended == -1 && errno == EINTR)
            continue;
        if (ended == -1)
            kit_die_errno("waitpid");
        senders->reaped++;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            continue;
        char how[64];
        long sender = 0;
        while (sender < senders->count && senders->pids[sender] != ended)
            sender++;
        printf("sender %ld (pid %d) %s: stopping the other senders\n", sender, (int)ended,
               kit_describe_status(status, how, sizeof how));
        printf("FAILED: sender %ld died; %d other senders stopped and reaped\n", sender,
               kit_stop_children());
        exit(1);
    }
}
