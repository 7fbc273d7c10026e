"""Python's twin of gil_sim.c: the same CPU-bound work in 1 thread, then split over 2 threads.

Run by `make bench` beside the C program, in the same run. Under CPython's GIL two threads
take as long as one (or longer); a free-threaded build (python3.13t) can do better. Prints
`speedup: xN.NN` (time with 1 thread over time with 2), best of 3 rounds.
Usage: python3 gil_speedup.py [STEPS]
"""
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


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000_000
    one = min(timed(1, steps) for _ in range(3))
    two = min(timed(2, steps) for _ in range(3))
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    print(f"speedup: x{one / two:.2f} (1 thread {one:.3f} s, 2 threads {two:.3f} s, "
          f"GIL {'on' if gil else 'off'}, Python {sys.version.split()[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
