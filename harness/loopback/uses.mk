# The kit's loopback networking: sockets on 127.0.0.1 (net.h), a blocking GET (loopback_get.h)
# and starting chapter 09's loop_server as a child (local_server.h), so its programs are built.
uses_programs := chapters/09-servers
