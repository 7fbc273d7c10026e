# The kit's fetch plumbing: libcurl's easy interface set up, checked and reported the same way in
# chapters 10-12; fetch_plan_start_local_server() starts the kit's local server (local_server.h).
uses_code := harness/loopback
uses_packages := libcurl
uses_debian := libcurl4-openssl-dev
