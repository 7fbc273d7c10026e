"""Python's twin of thread_pool.c's cost line: submit + result of a no-op task.

Run by `make bench` beside the C program, in the same run. Prints `cost: X us per task`.
Usage: python3 thread_pool_cost.py [TASKS] [WORKERS]
"""
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def noop():
    return None


def main():
    tasks = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    with ThreadPoolExecutor(max_workers=workers) as executor:
        start = time.perf_counter()
        futures = [executor.submit(noop) for _ in range(tasks)]
        for future in futures:
            future.result()
        seconds = time.perf_counter() - start
    print(f"cost: {seconds / tasks * 1e6:.2f} us per task ({tasks} tasks, {workers} workers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
