/**
 * @file tasks_gather.c
 * @brief Three tasks that each sleep "2 s" finish together in about one sleep, not three: gather.
 *
 * What to look for: the Python classic, in C on chapter 08's loop.
 *
 *     async def count(): print("One"); await asyncio.sleep(2); print("Two")
 *     async def main(): await asyncio.gather(count(), count(), count())
 *
 * 1. The main task awaits three sleepers one after another, then all three with task_gather():
 *    one after another takes three sleeps, gathered takes one (`x2.99 faster`). While a task
 *    sleeps it holds no thread: it is a frame and a timer, and the loop runs the others.
 * 2. say_hello and print_numbers x2, gathered: their lines interleave in time order,
 *    `Hello 1 1 2 2 World 3 3`, on one thread. One task at a time runs, each until its next
 *    await; nothing runs "in parallel", and nothing needs a lock.
 *
 * The "2 s" sleep is scaled down to 0.2 s by default; --real uses 2 s, --sleep picks another.
 * Each task is a state machine (lib/tasks.h): a switch on where it resumes, the shape that
 * Python's compiler gives a coroutine. The program checks its own figures and order:
 * `OK: ...` or `FAILED: ...`.
 *
 * See also: blocking_pitfall.c (one blocking call stalls them all), tasks_vs_threads.c.
 *
 * Usage: tasks_gather [-n N] [-s SECONDS | --real]
 */
#include "kit.h"
#include "lib/tasks.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: tasks_gather [options]\n"
    "Tasks that each sleep \"2 s\" (scaled down) run one after another, then gathered.\n"
    "  -n, --tasks=N       sleeping tasks, 2 to 10 (default 3)\n"
    "  -s, --sleep=SECONDS each task's sleep, 0.01 to 2 (default 0.2: the \"2 s\" scaled down)\n"
    "      --real          sleep the real 2 s (the same as --sleep=2)\n"
    "  -h, --help          show this help and exit\n";

enum { MAX_SLEEPERS = 10, MAX_WORDS = 16 };

/* What the tasks print is also logged, to check the interleaving at the end. */
static double start_time;
static const char *words[MAX_WORDS];
static int word_count;

static void say(const char *who, const char *word)
{
    printf("  [%5.3f s] %-10s %s\n", kit_seconds_since(start_time), who, word);
    if (word_count < MAX_WORDS)
        words[word_count++] = word;
}

/* ---- part 1: async def count(): print("One"); await asyncio.sleep(S); print("Two") ---------- */
struct sleeper {
    struct task task; /* first: the frame is a task */
    char name[24];
    double seconds;
};

static enum task_status count(struct task *task)
{
    struct sleeper *self = (struct sleeper *)task;
    enum { START, AFTER_SLEEP };
    switch (task->resume_at) {
    case START:
        printf("  [%5.3f s] %-10s One\n", kit_seconds_since(start_time), self->name);
        return task_sleep(task, self->seconds, AFTER_SLEEP); /* await asyncio.sleep(S) */
    case AFTER_SLEEP:
        printf("  [%5.3f s] %-10s Two\n", kit_seconds_since(start_time), self->name);
        return TASK_DONE;
    }
    return task_bad_state(task);
}

/* ---- part 2: say_hello and print_numbers ------------------------------------------------------- */
struct speaker {
    struct task task;
    const char *name;
    double pause; /* seconds between two words */
    int number;   /* print_numbers: the next number to print */
};

static enum task_status say_hello(struct task *task)
{
    struct speaker *self = (struct speaker *)task;
    enum { START, AFTER_SLEEP };
    switch (task->resume_at) {
    case START: say(self->name, "Hello"); return task_sleep(task, self->pause, AFTER_SLEEP);
    case AFTER_SLEEP: say(self->name, "World"); return TASK_DONE;
    }
    return task_bad_state(task);
}

static enum task_status print_numbers(struct task *task)
{
    static const char *const digits[] = {"1", "2", "3"};
    struct speaker *self = (struct speaker *)task;
    enum { START, NEXT_NUMBER };
    switch (task->resume_at) {
    case START: /* for number in 1, 2, 3: print(number); await asyncio.sleep(pause) */
        self->number = 1;
        /* fall through */
    case NEXT_NUMBER:
        say(self->name, digits[self->number - 1]);
        if (++self->number > 3)
            return TASK_DONE;
        return task_sleep(task, self->pause, NEXT_NUMBER);
    }
    return task_bad_state(task);
}

/* ---- main: one after another, then gathered, then the interleaving ----------------------------- */
struct main_task {
    struct task task;
    int sleeper_count, next;
    double sleep_seconds, started, one_by_one, gathered, interleaved;
    struct sleeper sleepers[MAX_SLEEPERS];
    struct task *children[MAX_SLEEPERS];
    struct speaker hello, numbers[2];
};

