/**
 * @file loop.c
 * @brief AGG_EVENT_LOOP: every fetch at once on curl's multi interface, in the calling thread;
 *        and the loop itself, which AGG_HYBRID runs with digesting children beside it.
 *
 * The seed's asyncio version: one thread, one loop, every transfer in flight together (what
 * asyncio.gather over aiohttp gets). The loop is curl's classic one (chapter 10's
 * fetch_limited.c): curl_multi_perform() moves every transfer on, curl_multi_info_read() says
 * which ended, curl_multi_poll() sleeps until a socket is ready, a retry is due, or (hybrid) a
 * child has a result. A retry is a due time, never a sleep: sleeping here would stop every
 * transfer. And each body is digested right here when it arrives: CPU work in the loop's
 * thread, during which no transfer moves (the pitfall of chapter 08's blocking_pitfall.c,
 * on purpose: the comparison shows its cost, and AGG_HYBRID removes it).
 */
#include "kit.h"
#include "methods.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

/* One source in the loop: its attempt in flight, or when its retry is due. */
struct slot {
    struct agg_source *source;
    CURL *easy; /* the attempt in flight; NULL when none */
    struct agg_body body;
    bool waiting;    /* a retry is due ... */
    double retry_at; /* ... at this time (kit_now()) */
};

static bool start_attempt(CURLM *multi, struct slot *slot, const struct agg_options *options)
{
    slot->waiting = false;
    slot->source->attempts++;
    slot->easy = agg_easy_new(slot->source->url, agg_timeout(options), &slot->body);
    if (slot->easy == NULL)
        return false;
    if (curl_easy_setopt(slot->easy, CURLOPT_PRIVATE, slot) != CURLE_OK ||
        curl_multi_add_handle(multi, slot->easy) != CURLM_OK) {
        curl_easy_cleanup(slot->easy);
        slot->easy = NULL;
        return false;
    }
    return true;
}

/* A source's last attempt is over: digest its body (here, or in a child), report it. Returns
 * how many sources that finished now (a child finishes its source later). */
static size_t settle(struct slot *slot, struct agg_run *run, struct agg_children *children,
                     bool answer_ok)
{
    if (answer_ok && children != NULL)
        return agg_children_submit(children, run, slot->source, &slot->body);
    if (answer_ok)
        agg_digest_source(slot->source, &slot->body, run->options->rounds);
    agg_body_free(&slot->body);
    agg_report(run, slot->source);
    return 1;
}

/* Read the transfers that ended: schedule a retry or settle each. Returns sources finished. */
static size_t collect_ended(CURLM *multi, struct agg_run *run, struct agg_children *children)
{
    size_t finished = 0;
    int left;
    for (CURLMsg *msg; (msg = curl_multi_info_read(multi, &left)) != NULL;) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result; /* read before remove: msg goes with the handle */
        struct slot *slot = NULL;
        if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&slot) != CURLE_OK || !slot)
            kit_die("curl_easy_getinfo(CURLINFO_PRIVATE) failed"); /* set on every handle */
        agg_record(easy, code, slot->source);
        if (curl_multi_remove_handle(multi, easy) != CURLM_OK)
            kit_die("curl_multi_remove_handle failed"); /* only for a handle not in the multi */
        curl_easy_cleanup(easy);
        slot->easy = NULL;
        const struct agg_options *options = run->options;
        if (agg_worth_retrying(code, slot->source->status) &&
            slot->source->attempts <= options->retries) {
            slot->waiting = true;
            slot->retry_at = kit_now() + agg_retry_delay(options, slot->source->attempts);
        } else {
            finished += settle(slot, run, children, agg_answer_ok(code, slot->source->status));
        }
    }
    return finished;
}

int agg_loop(struct agg_run *run, struct agg_source *sources[], size_t count,
             struct agg_children *children)
{
    struct slot *slots = calloc(count, sizeof slots[0]);
    struct curl_waitfd *fds = calloc(count, sizeof fds[0]); /* the children's pipes */
    CURLM *multi = curl_multi_init();
    if (slots == NULL || fds == NULL || multi == NULL) {
        free(slots), free(fds);
        if (multi != NULL)
            curl_multi_cleanup(multi);
        errno = ENOMEM;
        return -1;
    }
    size_t finished = 0;
    for (size_t i = 0; i < count; i++) { /* every transfer at once */
        slots[i].source = sources[i];
        if (!start_attempt(multi, &slots[i], run->options))
            finished += settle(&slots[i], run, children, false);
    }
    while (finished < count) {
        for (size_t i = 0; i < count; i++) /* the retries that are due */
            if (slots[i].waiting && slots[i].retry_at <= kit_now() &&
                !start_attempt(multi, &slots[i], run->options))
                finished += settle(&slots[i], run, children, false);
        int running;
        if (curl_multi_perform(multi, &running) != CURLM_OK)
            break;
        finished += collect_ended(multi, run, children);
        if (children != NULL)
            finished += agg_children_collect(children, run);
        if (finished == count)
            break;
        /* Sleep until a socket is ready (curl shortens the wait for its own timers), the
         * first retry is due, or a child's result arrives. */
        double due = INFINITY;
        for (size_t i = 0; i < count; i++)
            if (slots[i].waiting && slots[i].retry_at < due)
                due = slots[i].retry_at;
        int wait_ms = (int)fmax(0, fmin(1000, ceil((due - kit_now()) * 1000)));
        unsigned nfds = children != NULL ? agg_children_fds(children, fds, (unsigned)count) : 0;
        if (curl_multi_poll(multi, fds, nfds, wait_ms, NULL) != CURLM_OK)
            break;
    }
    for (size_t i = 0; i < count; i++) { /* after an error: whatever is still in flight */
        if (slots[i].easy != NULL) {
            curl_multi_remove_handle(multi, slots[i].easy);
            curl_easy_cleanup(slots[i].easy);
        }
        agg_body_free(&slots[i].body);
    }
    curl_multi_cleanup(multi);
    free(slots), free(fds);
    if (finished < count) {
        errno = EIO; /* curl_multi_perform or curl_multi_poll failed */
        return -1;
    }
    return 0;
}

int agg_by_event_loop(struct agg_run *run, struct agg_source *sources[], size_t count)
{
    return agg_loop(run, sources, count, NULL);
}
