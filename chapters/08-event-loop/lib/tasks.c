/**
 * @file tasks.c
 * @brief State-machine tasks on the event loop: every wait is a loop callback that calls the step again.
 *
 * There is no scheduler beyond the loop itself. "Resume the task" is always the same thing:
 * call its step function. Each kind of wait just arranges for a loop callback to do that:
 * - sleep: a timer whose callback steps the task;
 * - a descriptor: a watch whose callback unwatches and steps the task;
 * - an event, or the end of gathered children: a timer of 0 seconds, which runs on the next
 *   round of the loop (asyncio's call_soon), so that a task finishing never runs its awaiter
 *   from inside its own step.
 */
#include "tasks.h"

#include "kit.h"

#include <stddef.h>

/* A task is done: wake the task gathering it once its last child is done. */
static void finish(struct task *task)
{
    task->done = true;
    struct task *awaiter = task->awaiter;
    if (awaiter != NULL && --awaiter->children_pending == 0)
        task_sleep(awaiter, 0, awaiter->resume_at);
}

/* Resume a task: one call of its step function, from where it stopped. */
static void step(struct task *task)
{
    if (task->step(task) == TASK_DONE)
        finish(task);
}

static void step_after_timer(struct ev_loop *loop, void *data)
{
    (void)loop;
    step(data);
}

static void step_when_ready(struct ev_loop *loop, int fd, unsigned events, void *data)
{
    struct task *task = data;
    ev_unwatch(loop, fd); /* one wait, one wake-up: the next await watches again if needed */
    task->ready_events = events;
    step(task);
}

void task_start(struct ev_loop *loop, struct task *task, task_step_fn *step_fn)
{
    *task = (struct task){.loop = loop, .step = step_fn};
    task_sleep(task, 0, 0); /* the first step, on the next round */
}

enum task_status task_sleep(struct task *task, double seconds, int resume_at)
{
    task->resume_at = resume_at;
    if (ev_after(task->loop, seconds, step_after_timer, task) == NULL)
        kit_die_errno("ev_after %.3f s for a task", seconds);
    return TASK_WAITING;
}

enum task_status task_wait_fd(struct task *task, int fd, unsigned events, int resume_at)
{
    task->resume_at = resume_at;
    if (ev_watch(task->loop, fd, events, step_when_ready, task) == -1)
        kit_die_errno("ev_watch fd %d for a task", fd);
    return TASK_WAITING;
}

enum task_status task_gather(struct task *task, struct task *const children[], int count,
                             int resume_at)
{
    task->children_pending = 0;
    for (int i = 0; i < count; i++) {
        if (children[i]->done)
            continue;
        if (children[i]->awaiter != NULL)
            kit_die("task_gather: a child task is already gathered by another task");
        children[i]->awaiter = task;
        task->children_pending++;
    }
    if (task->children_pending == 0) /* all done already: go on, on the next round */
        return task_sleep(task, 0, resume_at);
    task->resume_at = resume_at;
    return TASK_WAITING;
}

enum task_status task_wait_event(struct task *task, struct task_event *event, int resume_at)
{
    if (event->is_set)
        return task_sleep(task, 0, resume_at);
    task->resume_at = resume_at;
    task->next_waiter = NULL;
    if (event->last_waiter == NULL)
        event->first_waiter = task;
    else
        event->last_waiter->next_waiter = task;
    event->last_waiter = task;
    return TASK_WAITING;
}

void task_event_set(struct task_event *event)
{
    event->is_set = true;
    struct task *waiter = event->first_waiter;
    event->first_waiter = event->last_waiter = NULL;
    while (waiter != NULL) {
        struct task *next = waiter->next_waiter; /* read before the wake-up is arranged */
        task_sleep(waiter, 0, waiter->resume_at);
        waiter = next;
    }
}

int task_run(struct task *main_task, task_step_fn *step_fn)
{
    struct ev_loop *loop = ev_loop_create();
    if (loop == NULL)
        return -1;
    task_start(loop, main_task, step_fn);
    int status = ev_run(loop);
    ev_loop_free(loop);
    if (status == 0 && !main_task->done)
        kit_die("the main task never finished: a step returned TASK_WAITING without waiting "
                "for anything (resume_at %d)",
                main_task->resume_at);
    return status;
}

enum task_status task_bad_state(const struct task *task)
{
    kit_die("a task's step function has no case for resume_at %d", task->resume_at);
}
