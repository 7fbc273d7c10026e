/**
 * @file chart.h
 * @brief Bar charts as PNG files, drawn by gnuplot (Debian's gnuplot-nox) in a child process.
 *
 * Drawing is no lesson of the kit, so gnuplot does it: chart_draw() starts it with
 * posix_spawn(), writes it a small script with the figures inline (a gnuplot "datablock"), and
 * points its standard output at the PNG file, which the program itself opened (so a bad path is
 * reported with its errno name, like any other file). One panel per group of bars, side by side.
 *
 * The file is opened early, by chart_open(), so that a path that cannot be written fails the
 * run before any measuring; a missing gnuplot is no failure: chart_open() says false and the
 * caller prints a note instead of a chart.
 */
#ifndef CHART_H
#define CHART_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/** One bar: a label under it, its height in seconds, a text above it (e.g. "x1.93 faster"). */
struct chart_bar {
    const char *label;
    double seconds;
    const char *note;
};

/** One panel: a title and its bars. */
struct chart_panel {
    const char *title;
    const struct chart_bar *bars;
    size_t count;
};

/** A chart being made: the gnuplot program found on PATH and the PNG file, open. */
struct chart {
    char gnuplot[PATH_MAX];
    int fd;
};

/** Find gnuplot on PATH and open @p path for writing. Returns false, opening nothing, when
 *  there is no gnuplot; exits 1 (with the errno name) when @p path cannot be opened. */
bool chart_open(struct chart *chart, const char *path);

/** Draw @p count panels under @p title into the file and close it. Exits 1, saying why, if
 *  gnuplot fails, dies, writes nothing, or takes over 30 s. */
void chart_draw(struct chart *chart, const char *title, const struct chart_panel panels[],
                size_t count);

#endif /* CHART_H */
