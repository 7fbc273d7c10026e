/**
 * @file search.c
 * @brief The controlled scheduler's explorer: which interleavings to run, one fresh process
 * each, what counts as a failure, and the replay of one with its trace and pictures.
 *
 * Search (KIT_EXPLORE=dfs): depth first over the tree of choice points, bounded by the number
 * of preemptions (switching away from a thread that could have gone on), raised 0, 1, 2 up to
 * the bound: iterative context bounding, as CHESS does. Most concurrency bugs need at most two
 * preemptions, and the runs with at most c preemptions number about steps^c, not 2^steps. Each
 * pass runs again the few runs of the passes before it (they are the tree's spine); the counts
 * printed are of distinct interleavings, by their exact number of preemptions. A choice point is
 * offered only before a step another thread could see (runtime.c, access_visible()); when a run
 * learns of a new one, the pass starts again. No partial-order reduction beyond that: two runs
 * that differ only in the order of independent steps are both run.
 *
 * Random (KIT_EXPLORE=random): PCT, from its seed: random thread priorities, and a few random
 * decisions where the running thread drops to the lowest priority. For programs too big to
 * search.
 *
 * Each run is a fork of this process made before main: every run starts from the same state.
 * What a run costs is mostly page faults, one for each page it writes first (copy on write) or
 * maps afresh: so the explorer shares its busy memory with the runs, maps the code once for
 * them all, and the runtime keeps its tables dense.
 * Its output goes to a memory file; a line starting with BROKEN or FAILED, an exit status other
 * than 0, a signal, a deadlock or an endless run is a failure. A failure is printed as its
 * schedule, the list of decisions that differ from the default ("T1@14" = at decision 14, thread
 * 1 went), which KIT_EXPLORE=replay KIT_EXPLORE_SCHEDULE=... runs again, step by step.
 */
#define _GNU_SOURCE /* memfd_create, sched_getcpu */
#include "../lib/trace.h"
#include "explore.h"
#include "kit.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { RUN_SECONDS = 10, BOUND_MAX = 5 };

/* A forked run jumps back here, out of the search, and returns into the program's main. */
static jmp_buf into_main;

/* How one run ended. */
struct outcome {
    bool failed;
    char why[512];
};

/* One choice point of the depth-first search, with the threads tried there so far. */
struct frame {
    struct explore_choice choice;
    uint32_t tried;
    int preemptions_before;
};

struct explorer {
    struct explore_shared *shared;
    int output;        /* the memory file a run writes its stdout and stderr to */
    char *output_text; /* what the last run printed (in shared memory) */
    size_t output_capacity;
    long runs;     /* processes run, repeats included */
    long max_runs; /* caps: runs and seconds */
    double max_seconds;
    double started;
    bool capped;
    struct frame *frames; /* the depth-first search's choice points (in shared memory) */
};

static char *env_or(const char *name, char *fallback)
{
    char *value = getenv(name);
    return value != NULL && value[0] != '\0' ? value : fallback;
}

static long env_long(const char *name, long fallback, long low, long high)
{
    char *value = getenv(name);
    if (value == NULL || value[0] == '\0')
        return fallback;
    char *end;
    errno = 0;
    long number = strtol(value, &end, 10);
    if (errno != 0 || *end != '\0' || number < low || number > high) {
        fprintf(stderr, "explore: %s=%s: expected a whole number from %ld to %ld\n", name, value,
                low, high);
        exit(2);
    }
    return number;
}

/* ---- one run ---- */

/* Memory this process and its runs share: writing it costs no page fault after a fork, as
 * writing its private memory (copy on write) does. */
static void *shared_memory(size_t size)
{
    void *memory = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED)
        kit_die_errno("mmap %zu bytes shared with the runs", size);
    return memory;
}

/* A fork copies the page-table entries of a private mapping only where it has an anonymous
 * part (a page written, copied on write), so a run would map afresh each page of code and
 * read-only data it uses: a page fault per 16 pages, dozens a run. Each such mapping of this
 * process (up to 16 MiB: the programs' code, the libraries') is mapped in whole and given one
 * written page, here, once: every run then starts with all of it mapped. Only the speed
 * depends on it: a mapping that refuses is left as it was. */
