/**
 * @file trace.c
 * @brief The tracer of chapter 13: spans recorded per thread with no lock, written at the end.
 *
 * Why no lock: each lane is written by one thread only (the one that named it), and read only
 * after every such thread has been joined; pthread_join() orders the writes before the reads.
 * A span costs a clock_gettime() (about 20-30 ns through the vDSO, no system call) and three
 * stores. Writing the files is slow and happens once, at the end, off the threads' clocks.
 */
#define _GNU_SOURCE /* gettid, pthread_setname_np */
#include "trace.h"

#include "kit.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct trace *trace_create(const char *title, size_t lanes)
{
    struct trace *trace = calloc(1, sizeof *trace + lanes * sizeof trace->lane[0]);
    if (trace == NULL)
        kit_die_errno("calloc a trace of %zu lanes", lanes);
    trace->title = title;
    trace->lanes = lanes;
    trace->origin = kit_now();
    return trace;
}

void trace_destroy(struct trace *trace)
{
    free(trace);
}

void trace_lane_name(struct trace *trace, size_t lane, const char *name)
{
    struct trace_lane *row = &trace->lane[lane];
    snprintf(row->name, sizeof row->name, "%s", name);
    row->tid = gettid();
    KIT_CHECK_EN(pthread_setname_np(pthread_self(), row->name));
}

double trace_now(const struct trace *trace)
{
    return kit_now() - trace->origin;
}

void trace_span(struct trace *trace, size_t lane, const char *name, double begin)
{
    struct trace_lane *row = &trace->lane[lane];
    double end = trace_now(trace);
    if (row->count == TRACE_SPANS) {
        row->dropped++; /* full: never block, never allocate, just count */
        return;
    }
    row->spans[row->count++] = (struct trace_span){.name = name, .begin = begin, .end = end};
}

double trace_total(const struct trace *trace, const char *name, double *all)
{
    double named = 0, total = 0;
    for (size_t l = 0; l < trace->lanes; l++)
        for (size_t s = 0; s < trace->lane[l].count; s++) {
            const struct trace_span *span = &trace->lane[l].spans[s];
            total += span->end - span->begin;
            if (name != NULL && strcmp(span->name, name) == 0)
                named += span->end - span->begin;
        }
    if (all != NULL)
        *all = total;
    return named;
}

/* Text inside JSON quotes (@p xml false) or SVG text: escape what would end it early. */
static void put_text(FILE *out, const char *text, bool xml)
{
    for (; *text != '\0'; text++) {
        if (xml && (*text == '&' || *text == '<' || *text == '"'))
            fputs(*text == '&' ? "&amp;" : *text == '<' ? "&lt;" : "&quot;", out);
        else if (!xml && (*text == '"' || *text == '\\'))
            fprintf(out, "\\%c", *text);
        else if ((unsigned char)*text >= ' ')
            fputc(*text, out);
    }
}

void trace_write_json(FILE *out, struct trace *const traces[], size_t count)
{
    fputs("{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n", out);
    const char *comma = "";
    for (size_t t = 0; t < count; t++) {
        fprintf(out,
                "%s{\"ph\": \"M\", \"name\": \"process_name\", \"pid\": %zu, \"args\": "
                "{\"name\": \"",
                comma, t + 1);
        put_text(out, traces[t]->title, false);
        fputs("\"}}", out);
        comma = ",\n";
        for (size_t l = 0; l < traces[t]->lanes; l++) {
            const struct trace_lane *row = &traces[t]->lane[l];
            fprintf(out,
                    ",\n{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": %zu, \"tid\": "
                    "%d, \"args\": {\"name\": \"",
                    t + 1, row->tid);
            put_text(out, row->name, false);
            fputs("\"}}", out);
            for (size_t s = 0; s < row->count; s++) { /* "X": a complete span; times in us */
                fprintf(out,
                        ",\n{\"ph\": \"X\", \"pid\": %zu, \"tid\": %d, \"ts\": %.3f, "
                        "\"dur\": %.3f, \"name\": \"",
                        t + 1, row->tid, row->spans[s].begin * 1e6,
                        (row->spans[s].end - row->spans[s].begin) * 1e6);
                put_text(out, row->spans[s].name, false);
                fputs("\"}", out);
            }
        }
    }
    fputs("\n]}\n", out);
}

