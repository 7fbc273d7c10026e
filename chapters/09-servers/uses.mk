# Chapter 09 builds its servers on chapter 08's event loop and the kit's loopback sockets
# (harness/loopback), prints JSON with cJSON, and reads a server's threads and RSS from /proc
# (harness/proc-figures).
uses_code := chapters/08-event-loop harness/loopback harness/proc-figures
uses_packages := libcjson
uses_debian := libcjson-dev
uses_test := curl jq
uses_bench := nginx-light wrk curl
