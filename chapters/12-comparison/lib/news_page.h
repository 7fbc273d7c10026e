/**
 * @file news_page.h
 * @brief A news page for news_scraper: its transfer, its body as it arrives, its title.
 *
 * Reading HTML is not this chapter's lesson, so libxml2's HTML parser does it, the C
 * counterpart of BeautifulSoup: forgiving like a browser (unclosed tags, no `<html>`), never
 * fetching anything itself (HTML_PARSE_NONET). news_scraper's three ways all call the one
 * page_read_title() below; only the way they wait for the pages differs.
 *
 * Call page_parser_init() once in main, before any thread or fork (libxml2 sets up its
 * globals there), and page_parser_cleanup() at the end.
 */
#ifndef NEWS_PAGE_H
#define NEWS_PAGE_H

#include "../../../harness/fetch/fetch.h"

#include <stdbool.h>
#include <stddef.h>

enum { TITLE_SIZE = 160, MAX_BODY = 1 << 20 };

/** One page: what chapter 10's plumbing records about its transfer, its body, its title. */
struct page {
    struct fetch_result result; /**< first: CURLINFO_PRIVATE points here, so at the page */
    double timeout;             /**< seconds for the whole transfer */
    struct fetch_body body;     /**< the HTML as it arrives, freed once read */
    bool has_title;             /**< the page's head has a `<title>` (html/head/title) */
    bool lost;                  /**< its worker process died before sending it (processes) */
    char title[TITLE_SIZE];     /**< the title's text, white space collapsed */
};

/** A new easy handle for @p page: chapter 10's options (timeout, error buffer, CURLOPT_PRIVATE =
 *  &page->result, which is the page's address), with the body kept in page->body (a body over
 *  MAX_BODY ends the transfer with CURLE_WRITE_ERROR). */
CURL *page_easy_new(struct page *page);

/** After the transfer: parse the body, keep the text of the document's own title, html/head/title
 *  (white space collapsed, cut at a character boundary past TITLE_SIZE - 1 bytes), in
 *  page->title and say so in page->has_title; then free the body. A `<title>` elsewhere (inside
 *  an inline SVG, say) is not the page's. A failed transfer has no title. */
void page_read_title(struct page *page);

/** Fetch @p arg (a struct page), blocking, then read its title: what a thread or a worker
 *  process runs for each page. Shaped as chapter 06's tp_task_fn; returns 0 (a failed
 *  transfer is recorded in the page). */
int page_scrape(void *arg, long *unused);

/** libxml2's xmlInitParser(), once, before any thread or fork. */
void page_parser_init(void);

/** libxml2's xmlCleanupParser(), once, at the end. */
void page_parser_cleanup(void);

#endif /* NEWS_PAGE_H */
