# Exercise 05 fetches with libcurl's multi interface; its try-it program (and the grader's)
# starts or talks to the kit's local server (harness/loopback/local_server.h).
uses_code := harness/loopback
uses_packages := libcurl
uses_debian := libcurl4-openssl-dev
