# Chapter 04, processes: what creating a process costs next to a thread (spawn_cost), the
# "slower to create" row of the process vs thread table. Sourced by tests/bench/run.

if bench_run chapters/04-processes spawn_cost --spawns=1000; then
    bench_row "processes: fork + waitpid, median" \
        "$(grep -m1 '^fork' <<<"$BENCH_OUT" | grep -oE 'median +[0-9.]+' | awk '{ print $2 }') us" \
        "-" "-"
    bench_row "processes: fork + waitpid vs pthread_create + join" \
        "$(grep -m1 '^OK:' <<<"$BENCH_OUT" | grep -oE 'x[0-9.]+ (faster|slower)')" "-" "-"
else
    bench_row "processes: fork + waitpid vs pthread_create + join" "" "-" MISSED
fi
