#!/usr/bin/env bats
# Exercise 06, data aggregator: grades exercises/06-data-aggregator (its lib/ and its program
# aggregator.c; or a copy, see grade.bash) with the grader's own driver,
# tests/exercises/drivers/06-data-aggregator/grade_aggregate.c, built beside it, against a real
# local server started for the suite (chapter 09's loop_server, on a free port). The digests
# are checked against the driver's own; concurrency by the server's count of requests in flight
# (/stats). The core parts come first and are worth most; the four bonus parts (progress,
# retries, hybrid, cache) are graded each on its own.

load grade
load ../server

setup_file() {
    grade_setup_file
    grade_start_local_server
}

teardown_file() { stop_local_server; }

aggregate() {
    grade_run --timeout 20 grade_aggregate --server="$KIT_SERVER_URL" "$@"
}

# every_method TEST EXPECTED HINT: the driver's TEST for threads, processes and the event loop.
every_method() {
    local method
    for method in threads processes event-loop; do
        aggregate --test="$1" --method=$method
        expect_ok "$method: $2" "$3" || return 1
    done
}

@test "[3] threads: every digest right, all sources in flight at once, workers kept, all joined" {
    aggregate --test=method --method=threads
    expect_ok "right digests; 4 slow sources in flight at once; 2 with workers = 2; nothing left" \
        "one thread per source (or options->workers), each: agg_fetch_blocking, then \
agg_digest_source, then agg_report; join every thread (README.md hints 1-2)"
}

@test "[3] processes: every digest right and done in child processes, all in flight, all reaped" {
    aggregate --test=method --method=processes
    expect_ok "right digests from child processes; in flight at once; 2 with workers = 2; \
every child reaped, every pipe closed" \
        "fork a child per source (at most workers at once) with a pipe of its own; the child \
fetches, digests, writes a record of the results to the pipe and _exit()s; the parent poll()s the \
pipes, reads, closes, waitpid()s that pid (README.md hints 3-4)"
}

@test "[3] event loop: every digest right, all fetches at once, every digest in the calling thread" {
    aggregate --test=method --method=event-loop
    expect_ok "right digests; every source in flight at once; no thread but the caller's, \
whose CPU time shows it ran the digests" \
        "one multi handle, every easy handle added at once; curl_multi_perform, \
curl_multi_info_read, curl_multi_poll; digest each body right there as its transfer ends, \
never on another thread (chapter 10, fetch_limited.c; README.md hint 5)"
}

@test "[2] failures stay in their source: 404, refused, timed out and 503 told apart, others right" {
    aggregate --test=failures
    expect_ok "each failing source not ok with its status (0 without an answer); the others \
right; the return value counts them" \
        "a source is ok only with a 2xx answer (agg_answer_ok); status 0 when no answer came \
(agg_record does it); never stop the other sources (README.md hint 2)"
}

@test "[2] statistics: every field of agg_statistics exact, over the ok sources" {
    aggregate --test=statistics
    expect_ok "each field as lib/aggregator.h defines it" \
        "skip the sources that are not ok (count them as failed); the deviation divides by ok \
(population), after a first pass for the mean; on a tie keep the first (README.md hint 6)"
}

@test "[2] the program compares the methods: a table of measured wall times, bars, the winner" {
    grade_run --timeout 40 aggregator --server="$KIT_SERVER_URL" --rounds=2000000
    local hint="print one row per method: its name, its wall time in seconds, ..., and a bar \
of '#', 40 for the slowest and in proportion for the others; then 'winner: NAME'; exit 0 with an \
OK line when every core method got every source (README.md hint 7)"
    [ "$status" -eq 0 ] && grep -q '^OK: ' <<<"$output" ||
        { graded "exit 0 and an OK line" "$hint"; return 1; }
    local problems
    problems=$(awk '
        /^(threads|processes|event-loop|hybrid) +[0-9]+\.[0-9]+ .*#+ *$/ {
            n++; name[n] = $1; wall[n] = $2 + 0; bar = $NF; gsub(/[^#]/, "", bar)
            bars[n] = length(bar); seen[$1] = 1; wall_of[$1] = wall[n]; if (wall[n] > most) most = wall[n]
            if (!least || wall[n] < wall[least]) least = n
        }
        /^winner: / { winner = $2 }
        END {
            for (m = 1; m <= 3; m++) {
                core = m == 1 ? "threads" : m == 2 ? "processes" : "event-loop"
                if (!seen[core]) print "no row for " core
            }
            for (i = 1; i <= n; i++) {
                if (wall[i] < 0.3) print name[i] " took " wall[i] " s: less than its slow source (/delay/0.3): not measured?"
                want = int(40 * wall[i] / most + 0.5); if (want < 1) want = 1
                if (bars[i] < want - 1 || bars[i] > want + 1) print name[i] ": a bar of " bars[i] ", expected " want
            }
            # Rows that print the same least time are a tie: any of them may be named.
            if (n && (!(winner in wall_of) || wall_of[winner] > wall[least]))
                print "winner: " winner ", but the least wall time is that of " name[least]
        }' <<<"$output")
    [ -z "$problems" ] || graded "a row per method (threads, processes, event-loop) with its \
wall time and a bar in proportion; the winner the fastest" "$hint" "$problems"
}

@test "[2] ThreadSanitizer finds no data race in the threads method" {
    grade_run --timeout 20 --tsan grade_aggregate --server="$KIT_SERVER_URL" --test=method \
        --method=threads
    [ "$status" -eq 0 ] && ! grep -q 'WARNING: ThreadSanitizer' <<<"$output" && return 0
    graded "no ThreadSanitizer report, and the right results" \
        "the workers share only the index of the next source (atomic or under a mutex) and each \
writes only its own sources; progress reports under a mutex (README.md hints 1-2)"
}

@test "[2] bonus, progress: one report per source as it is done, failed ones too, one at a time" {
    every_method progress "done 1 to N, each source once with its result (a failed one \
too), one report at a time, in this process, the first before the slowest source was served" \
        "call agg_report when a source is done, in the calling process (the processes \
method: in the parent, when the child's record arrives); agg_report locks, counts, calls \
(README.md hint 8)"
}

@test "[2] bonus, retries: /flaky recovers, 503 and refused retried with backoff, 404 not" {
    every_method retries "attempts exact, as many requests served as attempts, the backoff \
waited; the event loop never in a sleep call" \
        "agg_fetch_blocking: try again while agg_worth_retrying and attempts <= retries, \
sleeping agg_retry_delay first; the loop: a due time per source, never a sleep (README.md \
hint 9)"
}

@test "[2] bonus, hybrid: the loop fetches, child processes digest, the loop's thread stays free" {
    aggregate --test=hybrid
    expect_ok "right digests, each from a child process; all in flight at once; the calling \
thread's CPU time under half the digests'; children reaped" \
        "run the event loop's loop, but hand each ok body to a child (fork, digest, write the \
result to a pipe, _exit); wait on the children's pipes with the sockets (curl_multi_poll's \
extra_fds); never waitpid a child that has not written (README.md hint 10)"
}

@test "[2] bonus, cache: a second call fetches only what failed, from the cache the rest" {
    every_method cache "cached sources not fetched again, from_cache and the same digests; a \
failed one fetched again; a URL that differs only after '?' fetched; other rounds another key" \
        "agg_cache_new, agg_cache_lookup (the whole url, query included, and rounds) before \
the method runs, \
agg_cache_store of every ok source after (README.md hint 11)"
}