static void map_code_for_the_runs(void)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    if (maps == NULL)
        return;
    char line[4096];
    while (fgets(line, sizeof line, maps) != NULL) {
        unsigned long start, end;
        char mode[5];
        int path = 0;
        if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &start, &end, mode, &path) != 3 ||
            path == 0 || line[path] != '/' || mode[0] != 'r' || mode[1] != '-' || mode[3] != 'p' ||
            end - start > (16ul << 20))
            continue;
        void *begin = (void *)start;
        size_t size = end - start;
        int prot = PROT_READ | (mode[2] == 'x' ? PROT_EXEC : 0);
        if (madvise(begin, size, MADV_POPULATE_READ) == -1 ||
            mprotect(begin, size, prot | PROT_WRITE) == -1)
            continue;
        volatile char *first = begin;
        *first = *first; /* the same byte, in a private copy of the page */
        if (mprotect(begin, size, prot) == -1)
            kit_die_errno("mprotect %p back to read-only", begin);
    }
    fclose(maps);
}

/* What the run printed: the output file up to its offset, which the run's writes moved. */
static void read_output(struct explorer *explorer)
{
    off_t size = lseek(explorer->output, 0, SEEK_CUR);
    if (size < 0)
        kit_die_errno("lseek on the run's output");
    if ((size_t)size >= explorer->output_capacity) {
        if (explorer->output_text != NULL &&
            munmap(explorer->output_text, explorer->output_capacity) == -1)
            kit_die_errno("munmap");
        explorer->output_capacity = ((size_t)size + 1) * 2;
        explorer->output_text = shared_memory(explorer->output_capacity);
    }
    ssize_t got = pread(explorer->output, explorer->output_text, (size_t)size, 0);
    if (got < 0)
        kit_die_errno("read the run's output");
    explorer->output_text[got] = '\0';
}

/* The first line of the output that starts with BROKEN or FAILED, or NULL. */
static const char *verdict_line(const char *text, size_t *length)
{
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        if (strncmp(line, "BROKEN", 6) == 0 || strncmp(line, "FAILED", 6) == 0) {
            *length = end != NULL ? (size_t)(end - line) : strlen(line);
            return line;
        }
        line = end != NULL ? end + 1 : NULL;
    }
    return NULL;
}

/* Run the program once under control, with the forced choices already in shared memory. */
static struct outcome run_once(struct explorer *explorer)
{
    struct explore_shared *shared = explorer->shared;
    shared->end = END_EXITED;
    shared->steps = shared->choice_count = shared->trace_count = 0;
    shared->threads = 1;
    shared->visibility_changed = false;
    memset(shared->waiters, 0, sizeof shared->waiters);
    if (lseek(explorer->output, 0, SEEK_SET) == -1) /* what lies beyond the offset is old */
        kit_die_errno("rewind the run's output file");
    fflush(NULL);
    pid_t child = fork();
    if (child == -1)
        kit_die_errno("fork a run");
    if (child == 0) {
        if (dup2(explorer->output, STDOUT_FILENO) == -1 ||
            dup2(explorer->output, STDERR_FILENO) == -1)
            _exit(126);
        close(explorer->output);
        /* The run's threads take turns, never run at once: kept on one CPU, a hand-over wakes
         * a thread on the same CPU, with no interrupt between CPUs (dear in a virtual
         * machine). Only the speed depends on it: a failure leaves the run as it was. */
        cpu_set_t one;
        CPU_ZERO(&one);
        int cpu = sched_getcpu();
        if (cpu >= 0) {
            CPU_SET(cpu, &one);
            (void)sched_setaffinity(0, sizeof one, &one);
        }
        alarm(RUN_SECONDS); /* a real blocking call the runtime does not model */
        explore_take_control(shared);
        longjmp(into_main, 1); /* into main, under control */
    }
    explorer->runs++;
    int status;
    while (waitpid(child, &status, 0) == -1)
        if (errno != EINTR)
            kit_die_errno("waitpid");
    read_output(explorer);

