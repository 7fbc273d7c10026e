# Chapter 12 compares what the earlier lessons built, side by side, with their own code: chapter
# 06's thread and process pools, chapter 07's simulated GIL, chapter 10's curl-on-the-loop
# bridge. From the kit's harness: the fetch plumbing, the sum of squares, and the table with its
# CSV and chart (harness/report). news_scraper reads titles with libxml2's HTML parser;
# perf_compare draws its chart with gnuplot when it is installed.
uses_code := chapters/06-pools chapters/07-gil chapters/10-async-http harness/fetch \
             harness/report harness/sums
uses_packages := libxml-2.0
uses_debian := libxml2-dev
uses_test := gnuplot-nox curl jq python3
uses_bench := python3 python3-aiohttp