static enum task_status main_step(struct task *task)
{
    struct main_task *self = (struct main_task *)task;
    enum { START, ONE_BY_ONE, GATHER, GATHERED, INTERLEAVED };
    switch (task->resume_at) {
    case START:
        printf("1. %d tasks sleep %.2f s each, awaited one after another:\n", self->sleeper_count,
               self->sleep_seconds);
        self->next = 0;
        start_time = self->started = kit_now();
        /* fall through */
    case ONE_BY_ONE: /* for each: await count() */
        if (self->next < self->sleeper_count) {
            struct task *child = &self->sleepers[self->next++].task;
            task_start(task->loop, child, count);
            return task_gather(task, &child, 1, ONE_BY_ONE);
        }
        self->one_by_one = kit_seconds_since(self->started);
        printf("   one after another: %.3f s\n", self->one_by_one);
        /* fall through */
    case GATHER: /* await asyncio.gather(count(), count(), count()) */
        printf("   the same %d tasks, gathered:\n", self->sleeper_count);
        start_time = self->started = kit_now();
        for (int i = 0; i < self->sleeper_count; i++) {
            self->children[i] = &self->sleepers[i].task;
            task_start(task->loop, self->children[i], count);
        }
        return task_gather(task, self->children, self->sleeper_count, GATHERED);
    case GATHERED:
        self->gathered = kit_seconds_since(self->started);
        printf("   gathered: %.3f s\n", self->gathered);
        printf("2. say_hello (pause %.2f s) and print_numbers x2 (pause %.2f s), gathered:\n",
               self->hello.pause, self->numbers[0].pause);
        start_time = self->started = kit_now();
        task_start(task->loop, &self->hello.task, say_hello);
        task_start(task->loop, &self->numbers[0].task, print_numbers);
        task_start(task->loop, &self->numbers[1].task, print_numbers);
        self->children[0] = &self->hello.task;
        self->children[1] = &self->numbers[0].task;
        self->children[2] = &self->numbers[1].task;
        return task_gather(task, self->children, 3, INTERLEAVED);
    case INTERLEAVED: self->interleaved = kit_seconds_since(self->started); return TASK_DONE;
    }
    return task_bad_state(task);
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"tasks", required_argument, NULL, 'n'},
        {"sleep", required_argument, NULL, 's'},
        {"real", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct main_task program = {.sleeper_count = 3, .sleep_seconds = 0.2};

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "n:s:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'n': program.sleeper_count = (int)kit_parse_long("--tasks", optarg, 2, 10); break;
        case 's': program.sleep_seconds = kit_parse_double("--sleep", optarg, 0.01, 2); break;
        case 'r': program.sleep_seconds = 2; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    for (int i = 0; i < program.sleeper_count; i++) {
        snprintf(program.sleepers[i].name, sizeof program.sleepers[i].name, "count %d", i + 1);
        program.sleepers[i].seconds = program.sleep_seconds;
    }
    /* World is due after two pauses of print_numbers. Sleeps count from the loop's clock
     * (lib/tasks.h), so the three start in one round, the 2s come a pause later, and World
     * and the 3s fall due together, World first (its timer was set first): the order is
     * fixed, however late the timers fire. */
    program.hello = (struct speaker){.name = "say_hello", .pause = program.sleep_seconds / 2};
    program.numbers[0] = (struct speaker){.name = "numbers A", .pause = program.sleep_seconds / 4};
    program.numbers[1] = (struct speaker){.name = "numbers B", .pause = program.sleep_seconds / 4};

    start_time = kit_now();
    if (task_run(&program.task, main_step) == -1)
        kit_die_errno("task_run");

    bool ok = true;
    double speedup = program.one_by_one / program.gathered;
    if (speedup >= program.sleeper_count / 2.0) {
        printf("OK: %d sleeps of %.2f s gathered took %.3f s, about one sleep: x%.2f faster than "
               "one after another (%.3f s)\n",
               program.sleeper_count, program.sleep_seconds, program.gathered, speedup,
               program.one_by_one);
    } else {
        printf("FAILED: %d sleeps of %.2f s gathered took %.3f s, only x%.2f faster than one after "
               "another (%.3f s): they did not overlap\n",
               program.sleeper_count, program.sleep_seconds, program.gathered, speedup,
               program.one_by_one);
        ok = false;
    }

    static const char *const expected[] = {"Hello", "1", "1", "2", "2", "World", "3", "3"};
    enum { EXPECTED_WORDS = sizeof expected / sizeof expected[0] };
    char got[128] = "";
    for (int i = 0; i < word_count; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? " " : "", words[i]);
    bool interleaved = word_count == EXPECTED_WORDS;
    for (int i = 0; interleaved && i < EXPECTED_WORDS; i++)
        interleaved = strcmp(words[i], expected[i]) == 0;
    if (interleaved) {
        printf("OK: say_hello and print_numbers x2 interleaved: %s, in %.3f s on one thread\n", got,
               program.interleaved);
    } else {
        printf("FAILED: expected the words in the order Hello 1 1 2 2 World 3 3, got %s\n", got);
        ok = false;
    }
    return ok ? 0 : 1;
}
