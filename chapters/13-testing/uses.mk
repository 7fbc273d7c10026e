# Chapter 13 stresses chapter 05's bounded queue (lib/bounded_queue.h). Its tests run valgrind
# (helgrind and memcheck, in sanitizers.c) and check the JSON and SVG that timelines.c writes.
uses_code := chapters/05-queues
uses_test := valgrind python3
