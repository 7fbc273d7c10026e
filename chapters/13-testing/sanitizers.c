/**
 * @file sanitizers.c
 * @brief thread_bugs under TSan, ASan+UBSan, helgrind and memcheck: what each finds, misses, costs.
 *
 * What to look for: a table with a row per bug and a column per tool; each cell names what
 * the tool printed in this run, and the headline lines themselves follow the table, as
 * printed. The plain run never reports anything. ThreadSanitizer sees the race, the lock-order
 * inversion (a deadlock that did not happen) and the use after free, but no leak; ASan sees the
 * memory bugs and no race; helgrind the thread bugs; memcheck the memory bugs. The `none` row is
 * the same kind of work done right, where no tool may report anything, and the cost row is its
 * CPU time a round under each tool against the plain build's (-O2; the sanitizer builds are -O1
 * plus their checks). By default the table has two rows, `race` and `none`; `--all` adds the rest.
 *
 * TSan and ASan need their own builds of thread_bugs (`make chapter-13 SANITIZE=thread`, then
 * `SANITIZE=address,undefined`). This program looks for them beside its own build folder,
 * named as the Makefile names them (build/gcc-thread/... beside build/gcc/...). Valgrind
 * needs no rebuild. As many runs as there are CPUs (at most 4) go at once; each is killed
 * after 60 s (an alarm set before exec survives it).
 *
 * See also: thread_bugs.c (the bugs), stress_queue.c (a stress test sees none of these).
 *
 * Usage: sanitizers [--bug=NAME]... [--all]
 */
#include "kit.h"

#include <getopt.h>
#include <limits.h>
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
    "  -A, --all         every row (about 5 s on two idle CPUs: valgrind is slow to start)\n"
    "  -h, --help        show this help and exit\n";

