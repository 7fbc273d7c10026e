/**
 * @file page_workers.h
 * @brief news_scraper's processes: forked workers, each scraping its share, titles over a pipe.
 *
 * What `multiprocessing.Pool().map(scrape_site, urls)` does, in C: fork P workers; worker w
 * scrapes pages w, w + P, w + 2P, ... one after another (page_scrape(), the same function the
 * threads run) and sends each page's outcome back in a fixed-size record over one pipe that all
 * workers share. A record is smaller than PIPE_BUF, so each write is atomic and records from
 * several workers never interleave. The parent reads records until end of file (every worker
 * has exited), then reaps each worker. A worker that dies (try `kill -KILL` on one) is named,
 * with how it ended, and its pages not sent are marked lost: nothing waits for them.
 *
 * The caller owns the children: kit_own_children() before the first call, and no other thread
 * running at the call (a child of a threaded process may only call async-signal-safe functions,
 * and the workers call curl and libxml2).
 */
#ifndef PAGE_WORKERS_H
#define PAGE_WORKERS_H

#include "news_page.h"

#include <stddef.h>

enum { PAGE_WORKERS_MAX = 64 };

/** Scrape @p count pages on @p workers (1 to PAGE_WORKERS_MAX) forked processes; fill each
 *  page's result and title, or mark it lost. Says on stdout which worker died, if one did. */
void page_workers_run(struct page pages[], size_t count, int workers);

#endif /* PAGE_WORKERS_H */
