/**
 * @file demo_client.h
 * @brief A server's demo run: a client of its own GETs a few paths, prints what came back, and
 *        then the server stops.
 *
 * Run with no --port, a server of this chapter is a demo: it listens on a free port, and this
 * client, a thread of the same process (the server itself stays as it is: loop_server's one
 * thread serves every connection), asks it for a small document, a few numbers, four
 * /delay/0.5 at once (each on a connection of its own: they all finish after about half a
 * second, not two) and the figures of /stats. When the client is done, its descriptor becomes
 * readable and the server stops as it would on SIGTERM. Every GET waits at most 10 s
 * (harness/loopback/loopback_get.h), so a server that stops answering cannot hang the demo.
 */
#ifndef DEMO_CLIENT_H
#define DEMO_CLIENT_H

#include <stdbool.h>

/** A demo client running in a thread of its own. */
struct demo_client;

/** Print what the demo does, then start its client against 127.0.0.1:@p port. @p program is
 *  the server's name, for the line that says how to run one that stays. Exits on failure. */
struct demo_client *demo_client_start(const char *program, int port);

/** A descriptor that becomes readable when the client has sent its last request and read its
 *  answer: the server watches it beside its stop signals, and stops when it is. */
int demo_client_done_fd(const struct demo_client *demo);

/** True once the client has finished. Ask as soon as the server stops serving: a stop that came
 *  first (SIGINT, --duration) cut the demo short, and the requests it left unanswered are no
 *  failure of the server's. */
bool demo_client_done(const struct demo_client *demo);

/** Wait for the client's thread to end (a GET still waiting fails at once now that the server
 *  has closed its connections), free it, and print the verdict: the @p served requests and the
 *  @p most in flight at once of the server's /stats, OK unless a request of a demo that ran to
 *  its end (@p done: demo_client_done() when the server stopped) got no answer or not 200 OK.
 *  Returns the exit status: 0, or 1 for such a request. */
int demo_client_finish(struct demo_client *demo, bool done, long served, long most);

#endif /* DEMO_CLIENT_H */
