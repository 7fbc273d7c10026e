"""Python's twin of gil_sim.c: the same CPU-bound work in 1 thread, then split over 2 threads.

Run by `make bench` beside the C program, in the same run. Under CPython's GIL two threads
take as long as one (or longer); a free-threaded build (python3.13t) can do better. Prints
`speedup: xN.NN` (time with 1 thread over time with 2) and, as gil_sim does, the ceiling of the
same rounds: 2 processes each doing the 1-thread work at once, which no GIL holds back (on 2 idle
CPUs about x2). The three take turns in each of 3 rounds; the fastest of each counts.
Usage: python3 gil_speedup.py [STEPS]
"""
import multiprocessing
import sys
import threading
import time


def count_down(steps):
    while steps > 0:
        steps -= 1


def timed(threads, steps):
    workers = [threading.Thread(target=count_down, args=(steps // threads,)) for _ in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - start


def timed_copies(copies, steps):
    """copies processes, each counting down all the steps, at once (the ceiling)."""
    workers = [multiprocessing.Process(target=count_down, args=(steps,)) for _ in range(copies)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - start


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000_000
    one = two = together = float("inf")
    for _ in range(3):  # side by side, so a burst of load elsewhere hits all three
        one = min(one, timed(1, steps))
        two = min(two, timed(2, steps))
        together = min(together, timed_copies(2, steps))
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    speedup, ceiling = one / two, 2 * one / together
    print(f"speedup: x{speedup:.2f} (1 thread {one:.3f} s, 2 threads {two:.3f} s, "
          f"GIL {'on' if gil else 'off'}, Python {sys.version.split()[0]})")
    print(f"ceiling: x{ceiling:.2f} (2 processes each doing the 1-thread work at once: "
          f"{together:.3f} s)")
    if round(ceiling, 2) > 2:
        print("note: a ceiling above x2 is more than 2 CPUs can give: the 1-thread run's fastest "
              "round was still slowed (by other programs, or a cold start), which flatters both")
    if round(speedup, 2) > round(ceiling, 2):
        print(f"note: x{speedup:.2f} is above the ceiling: the rounds were not disturbed alike "
              "(others slowed the 1-thread run more than the copies), so it is no lesson")
    return 0


if __name__ == "__main__":
    sys.exit(main())
