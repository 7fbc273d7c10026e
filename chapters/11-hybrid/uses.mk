# Chapter 11 builds on four lessons: chapter 06's process pool (lib/process_pool.h), chapter 08's
# event loop (and its cpu_wait_seconds() in lib/proc_figures.h), chapter 10's fetch plumbing and
# its curl-on-the-loop bridge (lib/fetch.h, lib/curl_loop.h) and chapter 09's local server, which
# fetch.c starts. Each archive comes before the ones it needs: 10 needs 09 and 08, 09 needs 08.
# Its tests recompute the figures in Python.
uses_code := chapters/10-async-http chapters/09-servers chapters/08-event-loop chapters/06-pools
uses_packages := libcurl libcjson
uses_debian := libcurl4-openssl-dev libcjson-dev
uses_test := python3