    struct outcome outcome = {.failed = true};
    size_t length;
    const char *verdict = verdict_line(explorer->output_text, &length);
    if (shared->end == END_DEADLOCK)
        snprintf(outcome.why, sizeof outcome.why, "deadlock: no thread can go on");
    else if (shared->end == END_ENDLESS)
        snprintf(outcome.why, sizeof outcome.why,
                 "the run took over %d decisions: a livelock, or too big a configuration",
                 EXPLORE_MAX_STEPS);
    else if (shared->end == END_DIVERGED)
        snprintf(outcome.why, sizeof outcome.why,
                 "the run differs from an earlier one with the same choices: the program reads "
                 "something besides the schedule (a random seed, the real time, input)");
    else if (shared->end == END_TOO_MANY_THREADS)
        snprintf(outcome.why, sizeof outcome.why, "more than %d threads", EXPLORE_THREADS);
    else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        snprintf(outcome.why, sizeof outcome.why,
                 "the run did not end in %d s: a blocking call the scheduler does not model?",
                 RUN_SECONDS);
    else if (WIFSIGNALED(status))
        snprintf(outcome.why, sizeof outcome.why, "killed by SIG%s (%s)",
                 sigabbrev_np(WTERMSIG(status)), strsignal(WTERMSIG(status)));
    else if (verdict != NULL)
        snprintf(outcome.why, sizeof outcome.why, "the program said: %.*s", (int)length, verdict);
    else if (WEXITSTATUS(status) != 0)
        snprintf(outcome.why, sizeof outcome.why, "exit status %d", WEXITSTATUS(status));
    else
        outcome.failed = false;
    return outcome;
}

/* ---- schedules ---- */

