/**
 * @file sanitizers.c
 * @brief thread_bugs under TSan, ASan+UBSan, helgrind and memcheck: what each finds, misses, costs.
 *
 * What to look for: a table, a row per bug and a column per tool, each cell naming what the tool
 * printed in this run; the headlines themselves follow it. The plain run reports nothing, ever.
 * TSan sees the race, the lock-order inversion (a deadlock that did not happen) and the use after
 * free, no leak; ASan the memory bugs and no race; helgrind the thread bugs; memcheck the memory
 * bugs. In the `none` row (the work done right) no tool may report anything; the cost row is its
 * CPU time a round under each tool against the plain build's (-O2; sanitizer builds are -O1).
 * Rows `race` and `none` by default, all with `--all`; `--bug` and `--tool` pick rows, columns.
 *
 * TSan and ASan need their own builds (`make chapter-13 SANITIZE=thread`, then
 * `SANITIZE=address,undefined`), found beside this program's (build/gcc-thread/... beside
 * build/gcc/...); valgrind needs none. lib/tool_run.c runs them, up to 4 at once.
 *
 * See also: thread_bugs.c (the bugs), stress_queue.c (a stress test sees none of these).
 *
 * Usage: sanitizers [--bug=NAME]... [--tool=NAME]... [--all]
 */
#include "kit.h"
#include "lib/tool_run.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
    "Usage: sanitizers [options]\n"
    "Run the bugs of thread_bugs under TSan, ASan+UBSan, helgrind and memcheck: one table.\n"
    "  -b, --bug=NAME    a row: race, lock-order, use-after-free, leak or none (again for\n"
    "                    more rows; default: race and none)\n"
    "  -t, --tool=NAME   a column: plain, tsan, asan, helgrind or memcheck (again for more\n"
    "                    columns; default: all five)\n"
    "  -A, --all         every row (about 5 s on two idle CPUs: valgrind is slow to start)\n"
    "  -h, --help        show this help and exit\n";

enum { BUGS = 5, TOOLS = 5, PLAIN = 0, NONE = BUGS - 1 };
static const char *const BUG[BUGS] = {"race", "lock-order", "use-after-free", "leak", "none"};
static const char *const TOOL_NAME[TOOLS] = {"plain", "tsan", "asan", "helgrind", "memcheck"};
static const char *const TITLE[TOOLS] = {"plain run", "TSan", "ASan+UBSan", "helgrind", "memcheck"};
static const struct {
    const char *build;       /* which build of thread_bugs it runs: build/gcc<this>/... */
    const char *valgrind[4]; /* the valgrind command before it, if any */
} TOOL[TOOLS] = {
    {"", {NULL}},
    {"-thread", {NULL}},
    {"-address-undefined", {NULL}},
    {"", {"valgrind", "--tool=helgrind", NULL}},
    {"", {"valgrind", "--leak-check=full", NULL}},
};
/* A line of a tool's output holding `text` is a headline; `finding` is what the table says
 * (NULL: a headline shown after the table only). */
static const struct {
    const char *text, *finding;
} HEADLINE[] = {
    {"ThreadSanitizer: data race", "data race"},
    {"ThreadSanitizer: lock-order-inversion", "lock order"},
    {"ThreadSanitizer: heap-use-after-free", "use after free"},
    {"AddressSanitizer: heap-use-after-free", "use after free"},
    {"LeakSanitizer: detected memory leaks", "leak"},
    {"runtime error:", "undefined behaviour"},  /* UBSan */
    {"Possible data race during", "data race"}, /* helgrind */
    {"lock order \"", "lock order"},            /* helgrind: lock order "A before B" violated */
    {"Invalid read of size", NULL},             /* memcheck's headline; the next line says what: */
    {" free'd", "use after free"},   /* memcheck: Address ... inside a block ... free'd */
    {"are definitely lost", "leak"}, /* memcheck */
};
enum { HEADLINES = sizeof HEADLINE / sizeof HEADLINE[0] };
/* What each tool must find in each row; NULL: nothing required (and, in the none row, nothing
 * allowed: a report there would be a false alarm). */
static const char *const EXPECTED[BUGS][TOOLS] = {
    {NULL, "data race", NULL, "data race", NULL},
    {NULL, "lock order", NULL, "lock order", NULL},
    {NULL, "use after free", "use after free", NULL, "use after free"},
    {NULL, NULL, "leak", NULL, "leak"},
    {NULL, NULL, NULL, NULL, NULL},
};

/* What one run printed, as the table shows it. */
struct cell {
    char text[48];                 /* the table's cell */
    char headline[HEADLINES][120]; /* the first line holding each headline, as printed, or "" */
};