enum { BUGS = 5, TOOLS = 5, PLAIN = 0, TSAN = 1, ASAN = 2, NONE = BUGS - 1 };
static const char *const BUG[BUGS] = {"race", "lock-order", "use-after-free", "leak", "none"};
static const struct {
    const char *title;
    int build;               /* which build of thread_bugs it runs */
    const char *valgrind[4]; /* the valgrind command before it, if any */
} TOOL[TOOLS] = {
    {"plain run", PLAIN, {NULL}},
    {"TSan", TSAN, {NULL}},
    {"ASan+UBSan", ASAN, {NULL}},
    {"helgrind", PLAIN, {"valgrind", "--tool=helgrind", NULL}},
    {"memcheck", PLAIN, {"valgrind", "--leak-check=full", NULL}},
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

struct run {
    FILE *output; /* the tool's stdout and stderr: an unlinked temporary file */
    pid_t pid;    /* 0: not run */
    int status;
    char cell[48];                 /* what the table shows */
    bool found[HEADLINES];         /* which headlines appeared ... */
    char headline[HEADLINES][120]; /* ... and the first line of each, as printed */
};

/* Start `[valgrind ...] PROGRAM --bug=NAME`, its output going to run->output. */
static void start(struct run *run, const char *program, int tool, int bug)
{
    char bug_option[32], rounds_option[32];
    snprintf(bug_option, sizeof bug_option, "--bug=%s", BUG[bug]);
    /* The none row's work: enough rounds to time well, a tenth of them under valgrind (slow). */
    snprintf(rounds_option, sizeof rounds_option, "--rounds=%d",
             TOOL[tool].valgrind[0] != NULL ? 2000 : 20000);
    const char *argv[8];
    int argc = 0;
    for (int i = 0; TOOL[tool].valgrind[i] != NULL; i++)
        argv[argc++] = TOOL[tool].valgrind[i];
    argv[argc++] = program;
    argv[argc++] = bug_option;
    argv[argc++] = rounds_option;
    argv[argc] = NULL;
    if ((run->output = tmpfile()) == NULL)
        kit_die_errno("tmpfile");
    if ((run->pid = fork()) == -1)
        kit_die_errno("fork");
    if (run->pid == 0) {
        int fd = fileno(run->output);
        if (dup2(fd, STDOUT_FILENO) == -1 || dup2(fd, STDERR_FILENO) == -1)
            kit_child_die_errno("dup2");
        kit_child_signal_defaults();
        alarm(60); /* a tool that hangs dies of SIGALRM */
        execvp(argv[0], (char *const *)argv);
        kit_child_die_errno("exec %s", argv[0]);
    }
}

/* Read a finished run's output: its headlines, the CPU time it reports, its cell. */
static void judge(struct run *run, double *ns_a_round)
{
    char line[1024];
    bool any = false, no_exec = false;
    rewind(run->output);
    while (fgets(line, sizeof line, run->output) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        sscanf(line, "cpu: %*f ms for %*d rounds, %lf ns a round", ns_a_round);
        no_exec = no_exec || strstr(line, ": exec valgrind:") != NULL;
        const char *text = line; /* without valgrind's "==PID== " or ASan's "==PID==" */
        if (strncmp(line, "==", 2) == 0 && strstr(line + 2, "==") != NULL)
            text = strstr(line + 2, "==") + 2 + strspn(strstr(line + 2, "==") + 2, " ");
        for (int h = 0; h < HEADLINES; h++)
            if (!run->found[h] && strstr(line, HEADLINE[h].text) != NULL) {
                snprintf(run->headline[h], sizeof run->headline[h], "%.119s", text);
                char *where = strstr(run->headline[h], " at pc "); /* ASan: addresses follow */
                if (where != NULL)
                    *where = '\0';
                run->found[h] = any = true;
            }
    }
    if (ferror(run->output) || fclose(run->output) != 0)
        kit_die_errno("read a tool's output");
    if (no_exec)
        snprintf(run->cell, sizeof run->cell, "not installed");
    else if (WIFSIGNALED(run->status))
        snprintf(run->cell, sizeof run->cell, "killed (signal %d)", WTERMSIG(run->status));
    else if (!any)
        snprintf(run->cell, sizeof run->cell, WEXITSTATUS(run->status) ? "exit %d" : "-",
                 WEXITSTATUS(run->status));
    for (int h = 0; h < HEADLINES; h++) { /* each finding once: "use after free, leak" */
        size_t used = strlen(run->cell);
        if (run->found[h] && HEADLINE[h].finding != NULL &&
            strstr(run->cell, HEADLINE[h].finding) == NULL)
            snprintf(run->cell + used, sizeof run->cell - used, "%s%s", used ? ", " : "",
                     HEADLINE[h].finding);
    }
    if (run->cell[0] == '\0') /* a headline that names no finding of the table */
        snprintf(run->cell, sizeof run->cell, "see below");
}

/* Where thread_bugs is in this program's build folder PREFIX/VARIANT, with VARIANT's sanitizer
 * suffix (if any) replaced by @p suffix: PREFIX/gcc-thread/chapters/13-testing/thread_bugs. */
static void build_path(char path[PATH_MAX], const char *suffix)
{
    char self[PATH_MAX];
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    if (length == -1)
        kit_die_errno("readlink /proc/self/exe");
    self[length] = '\0';
    for (int up = 0; up < 3; up++) { /* drop /chapters/13-testing/sanitizers */
        char *slash = strrchr(self, '/');
        if (slash == NULL || slash == self)
            kit_die("%s is not in a build folder PREFIX/VARIANT/chapters/13-testing", self);
        *slash = '\0';
    }
    char *variant = strrchr(self, '/') + 1, *cut = strstr(variant, "-address");
    if (cut != NULL || (cut = strstr(variant, "-thread")) != NULL)
        *cut = '\0';
    if (snprintf(path, PATH_MAX, "%s%s/chapters/13-testing/thread_bugs", self, suffix) >= PATH_MAX)
        kit_die("the path of the %s build is too long", suffix);
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"bug", required_argument, NULL, 'b'},
        {"all", no_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static char build[3][PATH_MAX];
    static struct run runs[BUGS][TOOLS];
    bool row[BUGS] = {[0] = true, [NONE] = true}, rows_chosen = false;

    kit_cli_init(usage);
    build_path(build[PLAIN], "");
    build_path(build[TSAN], "-thread");
    build_path(build[ASAN], "-address-undefined");
    for (int opt; (opt = getopt_long(argc, argv, "b:Ah", options, NULL)) != -1;) {
        int bug = BUGS - 1;
        switch (opt) {
        case 'b':
            while (bug >= 0 && strcmp(optarg, BUG[bug]) != 0)
                bug--;
            if (bug < 0)
                kit_usage_error("--bug=%s: no such bug", optarg);
            if (!rows_chosen) /* the first --bug replaces the default rows */
                memset(row, 0, sizeof row);
            row[bug] = rows_chosen = true;
            break;
        case 'A': memset(row, 1, sizeof row); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (access(build[PLAIN], X_OK) == -1)
        kit_die_errno("the plain build of thread_bugs, %s (make chapter-13)", build[PLAIN]);
    /* The tools' settings, whatever the environment says: report every finding. */
    if (setenv("TSAN_OPTIONS", "report_bugs=1 halt_on_error=0", 1) == -1 ||
        setenv("ASAN_OPTIONS", "detect_leaks=1", 1) == -1 ||
        setenv("UBSAN_OPTIONS", "print_stacktrace=1", 1) == -1)
        kit_die_errno("setenv");
    kit_own_children();

    int parallel = kit_cpu_count() < 4 ? kit_cpu_count() : 4, running = 0, missing = 0;
    printf("the bugs of thread_bugs under each tool, %d run(s) at a time\n", parallel);
    for (int job = 0; job < BUGS * TOOLS || running > 0;) {
        int bug = job / TOOLS, tool = job % TOOLS;
        if (job < BUGS * TOOLS && running < parallel) { /* start the next run */
            job++;
            if (!row[bug])
                continue;
            if (access(build[TOOL[tool].build], X_OK) == -1) {
                snprintf(runs[bug][tool].cell, sizeof runs[bug][tool].cell, "not built");
                continue;
            }
            start(&runs[bug][tool], build[TOOL[tool].build], tool, bug);
            running++;
            continue;
        }
        int status; /* or wait for one to end */
        pid_t pid = waitpid(-1, &status, 0);
        if (pid == -1)
            kit_die_errno("waitpid");
        for (int r = 0; r < BUGS * TOOLS; r++)
            if (runs[r / TOOLS][r % TOOLS].pid == pid)
                runs[r / TOOLS][r % TOOLS].status = status;
        running--;
    }

    double ns_a_round[TOOLS] = {0};
    printf("\n%-15s", "bug");
    for (int tool = 0; tool < TOOLS; tool++)
        printf(tool < TOOLS - 1 ? " %-15s" : " %s", TOOL[tool].title);
    for (int bug = 0; bug < BUGS; bug++) {
        for (int tool = 0; tool < TOOLS && row[bug]; tool++) {
            if (runs[bug][tool].pid != 0)
                judge(&runs[bug][tool], &ns_a_round[tool]);
            if (tool == 0)
                printf("\n%-15s", BUG[bug]);
            printf(tool < TOOLS - 1 ? " %-15s" : " %s", runs[bug][tool].cell);
        }
    }
    if (ns_a_round[PLAIN] > 0) { /* the none row's CPU time a round, against the plain run's */
        char text[32];
        snprintf(text, sizeof text, "%.0f ns a round", ns_a_round[PLAIN]);
        printf("\n%-15s %-15s", "cost (CPU)", text);
        for (int tool = 1; tool < TOOLS; tool++)
            printf(tool < TOOLS - 1 ? " %-15s" : " %s",
                   ns_a_round[tool] > 0 ? kit_ratio_text(ns_a_round[PLAIN] / ns_a_round[tool], text)
                                        : "-");
    }
    printf("\n\nheadlines, as the tools printed them (the first of each kind):\n");
    int failures = 0;
    for (int bug = 0; bug < BUGS; bug++) {
        for (int tool = 0; tool < TOOLS && row[bug]; tool++) {
            const struct run *run = &runs[bug][tool];
            bool expected_seen = EXPECTED[bug][tool] == NULL;
            for (int h = 0; h < HEADLINES; h++) {
                if (!run->found[h])
                    continue;
                printf("  %s, %s: %s\n", BUG[bug], TOOL[tool].title, run->headline[h]);
                expected_seen =
                    expected_seen || (HEADLINE[h].finding != NULL &&
                                      strcmp(HEADLINE[h].finding, EXPECTED[bug][tool]) == 0);
            }
            if (run->pid == 0 || strcmp(run->cell, "not installed") == 0)
                missing++;
            else if (WIFSIGNALED(run->status)) { /* killed: whatever it said is not the end */
                printf("  FAILED: %s, %s: %s\n", BUG[bug], TOOL[tool].title, run->cell);
                failures++;
            } else if (!expected_seen || (bug == NONE && strcmp(run->cell, "-") != 0)) {
                printf("  FAILED: %s, %s: expected %s, got %s\n", BUG[bug], TOOL[tool].title,
                       EXPECTED[bug][tool] ? EXPECTED[bug][tool] : "no report", run->cell);
                failures++;
            }
        }
    }
    if (failures > 0) {
        printf("FAILED: %d cell(s) of the table are not what the tool should report\n", failures);
        return 1;
    }
    if (missing > 0) {
        printf("note: %d run(s) could not be made (not built: make chapter-13 SANITIZE=thread, "
               "then SANITIZE=address,undefined; not installed: apt-get install valgrind)\n",
               missing);
        return 0;
    }
    printf("OK: each bug was reported by the tools that look for it; the correct work by none\n");
    return 0;
}
