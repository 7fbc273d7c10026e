# Chapter 13, testing: what each tool costs. sanitizers runs thread_bugs' correct work (its
# `none` row: four threads, malloc, lock, add, unlock, free) plain and under each tool, and
# prints its CPU time under each against the plain build. Sourced by tests/bench/run. The TSan
# and ASan rows need those builds (make chapter-13 SANITIZE=thread, SANITIZE=address,undefined);
# without them the row says so. No targets: these are the figures the chapter's README quotes.

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
