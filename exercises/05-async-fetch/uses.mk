# Exercise 05 fetches with libcurl's multi interface; its try-it program (and the grader's)
# starts or talks to chapter 09's local server (lib/local_server.h, which builds on chapter 08).
uses_lessons := chapters/09-servers chapters/08-event-loop
uses_packages := libcurl
uses_debian := libcurl4-openssl-dev