/* Read a finished run's output: its headlines, the CPU time it reports, its cell. */
static void judge(struct tool_run *run, struct cell *cell, double *ns_a_round)
{
    char line[TOOL_LINE];
    const char *text; /* the line as a headline: without the tool's "==PID==" */
    bool any = false;
    while (tool_run_line(run, line, &text)) {
        sscanf(line, "cpu: %*f ms for %*d rounds, %lf ns a round", ns_a_round);
        for (int h = 0; h < HEADLINES; h++)
            if (cell->headline[h][0] == '\0' && strstr(line, HEADLINE[h].text) != NULL) {
                snprintf(cell->headline[h], sizeof cell->headline[h], "%.119s", text);
                any = true;
            }
    }
    /* How it ended ("-", "exit 1", "killed (signal 9)", "not built", "not installed"), unless
     * it reported: a tool that reports exits non-zero, and its findings say why. */
    if (!any || WIFSIGNALED(run->status))
        tool_run_ending(run, cell->text, sizeof cell->text);
    for (int h = 0; h < HEADLINES; h++) { /* each finding once: "use after free, leak" */
        size_t used = strlen(cell->text);
        if (cell->headline[h][0] != '\0' && HEADLINE[h].finding != NULL &&
            strstr(cell->text, HEADLINE[h].finding) == NULL)
            snprintf(cell->text + used, sizeof cell->text - used, "%s%s", used ? ", " : "",
                     HEADLINE[h].finding);
    }
    if (cell->text[0] == '\0') /* a headline that names no finding of the table */
        snprintf(cell->text, sizeof cell->text, "see below");
}

