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

/* The first element child of node named name (HTML names: any case), or NULL. */
static xmlNode *child_element(xmlNode *node, const char *name)
{
    for (xmlNode *child = node ? node->children : NULL; child != NULL; child = child->next)
        if (child->type == XML_ELEMENT_NODE && xmlStrcasecmp(child->name, BAD_CAST name) == 0)
            return child;
    return NULL;
}

/* The document's own title: html/head/title, where libxml2's parser puts a <title> written
 * before the body (it adds the html and head elements a page leaves out). A <title> anywhere
 * else, such as inside an inline SVG of the body, names that picture, not the page. */
static xmlNode *head_title(htmlDocPtr doc)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    if (root == NULL || xmlStrcasecmp(root->name, BAD_CAST "html") != 0)
        return NULL;
    return child_element(child_element(root, "head"), "title");
}

/* Parse the body with libxml2's HTML parser (forgiving, like a browser's) and keep the head's
 * title with its white space collapsed, cut at a character boundary if it is long. */
void page_read_title(struct page *page)
{
    page->has_title = false;
    if (fetch_succeeded(&page->result) && page->body.size > 0) {
        htmlDocPtr doc =
            htmlReadMemory(page->body.data, (int)page->body.size, page->result.url, NULL,
                           HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
        xmlNode *title = doc ? head_title(doc) : NULL;
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
