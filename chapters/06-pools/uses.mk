# Chapter 06's process pool sums squares: the kit's one compiled sum_of_squares(), its closed
# formula and the 128-bit type it needs (harness/sums/sums.h).
uses_code := harness/sums
