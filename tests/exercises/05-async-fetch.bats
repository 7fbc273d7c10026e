#!/usr/bin/env bats
# Exercise 05, async fetch: grades exercises/05-async-fetch/lib/fetch_all.c (or a copy, see
# grade.bash) with the grader's own driver, tests/exercises/drivers/05-async-fetch/grade_fetch.c,
# built beside it, against a real local server started for the suite (chapter 09's loop_server,
# on a free port). Concurrency is proved by the server's own count of requests in flight
# (/stats): at most K, and at least min(K, N). Then: each outcome right; retries exact, with a
# doubling backoff that holds up nobody; a window refilled as each transfer ends, proven by the
# driver's own server holding slow URLs until the fast ones were answered (a rendezvous: no
# load changes the verdict); every failure class worth retrying retried; every transfer in the
# calling thread; nothing left.

load grade
load ../server

setup_file() {
    grade_setup_file
    grade_start_local_server
}

teardown_file() { stop_local_server; }

fetch() {
    grade_run --timeout "$1" grade_fetch --server="$KIT_SERVER_URL" "${@:2}"
}

@test "[3] at most K and at least min(K, N) requests in flight at once, as the server saw them" {
    local run
    for run in "1 3" "3 10" "8 5" "16 40"; do
        set -- $run
        fetch 15 --test=limit --max-in-flight=$1 --urls=$2
        expect_ok "at most K = $1 and at least $(($1 < $2 ? $1 : $2)) in flight at once ($2 URLs)" \
            "start K transfers, then one more each time one ends (curl_multi_info_read says \
which); never more than K handles in the multi at once (chapter 10, fetch_limited.c; README.md \
hints 1-3)" || return 1
    done
}

@test "[2] each URL's outcome right: status, bytes, transport errors told apart, failures counted" {
    fetch 15 --test=results
    expect_ok "each outcome's code, status, bytes and attempts; the return value the failures" \
        "an answer with any status is CURLE_OK (read CURLINFO_RESPONSE_CODE); no answer is the \
CURLcode of CURLMSG_DONE; count body bytes in CURLOPT_WRITEFUNCTION; set CURLOPT_TIMEOUT_MS \
(README.md hint 3)"
}

@test "[3] retries recover from failures: 5xx and transport errors retried with backoff, not 4xx" {
    fetch 20 --test=retries
    expect_ok "retries exact, within K, after backoff x 1, x 2, x 4, holding up no other URL" \
        "when an attempt ends worth retrying and retries are left, note when it is due \
(backoff x 2^(attempts - 1) from now) and start it when it is due and a slot is free; never \
sleep in the loop: let curl_multi_poll's timeout wake you (README.md hints 4-5)"
}

@test "[3] a window of K, refilled as each transfer ends: slow URLs hold up none of the fast ones" {
    fetch 30 --test=window
    expect_ok "each slot refilled as its transfer ends: at K = 2 one slow URL, at K = 3 two, \
answered only once every fast URL was, through the slots they leave free" \
        "do not start K and wait for all K to end: each time curl_multi_info_read says one \
ended, start the next URL at once, before sleeping again (README.md hint 2)"
}

@test "[2] every failure the header calls worth retrying is retried: no answer, partial, reset, timeout" {
    fetch 20 --test=classes
    expect_ok "no answer, a partial body, a reset, a timeout, a refused connection and a 502 \
each retried, with exact attempts and outcomes" \
        "retry CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_GOT_NOTHING, \
CURLE_PARTIAL_FILE, CURLE_RECV_ERROR, CURLE_SEND_ERROR and any status of 500 or more (the list \
in lib/fetch_all.h); count only the last attempt's bytes (README.md hints 3-4)"
}

@test "[2] every transfer in the calling thread (the multi interface), not a thread per URL" {
    fetch 15 --test=one-thread
    expect_ok "10 transfers in flight at once and no thread per transfer" \
        "add every easy handle to one multi handle and drive it from the calling thread \
(curl_multi_perform, curl_multi_poll); no pthread_create (chapter 10, fetch_limited.c)"
}

@test "[2] nothing left running: no transfer, handle, descriptor or memory after 20 calls" {
    fetch 30 --test=clean
    expect_ok "as many descriptors, threads and bytes of heap, and no open connection, after \
20 more calls" \
        "for each transfer that ends: curl_multi_remove_handle, then curl_easy_cleanup; before \
returning: curl_multi_cleanup, which closes the connections it kept (README.md hint 6)"
}
