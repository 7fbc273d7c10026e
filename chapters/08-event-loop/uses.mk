# Chapter 08's measuring programs read their figures from /proc (memory, the time a thread
# waited for a CPU) and ask which sanitizer a build has: harness/proc-figures.
uses_code := harness/proc-figures
