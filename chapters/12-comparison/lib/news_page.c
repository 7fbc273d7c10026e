/**
 * @file news_page.c
 * @brief news_page.h: a page's transfer (its body kept by chapter 10's fetch_keep_body()) and
 *        its title, read with libxml2.
 */
#include "news_page.h"

#include "kit.h"

#include <libxml/HTMLparser.h>
#include <stdlib.h>

CURL *page_easy_new(struct page *page)
{
    CURL *easy = fetch_easy_new(&page->result, page->timeout);
    fetch_keep_body(easy, &page->result, &page->body, MAX_BODY);
    return easy;
}

/* The first <title> element under node, depth first. */
static xmlNode *find_title(xmlNode *node)
{
    for (; node != NULL; node = node->next) {
        if (node->type == XML_ELEMENT_NODE && xmlStrcasecmp(node->name, BAD_CAST "title") == 0)
            return node;
        xmlNode *found = find_title(node->children);
        if (found != NULL)
            return found;
    }
    return NULL;
}

/* Parse the body with libxml2's HTML parser (forgiving, like a browser's) and keep the title
 * with its white space collapsed, cut at a character boundary if it is long. */
void page_read_title(struct page *page)
{
    page->has_title = false;
    if (fetch_succeeded(&page->result) && page->body.size > 0) {
        htmlDocPtr doc =
            htmlReadMemory(page->body.data, (int)page->body.size, page->result.url, NULL,
                           HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
        xmlNode *title = doc ? find_title(xmlDocGetRootElement(doc)) : NULL;
        xmlChar *text = title ? xmlNodeGetContent(title) : NULL;
        size_t used = 0;
        const xmlChar *c = text;
        for (; c != NULL && *c != '\0' && used < TITLE_SIZE - 1; c++) {
            bool space = *c == ' ' || *c == '\t' || *c == '\n' || *c == '\r';
            if (!space)
                page->title[used++] = (char)*c;
            else if (used > 0 && page->title[used - 1] != ' ')
                page->title[used++] = ' ';
        }
        if (c != NULL && *c != '\0') { /* cut short: drop the last character, maybe partial */
            while (used > 0 && ((unsigned char)page->title[used - 1] & 0xC0) == 0x80)
                used--;
            if (used > 0 && (unsigned char)page->title[used - 1] >= 0xC0)
                used--;
        }
        while (used > 0 && page->title[used - 1] == ' ')
            used--;
        page->title[used] = '\0';
        page->has_title = title != NULL;
        xmlFree(text);
        xmlFreeDoc(doc);
    }
    free(page->body.data);
    page->body = (struct fetch_body){0};
}

/* Fetch one page, blocking, then read its title: what a thread or a worker process runs. */
int page_scrape(void *arg, long *unused)
{
    struct page *page = arg;
    CURL *easy = page_easy_new(page);
    fetch_record(easy, &page->result, curl_easy_perform(easy));
    curl_easy_cleanup(easy);
    page_read_title(page);
    *unused = 0;
    return 0;
}

void page_parser_init(void)
{
    xmlInitParser();
}

void page_parser_cleanup(void)
{
    xmlCleanupParser();
}
