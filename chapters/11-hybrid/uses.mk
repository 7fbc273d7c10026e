# Chapter 11 hands chapter 06's process pool (lib/process_pool.h) to chapter 08's event loop
# (lib/event_loop.h) and fetches with chapter 10's curl-on-the-loop bridge (lib/curl_loop.h).
# From the kit's harness: the fetch plumbing, the sum of squares and u128, and the ticker's
# cpu_wait_seconds(). Its workers parse JSON with cJSON; its tests recompute the figures in
# Python.
uses_code := chapters/06-pools chapters/08-event-loop chapters/10-async-http \
             harness/fetch harness/proc-figures harness/sums
uses_packages := libcjson
uses_debian := libcjson-dev
uses_test := python3
