/**
 * @file trace.h
 * @brief Chapter 13's tiny tracer: spans per thread, written as Trace Event JSON and as an SVG.
 *
 * Recording must cost next to nothing and change the timing it measures as little as it can,
 * so a span is one clock read and three stores into the calling thread's own lane: no lock, no
 * allocation, no system call, no output. A lane that fills up counts what it drops. Everything
 * is written once the threads are done (lib/trace.c):
 *
 * - trace_write_json(): the Trace Event format that chrome://tracing and the Perfetto UI
 *   (https://ui.perfetto.dev, it runs in the browser and uploads nothing) open: one row per
 *   thread, zoom, click a span for its times;
 * - trace_write_svg(): the same rows drawn as coloured bars on one time axis, a file any web
 *   browser opens offline; hover over a bar for its name and duration.
 *
 * Several traces (two runs of a program, say) go into one file, one above the other, on the
 * same time scale, so that the picture compares them.
 */
#ifndef CHAPTER13_TRACE_H
#define CHAPTER13_TRACE_H

#include <stddef.h>
#include <stdio.h>

enum { TRACE_SPANS = 4096 }; /**< spans one lane holds */

/** One span: a name (a string that outlives the trace, such as a literal) and its times. */
struct trace_span {
    const char *name;
    double begin, end; /**< seconds since the trace was created */
};

/** One thread's row: written only by that thread until the trace is written out. */
struct trace_lane {
    char name[16];  /**< the thread's name, as trace_lane_name() set it */
    int tid;        /**< its kernel thread id (gettid()) */
    size_t count;   /**< spans recorded */
    size_t dropped; /**< spans that did not fit */
    struct trace_span spans[TRACE_SPANS];
};

/** A trace: a title and a lane per thread. */
struct trace {
    const char *title;
    double origin; /**< kit_now() when it was created */
    size_t lanes;
    struct trace_lane lane[];
};

/** A trace titled @p title with @p lanes empty lanes; its clock starts now. */
struct trace *trace_create(const char *title, size_t lanes);

/** Called by the thread that will use lane @p lane: names it (and the thread itself, as top -H
 *  and gdb show it) and records its thread id. */
void trace_lane_name(struct trace *trace, size_t lane, const char *name);

/** Seconds since the trace was created (CLOCK_MONOTONIC): take one before the work. */
double trace_now(const struct trace *trace);

/** Record span @p name in @p lane, from @p begin (a trace_now() value) to now. */
void trace_span(struct trace *trace, size_t lane, const char *name, double begin);

/** Total seconds of spans called @p name over all lanes, and of all spans (either may be NULL). */
double trace_total(const struct trace *trace, const char *name, double *all);

/** Write @p count traces as Chrome Trace Event JSON: each trace a process, each lane a thread. */
void trace_write_json(FILE *out, struct trace *const traces[], size_t count);

/** Draw @p count traces as one SVG picture, one above the other, on a shared time axis. */
void trace_write_svg(FILE *out, struct trace *const traces[], size_t count);

void trace_destroy(struct trace *trace);

#endif /* CHAPTER13_TRACE_H */