/* The SVG's layout, in pixels. */
enum { WIDTH = 960, LABELS = 170, RIGHT = 20, ROW = 22, BAR = 16, TITLE = 34, AXIS = 34 };
static const char *const COLOURS[] = {"#43a047", "#1e88e5", "#fb8c00", "#8e24aa",
                                      "#00897b", "#6d4c41", "#546e7a", "#c0ca33"};
enum { COLOURS_COUNT = sizeof COLOURS / sizeof COLOURS[0] };
static const char WAITING[] = "#e53935"; /* a span whose name starts with "wait": red */

/* The colour of span @p name: red if it is waiting, else the next colour the first time the
 * name is seen (@p names holds the names seen so far, in order: the legend). */
static const char *colour_of(const char *names[COLOURS_COUNT + 1], const char *name)
{
    int c = 0, colour = 0;
    while (c < COLOURS_COUNT && names[c] != NULL && strcmp(names[c], name) != 0)
        colour += strncmp(names[c++], "wait", 4) != 0;
    if (names[c] == NULL)
        names[c] = name;
    return strncmp(name, "wait", 4) == 0 ? WAITING : COLOURS[colour % COLOURS_COUNT];
}

void trace_write_svg(FILE *out, struct trace *const traces[], size_t count)
{
    double longest = 1e-3; /* the time axis: the latest end of any span, at least 1 ms */
    int height = 50;
    const char *names[COLOURS_COUNT + 1] = {NULL};
    for (size_t t = 0; t < count; t++) {
        height += TITLE + (int)traces[t]->lanes * ROW + AXIS;
        for (size_t l = 0; l < traces[t]->lanes; l++)
            for (size_t s = 0; s < traces[t]->lane[l].count; s++) {
                colour_of(names, traces[t]->lane[l].spans[s].name); /* the legend's order */
                if (traces[t]->lane[l].spans[s].end > longest)
                    longest = traces[t]->lane[l].spans[s].end;
            }
    }
    double scale = (WIDTH - LABELS - RIGHT) / longest; /* pixels per second */
    double step = pow(10, floor(log10(longest / 6)));  /* ticks: 1, 2 or 5 x 10^k seconds */
    step *= longest / step > 30 ? 5 : longest / step > 12 ? 2 : 1;
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "font-family=\"sans-serif\" font-size=\"12\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            WIDTH, height);
    for (int c = 0, x = LABELS; c < COLOURS_COUNT && names[c] != NULL; c++) { /* the legend */
        fprintf(out, "<rect x=\"%d\" y=\"12\" width=\"12\" height=\"12\" fill=\"%s\"/>", x,
                colour_of(names, names[c]));
        fprintf(out, "<text x=\"%d\" y=\"23\">", x + 16);
        put_text(out, names[c], true);
        fputs("</text>\n", out);
        x += 30 + 7 * (int)strlen(names[c]);
    }
    int y = 50;
    for (size_t t = 0; t < count; t++) {
        fprintf(out, "<text x=\"10\" y=\"%d\" font-weight=\"bold\" font-size=\"14\">", y + 20);
        put_text(out, traces[t]->title, true);
        fputs("</text>\n", out);
        y += TITLE;
        for (size_t l = 0; l < traces[t]->lanes; l++, y += ROW) {
            const struct trace_lane *row = &traces[t]->lane[l];
            fprintf(out, "<text x=\"10\" y=\"%d\">", y + BAR - 3);
            put_text(out, row->name, true);
            fprintf(out, " (tid %d)</text>\n", row->tid);
            for (size_t s = 0; s < row->count; s++) {
                const struct trace_span *span = &row->spans[s];
                fprintf(out, "<rect x=\"%.1f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\">",
                        LABELS + span->begin * scale, y,
                        fmax((span->end - span->begin) * scale, 1.5),
                        BAR, /* at least 1.5 px wide, so that the shortest spans show */
                        colour_of(names, span->name));
                fputs("<title>", out);
                put_text(out, span->name, true);
                fprintf(out, ": %.3f ms</title></rect>\n", (span->end - span->begin) * 1e3);
            }
        }
        fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", LABELS,
                y + 4, WIDTH - RIGHT, y + 4);
        for (double tick = 0; tick <= longest * 1.0001; tick += step)
            fprintf(out,
                    "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"black\"/>"
                    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g ms</text>\n",
                    LABELS + tick * scale, y + 4, LABELS + tick * scale, y + 9,
                    LABELS + tick * scale, y + 22, round(tick * 1e6) / 1e3);
        y += AXIS;
    }
    fputs("</svg>\n", out);
}
