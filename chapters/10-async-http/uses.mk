# Chapter 10 fetches from chapter 09's local server (lib/local_server.h) and drives libcurl's
# multi interface on chapter 08's event loop (lib/event_loop.h). 09's archive comes first: it
# builds on 08's.
uses_lessons := chapters/09-servers chapters/08-event-loop
uses_packages := libcurl
uses_debian := libcurl4-openssl-dev
uses_bench := python3 python3-aiohttp curl
uses_test := python3
