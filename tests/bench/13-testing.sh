# Chapter 13, testing: what each tool costs. sanitizers runs thread_bugs' correct work (its
# `none` row: four threads, malloc, lock, add, unlock, free) plain and under each tool, and
# prints its CPU time under each against the plain build. Sourced by tests/bench/run. The TSan
# and ASan rows need those builds (make chapter-13 SANITIZE=thread, SANITIZE=address,undefined);
# without them the row says so. No targets for the tools: these are the figures the chapter's
# README quotes. The controlled scheduler's rows (below) have targets.

testing_cost=''
if bench_run chapters/13-testing sanitizers --bug=none; then
    testing_cost=$(grep -m1 '^cost (CPU)' <<<"$BENCH_OUT")
fi
# The cost row's cells are 15 columns wide and never hold two spaces in a row.
testing_cell() { awk -F '  +' -v n="$1" '{ print $n }' <<<"$testing_cost"; }
bench_row "tools: thread_bugs --bug=none, plain build, CPU time" "$(testing_cell 2)" "-" "-"
testing_column=3
for testing_tool in "ThreadSanitizer" "ASan+UBSan" "valgrind helgrind" "valgrind memcheck"; do
    testing_figure=$(testing_cell "$testing_column")
    [ "$testing_figure" = "-" ] && testing_figure="not measured: no build or no valgrind (see chapter 13)"
    bench_row "  the same work under $testing_tool" "$testing_figure" "-" "-"
    testing_column=$((testing_column + 1))
done

# The controlled scheduler (make explore): interleavings a second, each a fork of its own, beside
# the rate a bare fork and wait allows in the same run (the ceiling); and the interleavings at
# 0, 1 and 2 preemptions, which are the search's own and the same on any machine. Runs on the
# explorer's build of each program, in its own tree beside KIT_BUILD.
explore_cc=${KIT_BUILD##*/}
explore_cc=${explore_cc%%-*}
# explore_bench ROW PROG ARGS...: one search, every interleaving up to 2 preemptions.
explore_bench() {
    local row=$1 prog=$2 binary
    shift 2
    if ! binary=$(make -s --no-print-directory explore-path BUILD_PREFIX="${KIT_BUILD%/*}" \
        CC="$explore_cc" PROG="$prog" 2>/dev/null); then
        bench_row "explore: $row" "" ">= 1000/s" MISSED
        return
    fi
    # bench_run runs KIT_BUILD/LESSON/PROG: the explorer's tree is a sibling of KIT_BUILD.
    local lesson="../${binary#"${KIT_BUILD%/*}"/}"
    export KIT_EXPLORE=dfs KIT_EXPLORE_BOUND=2
    bench_run_idle "${lesson%/*}" "${binary##*/}" "$@"
    unset KIT_EXPLORE KIT_EXPLORE_BOUND
    local counts rate ceiling seconds
    counts=$(grep -E '^  [0-2] preemptions? ?:' <<<"$BENCH_OUT" | grep -oE '[0-9]+ interleavings?' |
        grep -oE '^[0-9]+' | paste -sd/ | sed 's|/| / |g')
    rate=$(grep -m1 -oE 's: [0-9]+ a second' <<<"$BENCH_OUT" | grep -oE '[0-9]+')
    ceiling=$(grep -m1 -oE 'the ceiling: [0-9]+' <<<"$BENCH_OUT" | grep -oE '[0-9]+$')
    seconds=$(grep -m1 -oE 'runs in [0-9.]+ s' <<<"$BENCH_OUT" | grep -oE '[0-9.]+')
    bench_row "explore: $row, interleavings at 0 / 1 / 2 preemptions" "${counts:-?}" "-" "-"
    bench_row "  the same, runs a second (a bare fork and wait: ${ceiling:-?}/s)" "${rate:-?}/s" \
        ">= 1000/s" "$(bench_judge_idle "$(bench_at_least "$rate" 1000)")"
    bench_row "  the same, the whole search" "${seconds:-?} s" "<= 30 s" \
        "$(bench_judge_idle "$(bench_at_most "$seconds" 30)")"
}
explore_bench "race_counter_fixed 2 threads x 3" race_counter_fixed --iterations=3
explore_bench "exercise 01 (solution), 2 threads x 2" solutions/01-fix-the-race/counter \
    --threads=2 --iterations=2