/* The index of @p name among the five @p names (bugs or tools), or a usage error. */
static int find(const char *const names[5], const char *what, const char *name)
{
    for (int i = 0; i < 5; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    kit_usage_error("--%s=%s: no such %s", what, name, what);
}

/* A line of the table: @p label, then the chosen columns' cells, 15 characters wide. */
static void print_row(const char *label, const char *const cells[TOOLS], const bool column[TOOLS])
{
    int last = TOOLS - 1;
    while (!column[last])
        last--;
    printf("%-15s", label);
    for (int tool = 0; tool <= last; tool++)
        if (column[tool])
            printf(tool < last ? " %-15s" : " %s\n", cells[tool]);
}

/* Say how to build what was missing, with this build's compiler and build folder: @p plain is
 * PREFIX/VARIANT/chapters/13-testing/thread_bugs. */
static void print_build_commands(const char *plain, int not_built)
{
    char prefix[PATH_MAX];
    snprintf(prefix, sizeof prefix, "%s", plain);
    for (int up = 0; up < 4; up++) /* cut thread_bugs, 13-testing, chapters, VARIANT */
        *(strrchr(prefix, '/') != NULL ? strrchr(prefix, '/') : prefix) = '\0';
    const char *variant = plain + strlen(prefix) + (prefix[0] != '\0');
    int cc_length = (int)strcspn(variant, "/");
    char cwd[PATH_MAX];
    bool here = getcwd(cwd, sizeof cwd) != NULL && strlen(prefix) > strlen(cwd) &&
                strncmp(prefix, cwd, strlen(cwd)) == 0 && prefix[strlen(cwd)] == '/';
    char options[PATH_MAX + 64];
    snprintf(options, sizeof options, "%s%.*s BUILD_PREFIX=%s", "CC=", cc_length, variant,
             here ? prefix + strlen(cwd) + 1 : prefix);
    printf("note: %d run(s) not made: their builds are missing; make them with\n"
           "  make chapter-13 SANITIZE=thread %s\n"
           "  make chapter-13 SANITIZE=address,undefined %s\n",
           not_built, options, options);
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"bug", required_argument, NULL, 'b'},
        {"tool", required_argument, NULL, 't'},
        {"all", no_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static char build[TOOLS][PATH_MAX];
    static struct tool_run runs[BUGS][TOOLS];
    static struct cell cells[BUGS][TOOLS];
    bool row[BUGS] = {false}, column[TOOLS] = {false};

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "b:t:Ah", options, NULL)) != -1;) {
        switch (opt) {
        case 'b': row[find(BUG, "bug", optarg)] = true; break;
        case 't': column[find(TOOL_NAME, "tool", optarg)] = true; break;
        case 'A': memset(row, true, sizeof row); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (memchr(row, true, sizeof row) == NULL) /* no --bug: the default rows */
        row[0] = row[NONE] = true;
    if (memchr(column, true, sizeof column) == NULL) /* no --tool: every column */
        memset(column, true, sizeof column);
    for (int tool = 0; tool < TOOLS; tool++)
        tool_build_path(build[tool], TOOL[tool].build, "thread_bugs");
    if (access(build[PLAIN], X_OK) == -1)
        kit_die_errno("the plain build of thread_bugs, %s (make chapter-13)", build[PLAIN]);
    /* The tools' settings, whatever the environment says: report every finding. */
    if (setenv("TSAN_OPTIONS", "report_bugs=1 halt_on_error=0", 1) == -1 ||
        setenv("ASAN_OPTIONS", "detect_leaks=1", 1) == -1 ||
        setenv("UBSAN_OPTIONS", "print_stacktrace=1", 1) == -1)
        kit_die_errno("setenv");

    for (int c = 0; c < BUGS * TOOLS; c++) { /* the command of each chosen cell */
        int bug = c / TOOLS, tool = c % TOOLS;
        /* The none row's work: enough rounds to time, a tenth of them under valgrind. */
        const char *rounds = TOOL[tool].valgrind[0] != NULL ? "--rounds=2000" : "--rounds=20000";
        const char *const args[] = {"--bug", BUG[bug], rounds, NULL};
        if (row[bug] && column[tool])
            tool_run_command(&runs[bug][tool], TOOL[tool].valgrind, build[tool], args);
    }
    int parallel = kit_cpu_count() < 4 ? kit_cpu_count() : 4;
    printf("the bugs of thread_bugs under each tool, %d run(s) at a time\n\n", parallel);
    kit_own_children();
    tool_run_all(&runs[0][0], BUGS * TOOLS, parallel, 60);

    const char *texts[TOOLS];
    double ns_a_round[TOOLS] = {0};
    print_row("bug", TITLE, column);
    for (int bug = 0; bug < BUGS; bug++) {
        for (int tool = 0; tool < TOOLS; tool++) {
            if (runs[bug][tool].pid != 0)
                judge(&runs[bug][tool], &cells[bug][tool], &ns_a_round[tool]);
            texts[tool] = cells[bug][tool].text;
        }
        if (row[bug])
            print_row(BUG[bug], texts, column);
    }
    if (ns_a_round[PLAIN] > 0) { /* the none row's CPU time a round, against the plain run's */
        char figure[TOOLS][32];
        snprintf(figure[PLAIN], sizeof figure[PLAIN], "%.0f ns a round", ns_a_round[PLAIN]);
        texts[PLAIN] = figure[PLAIN];
        for (int tool = 1; tool < TOOLS; tool++)
            texts[tool] = ns_a_round[tool] > 0
                              ? kit_ratio_text(ns_a_round[PLAIN] / ns_a_round[tool], figure[tool])
                              : "-";
        print_row("cost (CPU)", texts, column);
    }
    printf("\nheadlines, as the tools printed them (the first of each kind):\n");
    int failures = 0, not_built = 0, not_installed = 0;
    for (int c = 0; c < BUGS * TOOLS; c++) {
        int bug = c / TOOLS, tool = c % TOOLS;
        const struct cell *cell = &cells[bug][tool];
        const char *expected = EXPECTED[bug][tool];
        /* A cell names each finding once; in the none row, any finding is a false alarm. */
        bool wrong = (expected != NULL && strstr(cell->text, expected) == NULL) ||
                     (bug == NONE && strcmp(cell->text, "-") != 0);
        if (!row[bug] || !column[tool])
            continue;
        for (int h = 0; h < HEADLINES; h++)
            if (cell->headline[h][0] != '\0')
                printf("  %s, %s: %s\n", BUG[bug], TITLE[tool], cell->headline[h]);
        if (runs[bug][tool].exec_failed && TOOL[tool].valgrind[0] != NULL)
            not_installed++;
        else if (runs[bug][tool].exec_failed) /* a sanitizer build not made yet */
            not_built++;
        else if (WIFSIGNALED(runs[bug][tool].status)) { /* whatever it said is not the end */
            printf("  FAILED: %s, %s: %s\n", BUG[bug], TITLE[tool], cell->text);
            failures++;
        } else if (wrong) {
            printf("  FAILED: %s, %s: expected %s, got %s\n", BUG[bug], TITLE[tool],
                   expected ? expected : "no report", cell->text);
            failures++;
        }
    }
    if (failures > 0) {
        printf("FAILED: %d cell(s) of the table are not what the tool should report\n", failures);
        return 1;
    }
    if (not_built > 0)
        print_build_commands(build[PLAIN], not_built);
    if (not_installed > 0)
        printf("note: %d run(s) not made: valgrind is not installed (apt-get install valgrind)\n",
               not_installed);
    printf("OK: each bug was reported by the tools that look for it%s; the correct work by none\n",
           not_built + not_installed > 0 ? ", of those that ran" : "");
    return 0;
}
