# Chapter 10 drives libcurl's multi interface on chapter 08's event loop (lib/curl_loop.h on
# lib/event_loop.h) and shares the kit's fetch plumbing (harness/fetch/fetch.h: the URLs or the
# local server, curl's checks, one line per URL, the summary).
uses_code := chapters/08-event-loop harness/fetch
uses_packages := libcurl
uses_debian := libcurl4-openssl-dev
uses_bench := python3 python3-aiohttp curl
uses_test := python3
