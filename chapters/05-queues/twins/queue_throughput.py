"""Python's twin of bounded_queue.c: one producer thread, one consumer thread, queue.Queue.

Run by `make bench` beside the C program, in the same run, so the two figures compare on the
same machine at the same moment. Prints `throughput: X million items/s`.
Usage: python3 queue_throughput.py [ITEMS] [CAPACITY]
"""
import queue
import sys
import threading
import time


def main():
    items = int(sys.argv[1]) if len(sys.argv) > 1 else 500_000
    capacity = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
    q = queue.Queue(maxsize=capacity)
    received = 0

    def consume():
        nonlocal received
        while q.get() is not None:
            received += 1

    consumer = threading.Thread(target=consume)
    start = time.perf_counter()
    consumer.start()
    for item in range(items):
        q.put(item)
    q.put(None)  # the sentinel: no more items
    consumer.join()
    seconds = time.perf_counter() - start
    if received != items:
        print(f"FAILED: {received} of {items} items received")
        return 1
    print(f"throughput: {items / seconds / 1e6:.2f} million items/s ({items} items, capacity {capacity})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