/* The run's decisions that differ from the default rule: "T1@14,T0@17", or "-" for none. */
static void schedule_of(const struct explore_shared *shared, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (uint32_t c = 0; c < shared->choice_count; c++) {
        const struct explore_choice *choice = &shared->choices[c];
        if (choice->chosen == choice->fallback)
            continue;
        int n = snprintf(out + used, size - used, "%sT%u@%" PRIu32, used ? "," : "",
                         (unsigned)choice->chosen, choice->step);
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
    if (used == 0)
        snprintf(out, size, "-");
}

static bool parse_schedule(const char *text, struct explore_shared *shared)
{
    shared->forced_count = 0;
    if (strcmp(text, "-") == 0)
        return true;
    for (const char *p = text; *p != '\0';) {
        unsigned thread, step;
        int used;
        if (sscanf(p, "T%u@%u%n", &thread, &step, &used) != 2 || thread >= EXPLORE_THREADS ||
            shared->forced_count == EXPLORE_FORCED)
            return false;
        shared->forced[shared->forced_count++] =
            (struct explore_forced){.step = step, .thread = thread};
        p += used;
        if (*p == ',')
            p++;
        else if (*p != '\0')
            return false;
    }
    return true;
}

static int preemptions_of(const struct explore_shared *shared)
{
    int count = 0;
    for (uint32_t c = 0; c < shared->choice_count; c++)
        count += shared->choices[c].current_enabled &&
                 shared->choices[c].chosen != shared->choices[c].current;
    return count;
}

/* ---- source lines, through addr2line ---- */

struct place {
    uintptr_t address;
    char where[96];
};

static int by_address(const void *a, const void *b)
{
    uintptr_t x = ((const struct place *)a)->address, y = ((const struct place *)b)->address;
    return (x > y) - (x < y);
}

/* The source lines of @p count return addresses, sorted by address. addr2line reads the
 * addresses from a memory file; the program is linked at a fixed address (-no-pie). */
static struct place *symbolize(uintptr_t *addresses, size_t count)
{
    struct place *places = calloc(count + 1, sizeof *places);
    if (places == NULL)
        kit_die_errno("calloc");
    for (size_t i = 0; i < count; i++)
        places[i].address = addresses[i];
    qsort(places, count, sizeof *places, by_address);
    int input = memfd_create("explore-addresses", 0);
    if (input == -1)
        kit_die_errno("memfd_create");
    FILE *list = fdopen(dup(input), "w");
    if (list == NULL)
        kit_die_errno("fdopen");
    for (size_t i = 0; i < count; i++)
        fprintf(list, "%#lx\n", (unsigned long)(places[i].address - 1)); /* the call itself */
    if (fclose(list) != 0)
        kit_die_errno("write the addresses");
    char command[512];
    snprintf(command, sizeof command, "addr2line -f -e /proc/%d/exe < /proc/%d/fd/%d",
             (int)getpid(), (int)getpid(), input);
    FILE *lines = popen(command, "r");
    if (lines == NULL)
        kit_die_errno("run addr2line");
    char function[256], file[512];
    for (size_t i = 0;
         i < count && fgets(function, sizeof function, lines) && fgets(file, sizeof file, lines);
         i++) {
        function[strcspn(function, "\n")] = '\0';
        file[strcspn(file, " \n")] = '\0';
        const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
        bool kit_own = strstr(file, "/explore/") || strstr(file, "/common/") ||
                       strstr(file, "??") || strncmp(base, "runtime.c", 9) == 0;
        snprintf(places[i].where, sizeof places[i].where, "%s%.60s %.32s", kit_own ? "!" : "", base,
                 function);
    }
    if (pclose(lines) == -1)
        kit_die_errno("addr2line");
    close(input);
    return places;
}

/* Where in the program's own code a step was made: the first frame outside the runtime and
 * common/ ("race_counter.c:63 add_one"). */
static const char *place_of(const struct place *places, size_t count, const uintptr_t *frames)
{
    for (int f = 0; f < EXPLORE_FRAMES && frames[f] != 0; f++) {
        struct place key = {.address = frames[f]};
        const struct place *found = bsearch(&key, places, count, sizeof *places, by_address);
        if (found != NULL && found->where[0] != '!' && found->where[0] != '\0')
            return found->where;
    }
    return "";
}

static struct place *places_of_run(const struct explore_shared *shared, size_t *count)
{
    size_t most = ((size_t)shared->trace_count + EXPLORE_THREADS) * EXPLORE_FRAMES;
    uintptr_t *addresses = malloc(most * sizeof *addresses);
    if (addresses == NULL)
        kit_die_errno("malloc");
    size_t n = 0;
    for (uint32_t s = 0; s < shared->trace_count; s++)
        for (int f = 0; f < EXPLORE_FRAMES; f++)
            if (shared->trace[s].frames[f] != 0)
                addresses[n++] = shared->trace[s].frames[f];
    for (int t = 0; t < EXPLORE_THREADS; t++)
        for (int f = 0; f < EXPLORE_FRAMES; f++)
            if (shared->waiters[t].frames[f] != 0)
                addresses[n++] = shared->waiters[t].frames[f];
    struct place *places = symbolize(addresses, n);
    free(addresses);
    *count = n;
    return places;
}

/* ---- reporting a failure, replaying it ---- */

static void print_deadlock(const struct explore_shared *shared, const struct place *places,
                           size_t count)
{
    for (uint32_t t = 0; t < shared->threads; t++) {
        const struct explore_waiter *waiter = &shared->waiters[t];
        if (waiter->state == 2)
            printf("  T%u has ended\n", (unsigned)t);
        else if (waiter->wait == WAIT_JOIN)
            printf("  T%u waits for T%" PRIu32 " to end, at %s\n", (unsigned)t, waiter->object,
                   place_of(places, count, waiter->frames));
        else if (waiter->holder >= 0)
            printf("  T%u waits for %s #%" PRIu32 " held by T%d, at %s\n", (unsigned)t,
                   explore_wait_name(waiter->wait), waiter->object, waiter->holder,
                   place_of(places, count, waiter->frames));
        else
            printf("  T%u waits for %s #%" PRIu32 ", at %s\n", (unsigned)t,
                   explore_wait_name(waiter->wait), waiter->object,
                   place_of(places, count, waiter->frames));
    }
}

/* The trace drawn as an SVG timeline and a Perfetto JSON trace: one row per thread, one
 * step one millisecond wide on the axis (virtual: only the order is real). */
static void draw(const struct explore_shared *shared, const char *title)
{
    const char *svg_path = getenv("KIT_EXPLORE_SVG"), *json_path = getenv("KIT_EXPLORE_JSON");
    if (svg_path == NULL && json_path == NULL)
        return;
    struct trace *trace = trace_create(title, shared->threads);
    for (uint32_t t = 0; t < shared->threads; t++) {
        snprintf(trace->lane[t].name, sizeof trace->lane[t].name, t == 0 ? "T0 main" : "T%u",
                 (unsigned)t);
        trace->lane[t].tid = (int)t + 1;
    }
    for (uint32_t s = 0; s < shared->trace_count; s++) {
        struct trace_lane *lane = &trace->lane[shared->trace[s].thread];
        if (lane->count == TRACE_SPANS) {
            lane->dropped++;
            continue;
        }
        lane->spans[lane->count++] = (struct trace_span){
            .name = explore_op_name(shared->trace[s].op), .begin = s * 1e-3, .end = (s + 1) * 1e-3};
    }
    struct trace *const traces[] = {trace};
    const char *paths[] = {svg_path, json_path};
    for (int k = 0; k < 2; k++) {
        if (paths[k] == NULL)
            continue;
        FILE *out = fopen(paths[k], "w");
        if (out == NULL)
            kit_die_errno("open %s", paths[k]);
        (k == 0 ? trace_write_svg : trace_write_json)(out, traces, 1);
        if (fclose(out) != 0)
            kit_die_errno("write %s", paths[k]);
        printf("%s: %s\n", k == 0 ? "timeline (SVG)" : "trace (Perfetto JSON)", paths[k]);
    }
    trace_destroy(trace);
}

static void print_trace(const struct explore_shared *shared, const struct place *places,
                        size_t count)
{
    printf("step  thread  operation       object  value  where\n");
    for (uint32_t s = 0; s < shared->trace_count; s++) {
        const struct explore_step *step = &shared->trace[s];
        char object[16] = "", value[24] = "";
        if (step->object != 0)
            snprintf(object, sizeof object, "#%" PRIu32, step->object);
        if (step->has_value && step->op == OP_CREATE)
            snprintf(value, sizeof value, "T%" PRId64, step->value);
        else if (step->has_value && (step->value > (1LL << 40) || step->value < -(1LL << 40)))
            snprintf(value, sizeof value, "(ptr)"); /* an address: not the same from run to run */
        else if (step->has_value)
            snprintf(value, sizeof value, "%" PRId64, step->value);
        printf("%4" PRIu32 "  T%-5u  %-14s  %-6s  %-5s  %s\n", step->decision,
               (unsigned)step->thread, explore_op_name(step->op), object, value,
               place_of(places, count, step->frames));
    }
}

/* Run @p schedule again with tracing on; print its trace when @p verbose, its deadlock when it
 * has one, and draw it. */
static struct outcome replay(struct explorer *explorer, const char *schedule, bool verbose)
{
    struct explore_shared *shared = explorer->shared;
    if (!parse_schedule(schedule, shared)) {
        fprintf(stderr, "explore: schedule '%s': expected T<thread>@<decision>,... or -\n",
                schedule);
        exit(2);
    }
    shared->tracing = true;
    shared->pct_seed = 0;
    struct outcome outcome = run_once(explorer);
    shared->tracing = false;
    size_t count;
    struct place *places = places_of_run(shared, &count);
    if (verbose) {
        printf("replay of schedule %s: %d preemption%s, %" PRIu32 " decisions, %" PRIu32
               " steps traced\n",
               schedule, preemptions_of(shared), preemptions_of(shared) == 1 ? "" : "s",
               shared->steps, shared->trace_count);
        print_trace(shared, places, count);
        printf("program output:\n%s", explorer->output_text);
        draw(shared, schedule);
    }
    if (shared->end == END_DEADLOCK)
        print_deadlock(shared, places, count);
    free(places);
    return outcome;
}

static _Noreturn void report_failure(struct explorer *explorer, const struct outcome *outcome,
                                     const char *what)
{
    char schedule[4096];
    schedule_of(explorer->shared, schedule, sizeof schedule);
    int preemptions = preemptions_of(explorer->shared);
    printf("FAILED: %s (%d preemption%s): %s\n", what, preemptions, preemptions == 1 ? "" : "s",
           outcome->why);
    if (explorer->shared->end == END_DEADLOCK)
        replay(explorer, schedule, false); /* again with tracing: where each thread waits */
    printf("schedule: %s\n", schedule);
    printf("replay it step by step: %s REPLAY=%s\n",
           env_or("KIT_EXPLORE_COMMAND", "KIT_EXPLORE=replay KIT_EXPLORE_SCHEDULE=... PROGRAM"),
           schedule);
    fflush(stdout);
    exit(1);
}

/* The rate a bare fork, exit and wait allows on this machine now, measured: the ceiling of
 * interleavings a second, since each runs in a fork of its own. */
static double forks_a_second(void)
{
    enum { FORKS = 20 };
    double start = kit_now();
    for (int i = 0; i < FORKS; i++) {
        pid_t child = fork();
        if (child == -1)
            kit_die_errno("fork");
        if (child == 0)
            _exit(0);
        while (waitpid(child, NULL, 0) == -1)
            if (errno != EINTR)
                kit_die_errno("waitpid");
    }
    return FORKS / (kit_now() - start);
}

static void print_rate(const struct explorer *explorer)
{
    double seconds = kit_now() - explorer->started;
    printf("%ld runs in %.2f s: %.0f a second (a bare fork and wait, the ceiling: %.0f a second)\n",
           explorer->runs, seconds, seconds > 0 ? explorer->runs / seconds : 0.0, forks_a_second());
}

/* ---- the searches ---- */

static int cost(const struct explore_choice *choice, unsigned thread)
{
    return choice->current_enabled && thread != choice->current;
}

static bool out_of_budget(struct explorer *explorer)
{
    if (explorer->runs >= explorer->max_runs ||
        kit_now() - explorer->started > explorer->max_seconds)
        explorer->capped = true;
    return explorer->capped;
}

/* Every run with at most @p bound preemptions, depth first; counts[c] += the runs with exactly
 * c preemptions when c == bound (the smaller ones were counted by the passes before). */
static void search(struct explorer *explorer, int bound, long *counted)
{
    struct explore_shared *shared = explorer->shared;
    struct frame *frames = explorer->frames;
    uint32_t depth = 0, prefix = 0;
    for (;;) {
        if (out_of_budget(explorer))
            return;
        shared->forced_count = prefix < EXPLORE_FORCED ? prefix : EXPLORE_FORCED;
        for (uint32_t i = 0; i < shared->forced_count; i++)
            shared->forced[i] = (struct explore_forced){.step = frames[i].choice.step,
                                                        .thread = frames[i].choice.chosen};
        struct outcome outcome = run_once(explorer);
        if (outcome.failed) {
            char what[64];
            snprintf(what, sizeof what, "run %ld", explorer->runs);
            report_failure(explorer, &outcome, what);
        }
        if (shared->visibility_changed) { /* the tree has other choice points: again */
            *counted = 0;
            depth = prefix = 0;
            continue;
        }
        if (preemptions_of(shared) == bound)
            (*counted)++;
        depth = prefix;
        int before = depth > 0
                         ? frames[depth - 1].preemptions_before +
                               cost(&frames[depth - 1].choice, frames[depth - 1].choice.chosen)
                         : 0;
        for (uint32_t c = depth; c < shared->choice_count; c++, depth++) {
            frames[c] = (struct frame){.choice = shared->choices[c],
                                       .tried = 1u << shared->choices[c].chosen,
                                       .preemptions_before = before};
            before += cost(&frames[c].choice, frames[c].choice.chosen);
        }
        /* Backtrack: the deepest choice point with an untried thread within the bound. */
        bool found = false;
        while (depth > 0 && !found) {
            struct frame *frame = &frames[depth - 1];
            for (unsigned t = 0; t < EXPLORE_THREADS && !found; t++) {
                uint32_t bit = 1u << t;
                if ((frame->choice.enabled & bit) && !(frame->tried & bit) &&
                    frame->preemptions_before + cost(&frame->choice, t) <= bound) {
                    frame->tried |= bit;
                    frame->choice.chosen = (uint8_t)t;
                    found = true;
                }
            }
            if (!found)
                depth--;
        }
        if (!found)
            return;
        prefix = depth;
    }
}

static void explore_dfs(struct explorer *explorer, const char *command)
{
    int bound = (int)env_long("KIT_EXPLORE_BOUND", 2, 0, BOUND_MAX);
    printf("explore: %s: every interleaving with up to %d preemption%s, depth first\n", command,
           bound, bound == 1 ? "" : "s");
    long total = 0;
    int reached = -1;
    for (int c = 0; c <= bound && !explorer->capped; c++) {
        long counted = 0;
        search(explorer, c, &counted);
        total += counted;
        reached = c;
        printf("  %d preemption%s: %ld interleaving%s%s\n", c, c == 1 ? " " : "s", counted,
               counted == 1 ? "" : "s", explorer->capped ? " (cut short by the cap)" : "");
    }
    if (explorer->capped) {
        printf("explored %ld interleavings with up to %d preemptions: all passed, but the cap "
               "(%ld runs or %.0f s) ended the search: not every one was run\n",
               total, reached, explorer->max_runs, explorer->max_seconds);
    } else {
        printf("explored %ld interleavings with up to %d preemptions: all passed\n", total, bound);
    }
    printf("note: no failure within this bound, for these options; a bug that needs more "
           "preemptions, more threads or other inputs may remain (no proof beyond the bound)\n");
    print_rate(explorer);
    exit(0);
}

static void explore_random(struct explorer *explorer, const char *command)
{
    struct explore_shared *shared = explorer->shared;
    long seed = env_long("KIT_EXPLORE_SEED", 1, 1, 1000000000);
    long runs = env_long("KIT_EXPLORE_RUNS", 1000, 1, 10000000);
    int depth = (int)env_long("KIT_EXPLORE_DEPTH", 3, 1, 9);
    shared->forced_count = 0;
    struct outcome outcome = run_once(explorer); /* the default run: how many decisions */
    if (outcome.failed)
        report_failure(explorer, &outcome, "the default interleaving");
    shared->pct_steps = shared->steps;
    shared->pct_depth = (uint32_t)depth;
    printf("explore: %s: %ld random interleavings (PCT, depth %d, seed %ld)\n", command, runs,
           depth, seed);
    uint64_t state = (uint64_t)seed;
    long done = 0;
    for (; done < runs && !out_of_budget(explorer); done++) {
        state += 0x9E3779B97F4A7C15u;
        shared->pct_seed = state | 1;
        outcome = run_once(explorer);
        if (outcome.failed) {
            char what[64];
            snprintf(what, sizeof what, "random interleaving %ld of seed %ld", done + 1, seed);
            report_failure(explorer, &outcome, what);
        }
    }
    printf("explored %ld random interleavings: all passed%s\n", done,
           explorer->capped ? ", but the cap ended the search" : "");
    printf("note: random runs find likely bugs fast; they prove nothing about the runs not "
           "drawn\n");
    print_rate(explorer);
    exit(0);
}

void explore_main(int argc, char **argv)
{
    /* A symbol the dynamic linker binds lazily, at its first call, would be bound again in
     * every run (each a fresh fork of this process, the binding's pages faulted in anew):
     * started again with LD_BIND_NOW, every symbol is bound once, here. */
    if (getenv("LD_BIND_NOW") == NULL) {
        if (setenv("LD_BIND_NOW", "1", 1) == -1)
            kit_die_errno("setenv");
        execv("/proc/self/exe", argv);
        kit_die_errno("execv /proc/self/exe");
    }
    struct explorer explorer = {0};
    explorer.shared = shared_memory(sizeof *explorer.shared);
    explorer.frames = shared_memory(EXPLORE_CHOICES * sizeof *explorer.frames);
    explorer.output = memfd_create("explore-output", 0);
    if (explorer.output == -1)
        kit_die_errno("memfd_create");
    explorer.max_runs = env_long("KIT_EXPLORE_MAX_RUNS", 200000, 1, 100000000);
    explorer.max_seconds = (double)env_long("KIT_EXPLORE_SECONDS", 120, 1, 86400);
    explorer.started = kit_now();

    map_code_for_the_runs();
    if (setjmp(into_main) != 0)
        return; /* a run: main comes next */
    char command[512] = "";
    for (int i = 0, used = 0; i < argc && used < (int)sizeof command - 1; i++) {
        const char *base = i == 0 && strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[i];
        used += snprintf(command + used, sizeof command - (size_t)used, "%s%s", i ? " " : "", base);
    }
    const char *mode = getenv("KIT_EXPLORE");
    struct outcome outcome;
    if (strcmp(mode, "dfs") == 0)
        explore_dfs(&explorer, command);
    if (strcmp(mode, "random") == 0)
        explore_random(&explorer, command);
    if (strcmp(mode, "replay") != 0) {
        fprintf(stderr, "explore: KIT_EXPLORE=%s: expected dfs, random or replay\n", mode);
        exit(2);
    }
    if (getenv("KIT_EXPLORE_SCHEDULE") == NULL) {
        fprintf(stderr, "explore: KIT_EXPLORE=replay needs KIT_EXPLORE_SCHEDULE\n");
        exit(2);
    }
    outcome = replay(&explorer, getenv("KIT_EXPLORE_SCHEDULE"), true);
    if (explorer.shared->end == END_DIVERGED)
        printf("note: this schedule does not fit this program and options\n");
    printf("%s%s\n", outcome.failed ? "FAILED: " : "OK: this interleaving passes",
           outcome.failed ? outcome.why : "");
    exit(outcome.failed ? 1 : 0);
}
