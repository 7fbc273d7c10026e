#!/usr/bin/env python3
"""fetch_async.c's Python twin: asyncio.gather() of aiohttp requests, for `make bench`.

Usage: fetch_async.py [-n N] [-t SECONDS] [-q] URL...

Fetches each URL N times, all at once in one thread, as fetch_async does, and prints the same
summary line: the wall time and the CPU time of the transfers (not of starting Python and
importing aiohttp), and the peak memory of the whole process. The connector's limit is lifted
(aiohttp allows 100 connections at once by default) so that both programs do the same work.
"""
import argparse
import asyncio
import resource
import sys
import time

import aiohttp


async def fetch(session, url):
    """One transfer: (url, status or None, bytes, error message or None)."""
    try:
        async with session.get(url) as response:
            body = await response.read()
            return url, response.status, len(body), None
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        return url, None, 0, f"{type(error).__name__}: {error}"


async def fetch_all(urls, timeout):
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)
    ) as session:
        return await asyncio.gather(*(fetch(session, url) for url in urls))


def main():
    parser = argparse.ArgumentParser(description="Fetch URLs at once with asyncio + aiohttp.")
    parser.add_argument("-n", "--repeat", type=int, default=1, help="fetch each URL N times")
    parser.add_argument("-t", "--timeout", type=float, default=5, help="seconds per transfer")
    parser.add_argument("-q", "--quiet", action="store_true", help="print failures only")
    parser.add_argument("urls", nargs="+", metavar="URL")
    args = parser.parse_args()
    if not 1 <= args.repeat <= 20000 or not 0 < args.timeout <= 600:
        parser.error("--repeat must be 1 to 20000 and --timeout 0 to 600")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    urls = args.urls * args.repeat
    wall_start, cpu_start = time.monotonic(), time.process_time()
    results = asyncio.run(fetch_all(urls, args.timeout))
    wall, cpu = time.monotonic() - wall_start, time.process_time() - cpu_start

    failed = 0
    for url, status, size, error in results:
        ok = error is None and status < 400
        failed += not ok
        if not ok or not args.quiet:
            what = f"transport error: {error}" if error else f"HTTP status {status}"
            print(f"{'ok' if ok else 'error':6} {size:8} bytes  {url}: {what}")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"summary: {len(urls)} transfers, {len(urls) - failed} ok; "
          f"wall {wall:.3f} s, cpu {cpu:.3f} s, peak memory {peak_mib:.1f} MiB")
    print(f"OK: all {len(urls)} transfers succeeded" if failed == 0
          else f"FAILED: {failed} of {len(urls)} transfers failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
