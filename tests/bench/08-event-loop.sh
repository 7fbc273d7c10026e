# Chapter 08, the event loop: rows for tests/bench/run (sourced; its bench_* functions are in scope).
# 1. tasks_vs_threads: 10,000 waiting tasks against 10,000 waiting threads, side by side in one
#    run: start-up time and RSS growth of each, per waiter, and the two ratios. Targets: tasks
#    take at least x10 less memory and start at least x5 faster (measured here: about x55 and
#    x30 to x80). The threads' virtual size and kernel stacks are shown under them, no target.
# 2. tasks_gather: three gathered sleeps of 0.2 s against the same three one after another
#    (target >= x2.5, ideally x3).
# 3. blocking_pitfall: how late the other tasks' timers fired (less the time the loop waited for
#    a CPU that other programs held) while one task made a blocking
#    call of 200 ms, and with the call awaited instead (figures, no target).

# The number right after "$2" on the first line of BENCH_OUT that matches $1.
loop_number_after() {
    grep -m1 -E -- "$1" <<<"$BENCH_OUT" | sed -nE "s/.*$2 *x?([0-9]+(\.[0-9]+)?).*/\1/p"
}

# The figure with its unit ("8.2 KB") right after "$2" on the first line matching $1.
loop_figure_after() {
    grep -m1 -E -- "$1" <<<"$BENCH_OUT" | sed -nE "s/.*$2 *([0-9]+(\.[0-9]+)? [KMG]?B).*/\1/p"
}

loop_task_us='' loop_thread_us='' loop_task_rss='' loop_thread_rss='' loop_thread_virt=''
loop_kernel='' loop_memory_ratio='' loop_startup_ratio=''
if bench_run chapters/08-event-loop tasks_vs_threads --count=10000; then
    loop_task_us=$(loop_number_after 'us per task' '\(')
    loop_thread_us=$(loop_number_after 'us per thread' '\(')
    loop_task_rss=$(loop_figure_after '^   RSS: .*per task' '\(')
    loop_thread_rss=$(loop_figure_after '^   RSS: .*per thread' '\(')
    loop_thread_virt=$(loop_figure_after '^   RSS: .*per thread' 'virtual: \+')
    loop_kernel=$(loop_figure_after '^   kernel stacks' 'stacks: \+')
    loop_memory_ratio=$(loop_number_after '^OK: ' 'took')
    loop_startup_ratio=$(loop_number_after '^OK: ' 'started')
fi
bench_row "10,000 waiting tasks: start-up per task" "${loop_task_us:+$loop_task_us us}" "-" "-"
bench_row "10,000 waiting threads: start-up per thread" "${loop_thread_us:+$loop_thread_us us}" \
    "-" "-"
bench_row "10,000 waiting tasks: RSS per task" "$loop_task_rss" "-" "-"
bench_row "10,000 waiting threads: RSS per thread" "$loop_thread_rss" "-" "-"
bench_row "  threads' virtual size (stacks), kernel stacks" \
    "${loop_thread_virt:+$loop_thread_virt, $loop_kernel}" "-" "-"
bench_row "tasks vs threads: memory (RSS)" "${loop_memory_ratio:+x$loop_memory_ratio less}" \
    ">= x10" "$(bench_at_least "$loop_memory_ratio" 10)"
bench_row "tasks vs threads: start-up" "${loop_startup_ratio:+x$loop_startup_ratio faster}" \
    ">= x5" "$(bench_at_least "$loop_startup_ratio" 5)"

loop_gather=''
if bench_run chapters/08-event-loop tasks_gather; then
    loop_gather=$(loop_number_after '^OK: 3 sleeps' 'one sleep:')
fi
bench_row "3 sleeps of 0.2 s: gathered vs one after another" \
    "${loop_gather:+x$loop_gather faster}" ">= x2.5" "$(bench_at_least "$loop_gather" 2.5)"

loop_blocked='' loop_awaited=''
if bench_run chapters/08-event-loop blocking_pitfall --mode=blocking; then
    loop_blocked=$(loop_number_after '^BROKEN: ' 'up to')
fi
if bench_run chapters/08-event-loop blocking_pitfall --mode=await; then
    loop_awaited=$(loop_number_after '^OK: ' 'at most')
fi
bench_row "timers late (load aside) while a task blocks 200 ms" \
    "${loop_blocked:+$loop_blocked ms}" "-" "-"
bench_row "  the same wait awaited instead" "${loop_awaited:+$loop_awaited ms}" "-" "-"
