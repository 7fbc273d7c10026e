# Chapter 05, queues: how many items per second one producer and one consumer move through
# bounded_queue (capacity 1024), against the target and against Python's queue.Queue, measured
# in the same run by the kit's Python twin (chapters/05-queues/twins/queue_throughput.py).
# Sourced by tests/bench/run. 10 million items take about 0.5-1 s here, long enough for a
# steady figure. Two threads hand items over: the target needs CPUs nobody else is using.

queues_rate=''
if bench_run_idle chapters/05-queues bounded_queue --producers=1 --consumers=1 --capacity=1024 \
    --items=10000000; then
    queues_rate=$(bench_value '^throughput:')
fi
bench_row "bounded queue, 1 producer, 1 consumer, capacity 1024" \
    "${queues_rate:+$queues_rate M items/s}" ">= 5 M/s" \
    "$(bench_judge_idle "$(bench_at_least "$queues_rate" 5)")"

queues_plain_rate=''
if bench_run chapters/05-queues bounded_queue --producers=1 --consumers=1 --capacity=1024 \
    --items=10000000 --always-signal; then
    queues_plain_rate=$(bench_value '^throughput:')
fi
bench_row "  the plain one: a signal after every put and get" \
    "${queues_plain_rate:+$queues_plain_rate M items/s}" "-" "-"
if [ -n "$queues_rate" ] && [ -n "$queues_plain_rate" ]; then
    bench_row "  signalling only when someone sleeps vs always" \
        "$(bench_ratio_text "$queues_rate" "$queues_plain_rate")" "-" "-"
fi

queues_python_rate=''
bench_python chapters/05-queues/twins/queue_throughput.py 500000 1024 &&
    queues_python_rate=$(bench_value '^throughput:')
bench_row "  Python queue.Queue (twins/queue_throughput.py)" \
    "$([ -n "$queues_python_rate" ] && echo "$queues_python_rate M items/s" || bench_python_missing)" \
    "-" "-"
if [ -n "$queues_rate" ] && [ -n "$queues_python_rate" ]; then
    bench_row "  bounded queue vs Python queue.Queue" \
        "$(bench_ratio_text "$queues_rate" "$queues_python_rate")" "-" "-"
fi
