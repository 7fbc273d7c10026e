#!/usr/bin/env python3
"""perf_compare.c's Python twin, for `make bench`: the seed's performance comparison, measured.

Usage: perf_compare.py --url URL [--requests N] [--delay S] [--tasks N] [--numbers N]
                       [--workers N] [--rounds N]

The same two halves as the C program, with the tools a Python program uses:
- I/O-bound: N requests to URL/delay/S one after another (urllib, the standard library's
  blocking client), on a ThreadPoolExecutor with a thread per request, and all at once with
  asyncio.gather() of aiohttp requests (skipped, saying so, when aiohttp is not installed).
- CPU-bound: T tasks of sum(i * i for i in range(M)) one after another, on a
  ThreadPoolExecutor and on a ProcessPoolExecutor of W workers. The executors are created and
  shut down inside the timing (the `with` block), as in the C program.
Each row: wall time (fastest of the rounds), CPU time (this process and its reaped children) and
the ratio to the sequential row, in the kit's notation. Beside the CPU rows, as in the C program,
the ceiling of the same rounds: K processes (workers or CPUs, the fewer) each doing the whole
sequential work at once; a speedup above it gets a note. A last line gives the time per number
of the sequential CPU-bound run, to set beside C's.
"""
import argparse
import asyncio
import multiprocessing
import os
import resource
import sys
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

try:
    import aiohttp
except ImportError:  # the row says so
    aiohttp = None


def cpu_seconds():
    """CPU time of this process and of its children reaped so far (the process pool's)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def sum_of_squares(n):
    """The seed's cpu_bound_task."""
    return sum(i * i for i in range(n))


def sum_all(numbers):
    """One copy of the sequential CPU-bound work, as the ceiling runs it."""
    return [sum_of_squares(n) for n in numbers]


def copies_at_once(copies, numbers):
    """Seconds for `copies` processes, each doing the whole sequential work, at once."""
    workers = [multiprocessing.Process(target=sum_all, args=(numbers,)) for _ in range(copies)]
    start = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
        if worker.exitcode != 0:
            raise RuntimeError(f"a ceiling copy exited with {worker.exitcode}")
    return time.monotonic() - start


def fetch(url):
    """The seed's io_bound_task, with the standard library's blocking client."""
    with urllib.request.urlopen(url, timeout=30) as response:
        return len(response.read())


async def fetch_all(urls):
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one(url):
            async with session.get(url) as response:
                response.raise_for_status()
                return len(await response.read())

        return await asyncio.gather(*(one(url) for url in urls))


def timed(work):
    """(wall seconds, CPU seconds, result) of one call."""
    wall, cpu = time.monotonic(), cpu_seconds()
    result = work()
    return time.monotonic() - wall, cpu_seconds() - cpu, result


def ratio_text(baseline, seconds):
    ratio = baseline / seconds
    return f"x{ratio:.2f} faster" if ratio >= 1 else f"x{1 / ratio:.2f} slower"


def main():
    parser = argparse.ArgumentParser(description="The seed's performance comparison, measured.")
    parser.add_argument("--url", required=True, help="a server with /delay/S")
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--delay", type=float, default=0.1)
    parser.add_argument("--tasks", type=int, default=4)
    parser.add_argument("--numbers", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not (1 <= args.requests <= 200 and 0 < args.delay <= 5 and 1 <= args.tasks <= 64
            and 1 <= args.numbers <= 10**8 and 1 <= args.workers <= 64
            and 1 <= args.rounds <= 10):
        parser.error("a value is out of range")

    urls = [f"{args.url}/delay/{args.delay:g}"] * args.requests
    numbers = [args.numbers] * args.tasks
    expected = (args.numbers - 1) * args.numbers * (2 * args.numbers - 1) // 6

    def io_threads():
        with ThreadPoolExecutor(max_workers=args.requests) as executor:
            return list(executor.map(fetch, urls))

    def cpu_threads():
        with ThreadPoolExecutor(max_workers=args.workers) as executor:
            return list(executor.map(sum_of_squares, numbers))

    def cpu_processes():
        with ProcessPoolExecutor(max_workers=args.workers) as executor:
            return list(executor.map(sum_of_squares, numbers))

    ways = [
        ("io", "sequential", lambda: [fetch(url) for url in urls]),
        ("io", "threads", io_threads),
        ("io", "asyncio", (lambda: asyncio.run(fetch_all(urls))) if aiohttp else None),
        ("cpu", "sequential", lambda: sum_all(numbers)),
        ("cpu", "threads", cpu_threads),
        ("cpu", "processes", cpu_processes),
    ]
    best = {}
    copies = min(args.workers, os.cpu_count() or 1)
    together = float("inf")
    for _ in range(args.rounds):  # every way once a round, side by side; the fastest counts
        together = min(together, copies_at_once(copies, numbers))
        for group, name, work in ways:
            if work is None:
                continue
            wall, cpu, result = timed(work)
            if group == "cpu" and result != [expected] * args.tasks:
                print(f"FAILED: cpu {name} got {result[:1]}..., expected {expected}")
                return 1
            if (group, name) not in best or wall < best[group, name][0]:
                best[group, name] = (wall, cpu)

    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    print(f"Python {sys.version.split()[0]}, GIL {'on' if gil else 'off'}, {os.cpu_count()} CPU(s), "
          f"fastest of {args.rounds} round(s)")
    for group, name, work in ways:
        if work is None:
            print(f"{group:<3} {name:<11} not measured: aiohttp is not installed")
            continue
        wall, cpu = best[group, name]
        baseline = best[group, "sequential"][0]
        compared = "baseline" if name == "sequential" else ratio_text(baseline, wall)
        print(f"{group:<3} {name:<11} {wall:8.4f} s  cpu {cpu:8.4f} s  {compared}")
    ceiling = copies * best["cpu", "sequential"][0] / together
    print(f"ceiling: {ratio_text(ceiling, 1)} ({copies} processes each doing the sequential "
          f"work at once: {together:.4f} s)")
    for name in ("threads", "processes"):
        speedup = best["cpu", "sequential"][0] / best["cpu", name][0]
        if round(speedup, 2) > round(ceiling, 2):
            print(f"note: cpu {name} {ratio_text(speedup, 1)} is above the ceiling: the rounds "
                  "were not disturbed alike, so it is no lesson")
    per_number = best["cpu", "sequential"][0] / (args.tasks * args.numbers) * 1e9
    print(f"cpu per number: {per_number:.2f} ns (sequential)")
    print("OK: every way found the formula's sums")
    return 0


if __name__ == "__main__":
    sys.exit(main())
