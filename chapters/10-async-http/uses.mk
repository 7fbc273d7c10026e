# Chapter 10 fetches from the kit's local server (harness/loopback/local_server.h) and drives
# libcurl's multi interface on chapter 08's event loop (lib/event_loop.h).
uses_code := chapters/08-event-loop harness/loopback
uses_packages := libcurl
uses_debian := libcurl4-openssl-dev
uses_bench := python3 python3-aiohttp curl
uses_test := python3
