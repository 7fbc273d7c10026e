/**
 * @file tasks.h
 * @brief Tasks that wait and resume on chapter 08's event loop: coroutines written as state machines.
 *
 * A Python coroutine reads top to bottom and pauses at each `await`:
 *
 *     async def say_hello():
 *         print("Hello")
 *         await asyncio.sleep(1)
 *         print("World")
 *
 * C has no `await`, so a task here is what the Python compiler turns that function into: a
 * *step function* that runs from where the task last stopped until it must wait, and a *frame*,
 * a struct that keeps what must survive the wait (the locals) and where to go on next time
 * (`resume_at`). The step function is a switch on `resume_at`; each `await` is a call that
 * arranges the wake-up and returns TASK_WAITING, with the case to resume at:
 *
 *     enum { START, AFTER_SLEEP };
 *     static enum task_status say_hello(struct task *task)
 *     {
 *         switch (task->resume_at) {
 *         case START:
 *             puts("Hello");
 *             return task_sleep(task, 1.0, AFTER_SLEEP);   // await asyncio.sleep(1)
 *         case AFTER_SLEEP:
 *             puts("World");
 *             return TASK_DONE;
 *         }
 *         return task_bad_state(task);
 *     }
 *
 * A task with locals embeds `struct task` as its first member and casts back
 * (`struct greeter *self = (struct greeter *)task;`): that struct is the coroutine's frame,
 * the only memory a waiting task holds. No stack per task, no thread per task.
 *
 * Python counterparts: task_run() is asyncio.run(), task_start() is asyncio.create_task(),
 * task_sleep() is `await asyncio.sleep()`, task_gather() is `await asyncio.gather()`,
 * task_wait_event() / task_event_set() are asyncio.Event's wait() and set(), and
 * task_wait_fd() is what asyncio's streams do under `await reader.read()`.
 *
 * Failures (out of memory for a timer, a descriptor epoll refuses) end the program with a
 * message: these tasks are for the chapter's demonstrations; a server uses the loop directly.
 * Nothing here is thread-safe: every task runs on the loop's one thread.
 */
#ifndef TASKS_H
#define TASKS_H

#include "event_loop.h"

#include <stdbool.h>

/** What a step function returns: it waits for something (an await), or it has finished. */
enum task_status { TASK_WAITING, TASK_DONE };

struct task;

/** A task's body: runs from `task->resume_at` until it waits again (returning what the waiting
 *  call returned) or finishes (TASK_DONE). Returning TASK_WAITING without a waiting call leaves
 *  the task asleep for good: nothing would wake it. */
typedef enum task_status task_step_fn(struct task *task);

/** The part of a task's frame the scheduler uses. Put it first in your own frame struct. */
struct task {
    int resume_at;         /**< where the step function goes on: 0 on the first step */
    struct ev_loop *loop;  /**< the loop the task runs on */
    unsigned ready_events; /**< after task_wait_fd(): what the descriptor was ready for */
    /* Below: the scheduler's bookkeeping, not for the step function. */
    task_step_fn *step;
    bool done;
    struct task *awaiter;     /* the task gathering this one, if any */
    int children_pending;     /* in task_gather(): children not yet done */
    struct task *next_waiter; /* in a task_event's queue */
};

/** An asyncio.Event: tasks wait for it until someone sets it. Zero-initialise it. */
struct task_event {
    bool is_set;
    struct task *first_waiter, *last_waiter; /* queue of waiting tasks, woken in order */
};

/** asyncio.run(): a new loop, @p main_task started on it, run until no task or callback is
 *  left, then the loop is freed. Returns 0, or -1 with errno set if the loop failed. */
int task_run(struct task *main_task, task_step_fn *step);

/** asyncio.create_task(): @p task's first step runs on the next round of @p loop. The frame
 *  (the memory of @p task) is the caller's and must live until the task is done. */
void task_start(struct ev_loop *loop, struct task *task, task_step_fn *step);

/** `await asyncio.sleep(seconds)`: resume at @p resume_at, @p seconds after the start of the
 *  loop's current round (ev_now(), as libuv counts its timers; asyncio counts from the moment
 *  of the call, which is later by however long the round has run so far). So tasks that run
 *  in the same round and sleep the same time wake in the same round, in the order they went
 *  to sleep, however busy the machine: their order is fixed, not a matter of luck. Cost: one
 *  timer, O(log n) in the timers pending. */
enum task_status task_sleep(struct task *task, double seconds, int resume_at);

/** Wait until @p fd is ready for @p events (EV_READ and/or EV_WRITE), then resume at
 *  @p resume_at with task->ready_events set (EV_ERROR included if the peer hung up). The
 *  descriptor must not be watched by anyone else meanwhile. */
enum task_status task_wait_fd(struct task *task, int fd, unsigned events, int resume_at);

/** `await asyncio.gather(*children)`: resume at @p resume_at once every one of the @p count
 *  started tasks in @p children is done (on the next round if all already are). A child can be
 *  gathered by one task only. */
enum task_status task_gather(struct task *task, struct task *const children[], int count,
                             int resume_at);

/** `await event.wait()`: resume at @p resume_at once @p event is set (next round if it is). */
enum task_status task_wait_event(struct task *task, struct task_event *event, int resume_at);

/** `event.set()`: every task waiting for @p event resumes on the next round, in the order
 *  they began to wait. Cost: one timer per waiting task. */
void task_event_set(struct task_event *event);

/** For the end of a step function's switch: a `resume_at` with no case is a bug; this ends
 *  the program saying so. */
enum task_status task_bad_state(const struct task *task);

#endif /* TASKS_H */
