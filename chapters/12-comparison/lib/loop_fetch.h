/**
 * @file loop_fetch.h
 * @brief Run prepared libcurl transfers all at once, in one thread, on chapter 08's event loop.
 *
 * Both programs of this chapter need "the event-loop way" of fetching, so it is here, once, as
 * one call: the caller prepares its easy handles as it likes (chapter 10's fetch_prepare(), its
 * own write callback) and hands them over; loop_fetch_all() puts them in one multi handle and
 * drives it with curl_multi_socket_action() from chapter 08's epoll loop, the way
 * chapters/10-async-http/fetch_async.c does (read that file for the bridge explained step by
 * step). This is `asyncio.gather()` of aiohttp requests, in C.
 */
#ifndef LOOP_FETCH_H
#define LOOP_FETCH_H

#include <curl/curl.h>
#include <stddef.h>

/** Called in the loop's thread as each transfer ends, with curl's result for it. The handle is
 *  already out of the multi handle; it still belongs to the caller, who cleans it up later. */
typedef void loop_fetch_done_fn(CURL *easy, CURLcode code, void *data);

/** Run the @p count transfers of @p easies at once on a new event loop; call @p done (with
 *  @p data) for each as it ends; return when all have ended. Exits 1, saying why, if the loop or
 *  a multi-interface call fails (out of memory, out of descriptors): a transfer's own failure
 *  is only ever reported through @p done. */
void loop_fetch_all(CURL *const easies[], size_t count, loop_fetch_done_fn *done, void *data);

#endif /* LOOP_FETCH_H */
