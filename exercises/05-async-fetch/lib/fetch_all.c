/**
 * @file fetch_all.c
 * @brief Exercise 05: N URLs, at most K in flight, with retries. Not written yet: ENOSYS.
 *
 * The plan, in four parts (README.md gives the hints one at a time):
 * 1. Per URL, what you need between attempts: its outcome, its easy handle while an attempt is
 *    in flight, and whether (and when) it waits for a retry.
 * 2. One multi handle. Start up to K attempts; then loop: curl_multi_perform(), read what
 *    ended with curl_multi_info_read(), curl_multi_poll() until something can happen.
 * 3. Each attempt that ended: its CURLcode and HTTP status into the outcome, its handle removed
 *    and cleaned up; then either a retry, due backoff x 2^(attempts - 1) seconds from now, or
 *    the URL is finished. Each ending frees a slot: start the next (a due retry first).
 * 4. At the end nothing is left: every easy handle cleaned up, the multi cleaned up.
 */
#include "fetch_all.h"

#include <errno.h>

int fetch_all(const char *const urls[], size_t count, const struct fetch_settings *settings,
              struct fetch_outcome outcomes[])
{
    (void)urls, (void)settings;
    for (size_t i = 0; i < count; i++)
        outcomes[i] = (struct fetch_outcome){0};
    errno = ENOSYS; /* TODO: exercise 05 */
    return -1;
}
