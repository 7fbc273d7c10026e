# Chapter 12 compares what the earlier lessons built, side by side, with their own code: chapter
# 10's fetch plumbing (lib/fetch.h) and chapter 09's local server, chapter 08's event loop under
# libcurl's multi interface, chapter 07's simulated GIL, chapter 06's thread and process pools.
# Each archive comes before the ones it builds on (10 on 09, 09 on 08). news_scraper reads titles
# with libxml2's HTML parser; perf_compare draws its chart with gnuplot when it is installed.
uses_code := chapters/10-async-http chapters/09-servers chapters/08-event-loop \
                chapters/07-gil chapters/06-pools
uses_packages := libcurl libxml-2.0
uses_debian := libcurl4-openssl-dev libxml2-dev
uses_test := gnuplot-nox curl jq python3
uses_bench := python3 python3-aiohttp
