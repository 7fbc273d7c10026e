/**
 * @file page_workers.c
 * @brief page_workers.h: fork, a worker's loop, records over one pipe, collect, reap.
 */
#define _GNU_SOURCE /* prctl */
#include "page_workers.h"

#include "kit.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* What a worker process sends back for one page: fixed size, under PIPE_BUF, so one write is
 * atomic and records from several workers never interleave on the shared pipe. */
struct title_record {
    uint32_t page;
    int32_t code;
    int64_t status, bytes;
    double seconds;
    char has_title;
    char title[TITLE_SIZE];
    char error[CURL_ERROR_SIZE];
};
_Static_assert(sizeof(struct title_record) <= PIPE_BUF, "a record must fit in PIPE_BUF");

/* A worker process: pages worker, worker + workers, ...; one record each down the pipe. */
_Noreturn static void worker_main(int worker, int workers, struct page pages[], size_t count,
                                  int fd)
{
    for (size_t i = (size_t)worker; i < count; i += (size_t)workers) {
        long unused;
        page_scrape(&pages[i], &unused);
        struct title_record record;
        memset(&record, 0, sizeof record); /* padding too: every byte sent has been set */
        record.page = (uint32_t)i;
        record.code = (int32_t)pages[i].result.code;
        record.status = pages[i].result.status;
        record.bytes = (int64_t)pages[i].result.bytes;
        record.seconds = pages[i].result.seconds;
        record.has_title = pages[i].has_title;
        memcpy(record.title, pages[i].title, TITLE_SIZE);
        memcpy(record.error, pages[i].result.error, CURL_ERROR_SIZE);
        if (kit_write_full(fd, &record, sizeof record) == -1)
            kit_child_die_errno("worker %d: write a title", worker);
    }
    _exit(0);
}

/* Fork the workers, collect their records, reap them; a page whose worker died is marked lost,
 * and the worker is named with how it ended. */
void page_workers_run(struct page pages[], size_t count, int workers)
{
    int titles[2];
    if (pipe(titles) == -1)
        kit_die_errno("pipe");
    pid_t parent = getpid(), pids[PAGE_WORKERS_MAX];
    fflush(stdout); /* else a child would inherit, and print again, what is buffered */
    for (int w = 0; w < workers; w++) {
        if ((pids[w] = fork()) == -1)
            kit_die_errno("fork worker %d", w); /* kit_own_children stops the others */
        if (pids[w] == 0) {
            if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != parent)
                _exit(1); /* die with the parent, even a parent killed outright */
            if (close(titles[0]) == -1)
                kit_child_die_errno("close");
            worker_main(w, workers, pages, count, titles[1]);
        }
    }
    if (close(titles[1]) == -1) /* only the workers write: end of file once they all exit */
        kit_die_errno("close");
    bool *received = calloc(count, sizeof *received);
    if (received == NULL)
        kit_die_errno("calloc");
    struct title_record record;
    int got;
    while ((got = kit_read_full(titles[0], &record, sizeof record)) == 1) {
        if (record.page >= count)
            kit_die("a worker sent page %lu of %zu", (unsigned long)record.page, count);
        struct page *page = &pages[record.page];
        page->result.code = (CURLcode)record.code;
        page->result.status = (long)record.status;
        page->result.bytes = (curl_off_t)record.bytes;
        page->result.seconds = record.seconds;
        memcpy(page->result.error, record.error, CURL_ERROR_SIZE - 1);
        page->has_title = record.has_title;
        memcpy(page->title, record.title, TITLE_SIZE - 1);
        received[record.page] = true;
    }
    if (got == -1)
        kit_die_errno("read a title");
    if (close(titles[0]) == -1)
        kit_die_errno("close");
    for (int w = 0; w < workers; w++) { /* all have exited or are exiting: end of file came */
        int status;
        while (waitpid(pids[w], &status, 0) == -1)
            if (errno != EINTR)
                kit_die_errno("waitpid worker %d", w);
        char how[64];
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            printf("processes: worker %d (pid %d) %s\n", w, (int)pids[w],
                   kit_describe_status(status, how, sizeof how));
    }
    for (size_t i = 0; i < count; i++)
        pages[i].lost = !received[i];
    free(received);
}
