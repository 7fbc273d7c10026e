# Chapter 09 builds its servers on chapter 08's event loop and prints JSON with cJSON.
uses_lessons := chapters/08-event-loop
uses_packages := libcjson
uses_debian := libcjson-dev
uses_test := curl jq
uses_bench := nginx-light wrk
