# Chapter 14, distributed with MPI: what a run costs to start (mpirun included), what a message
# costs on this machine (MPI against a pipe, measured side by side in one run of mpi_pingpong,
# and MPI over TCP on loopback), and what dynamic scheduling buys over a static split.
# Sourced by tests/bench/run, which provides the bench_* functions.
#
# Targets: each default run well under 3 s with mpirun's start-up (about 0.4 s here); a 1-byte
# MPI message through shared memory at least x2 cheaper than through a pipe; the task queue at
# least x1.8 faster than the static split (x2.1 is the ideal for the default tasks). All are
# judged on idle CPUs only: a rank waiting for a message polls, and beside busy processes each
# message waits for the scheduler, which the figures then measure instead.

# The wall-clock time of one default run of a chapter 14 program, started plainly, into
# mpi_seconds (empty if the run failed); BENCH_OTHERS as bench_run_idle leaves it.
mpi_default_run() {
    local start end
    mpi_seconds=''
    start=$(date +%s.%N)
    bench_run_idle chapters/14-distributed "$1" || return 1
    end=$(date +%s.%N)
    mpi_seconds=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }')
}

# The one-way time (us) or bandwidth (MB/s) of a row of mpi_pingpong's table: SIZE UNIT COLUMN,
# where COLUMN 3 is MPI's one-way time, 5 its MB/s, 6 the pipe's one-way time, 8 the pipe's MB/s.
pingpong_figure() {
    awk -v size="$1" -v unit="$2" -v column="$3" \
        '$1 == size && $2 == unit { print $column; exit }' <<<"$BENCH_OUT"
}

for mpi_prog in mpi_sum mpi_workers mpi_pingpong; do
    mpi_default_run "$mpi_prog"
    bench_row "$mpi_prog default run, mpirun start-up included" "${mpi_seconds:+$mpi_seconds s}" \
        "< 2 s" "$(bench_judge_idle "$(bench_at_most "$mpi_seconds" 2)")"
done

if bench_run_idle chapters/14-distributed mpi_pingpong; then
    mpi_latency=$(pingpong_figure 1 B 3)
    pipe_latency=$(pingpong_figure 1 B 6)
    bench_row "1-byte message one way, MPI shared memory" "${mpi_latency:+$mpi_latency us}" "-" "-"
    bench_row "1-byte message one way, pipe (same run)" "${pipe_latency:+$pipe_latency us}" "-" "-"
    mpi_vs_pipe=$(awk -v m="$mpi_latency" -v p="$pipe_latency" \
        'BEGIN { if (m > 0 && p > 0) printf "%.2f", p / m }')
    bench_row "1-byte message: MPI vs the pipe" \
        "$(bench_ratio_text "$pipe_latency" "$mpi_latency")" ">= x2" \
        "$(bench_judge_idle "$(bench_at_least "$mpi_vs_pipe" 2)")"
    mpi_bandwidth=$(pingpong_figure 1 MiB 5)
    pipe_bandwidth=$(pingpong_figure 1 MiB 8)
    bench_row "1 MiB messages, MPI shared memory" "${mpi_bandwidth:+$mpi_bandwidth MB/s}" "-" "-"
    bench_row "1 MiB messages, pipe (same run)" "${pipe_bandwidth:+$pipe_bandwidth MB/s}" "-" "-"
else
    bench_row "1-byte message: MPI vs the pipe" "" ">= x2" MISSED
fi

if bench_run chapters/14-distributed mpi_pingpong --tcp --max-size=16; then
    mpi_tcp_latency=$(pingpong_figure 1 B 3)
    bench_row "1-byte message one way, MPI over TCP on loopback" \
        "${mpi_tcp_latency:+$mpi_tcp_latency us}" "-" "-"
fi

if bench_run_idle chapters/14-distributed mpi_workers; then
    # "dynamic x2.10 faster than static", or "x1.57 slower", which misses the target
    workers_speedup=$(bench_ratio '^OK:')
    bench_row "mpi_workers: task queue vs static split (3 workers)" "$(bench_ratio_words '^OK:')" \
        ">= x1.8" "$(bench_judge_idle "$(bench_at_least "$workers_speedup" 1.8)")"
else
    bench_row "mpi_workers: task queue vs static split (3 workers)" "" ">= x1.8" MISSED
fi
