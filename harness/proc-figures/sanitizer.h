/**
 * @file sanitizer.h
 * @brief Which sanitizer a file is compiled with, for a program that scales its defaults down.
 *
 * gcc says so with `__SANITIZE_ADDRESS__` and `__SANITIZE_THREAD__`, clang with
 * `__has_feature(address_sanitizer)` and `__has_feature(thread_sanitizer)`; this header asks
 * both. A sanitizer keeps memory of its own for every thread and allocation, which shows in any
 * memory a program measures with proc_figures.h, and ThreadSanitizer tracks a limited number of
 * threads at once: chapter 08's tasks_vs_threads.c starts fewer waiters by default under one,
 * and says so.
 *
 * Macros only, no code: SANITIZER_THREAD and SANITIZER_ADDRESS are 1 or 0 (for `#if` or an
 * expression), and SANITIZER_NAME is "ThreadSanitizer", "AddressSanitizer" or "".
 */
#ifndef SANITIZER_H
#define SANITIZER_H

#if defined(__has_feature) /* clang's way to tell */
#define SANITIZER_HAS_FEATURE(feature) __has_feature(feature)
#else
#define SANITIZER_HAS_FEATURE(feature) 0
#endif

#if defined(__SANITIZE_THREAD__) || SANITIZER_HAS_FEATURE(thread_sanitizer)
#define SANITIZER_THREAD 1
#else
#define SANITIZER_THREAD 0
#endif

#if defined(__SANITIZE_ADDRESS__) || SANITIZER_HAS_FEATURE(address_sanitizer)
#define SANITIZER_ADDRESS 1
#else
#define SANITIZER_ADDRESS 0
#endif

#if SANITIZER_THREAD
#define SANITIZER_NAME "ThreadSanitizer"
#elif SANITIZER_ADDRESS
#define SANITIZER_NAME "AddressSanitizer"
#else
#define SANITIZER_NAME ""
#endif

#endif /* SANITIZER_H */
