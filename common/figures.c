/**
 * @file figures.c
 * @brief The kit's one notation for a ratio of two times: "x1.93 faster", "x30.21 slower";
 *        and the ceiling a CPU-bound speedup is shown beside, measured in the same run.
 */
#include "kit.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>

const char *kit_ratio_text(double times_faster, char text[32])
{
    if (!(times_faster > 0)) /* zero, negative or NaN: no ratio to speak of */
        snprintf(text, 32, "x? (not measurable)");
    else if (times_faster >= 1)
        snprintf(text, 32, "x%.2f faster", times_faster);
    else
        snprintf(text, 32, "x%.2f slower", 1 / times_faster);
    return text;
}

/* ---- the ceiling of a CPU-bound speedup, measured in the same run -------------------------- */

struct copy {
    pthread_t thread;
    pthread_barrier_t *start;
    void (*work)(void *arg, int copy);
    void *arg;
    int index;
};

static void *run_copy(void *arg)
{
    struct copy *copy = arg;
    kit_barrier_wait(copy->start);
    copy->work(copy->arg, copy->index);
    return NULL;
}

double kit_time_copies(int copies, void (*work)(void *arg, int copy), void *arg)
{
    enum { MAX_COPIES = 64 };
    if (copies < 1 || copies > MAX_COPIES)
        kit_die("kit_time_copies: %d copies (1 to %d)", copies, MAX_COPIES);
    struct copy each[MAX_COPIES];
    pthread_barrier_t start;
    KIT_CHECK_EN(pthread_barrier_init(&start, NULL, (unsigned)copies + 1));
    for (int i = 0; i < copies; i++) {
        each[i] = (struct copy){.start = &start, .work = work, .arg = arg, .index = i};
        KIT_CHECK_EN(pthread_create(&each[i].thread, NULL, run_copy, &each[i]));
    }
    kit_barrier_wait(&start); /* every copy is ready: the clock starts as they are let go */
    double began = kit_now();
    for (int i = 0; i < copies; i++)
        KIT_CHECK_EN(pthread_join(each[i].thread, NULL));
    double seconds = kit_seconds_since(began);
    KIT_CHECK_EN(pthread_barrier_destroy(&start));
    return seconds;
}

double kit_print_ceiling(int copies, double baseline_seconds, double copies_seconds)
{
    double ceiling = copies * baseline_seconds / copies_seconds;
    char ratio[32];
    printf("ceiling: %s (%d cop%s of the baseline's work%s took %.3f s, the baseline %.3f s: "
           "what %d CPU%s gave in this run)\n",
           kit_ratio_text(ceiling, ratio), copies, copies == 1 ? "y" : "ies",
           copies == 1 ? "" : " at once", copies_seconds, baseline_seconds, copies,
           copies == 1 ? "" : "s");
    /* Alone on the machine, K copies at once take as long as one: a ceiling near xK. Well under
     * it, other programs had the CPUs, and no way of running the work in parallel could gain. */
    if (copies >= 2 && ceiling < 0.75 * copies)
        printf("note: other programs kept these CPUs busy: the ceiling, %d copies of the work at "
               "once against one, came out %s (on %d idle CPUs, about x%d faster), so nothing "
               "run in parallel could gain more: the speedups here show the machine's load, not "
               "what threads or processes can do. Run it again when the machine is idle\n",
               copies, ratio, copies, copies);
    else if (round(ceiling * 100) > copies * 100)
        printf("note: a ceiling above x%d is more than %d CPU%s can give: the baseline's fastest "
               "round was still slowed (by other programs, or by cold caches and page faults in "
               "a first run), and that flatters every speedup here as much\n",
               copies, copies, copies == 1 ? "" : "s");
    return ceiling;
}

void kit_note_above_ceiling(const char *contender, double speedup, double ceiling)
{
    if (round(speedup * 100) <= round(ceiling * 100))
        return;
    char ratio[32], limit[32];
    printf("note: %s %s is above the ceiling (%s): the rounds were not disturbed alike (others "
           "took more CPU time in the copies' fastest round than in this one, or slowed the "
           "baseline's), so it is not what the machine gives\n",
           contender, kit_ratio_text(speedup, ratio), kit_ratio_text(ceiling, limit));
}
