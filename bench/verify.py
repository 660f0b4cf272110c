"""Throughput of eurodex's Checker against a bare aiohttp GET loop, on the same URLs.

Why: the checker adds work per URL (address guard, politeness gates, result building,
HEAD-then-GET logic); this measures what that costs compared with the least a client can
do. Loopback servers run in a child process (so they do not share the client's event loop)
on 127.0.0.1-127.0.0.4, one per latency class (0, 5, 20, 50 ms). The politeness limits are
lifted for the run (per-host connections = concurrency, a huge budget per minute) because
they would measure our own throttling, not our overhead.

    .venv/bin/python bench/verify.py [--urls 10000] [--concurrency 100] [--rounds 2]

Bounded: every phase runs under a deadline and the server process is always stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing as mp
import resource
import time
from collections import Counter
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from eurodex.model import Outcome
from eurodex.verify.check import Checker, CheckSettings, check_many

LATENCIES_MS = (0, 5, 20, 50)
PHASE_DEADLINE_S = 240.0
BODY = b'{"status":"ok","service":"bench","items":[1,2,3,4,5,6,7,8,9,10]}'


def _serve(ready: mp.Queue, stop: mp.Event) -> None:  # type: ignore[type-arg]
    """Child process: one aiohttp server per latency class, until ``stop`` is set."""

    async def main() -> None:
        runners = []
        addresses = []
        for index, delay_ms in enumerate(LATENCIES_MS):

            async def handler(request: web.Request, delay: float = delay_ms / 1000) -> web.Response:
                if delay:
                    await asyncio.sleep(delay)
                return web.Response(body=BODY, content_type="application/json")

            app = web.Application()
            app.router.add_get("/{tail:.*}", handler)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            host = f"127.0.0.{index + 1}"
            site = web.TCPSite(runner, host, 0, backlog=1024)
            await site.start()
            runners.append(runner)
            addresses.append((host, runner.addresses[0][1]))
        ready.put(addresses)
        while not stop.is_set():
            await asyncio.sleep(0.1)
        for runner in runners:
            await runner.cleanup()

    asyncio.run(main())


async def bare_loop(urls: list[str], concurrency: int) -> tuple[int, int]:
    """The baseline: plain GETs with a bounded worker pool, body read, nothing else."""
    ok = failed = 0
    pending = iter(urls)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal ok, failed
            for url in pending:
                try:
                    async with session.get(url) as resp:
                        await resp.read()
                        ok += resp.status == 200
                except aiohttp.ClientError:
                    failed += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok, failed


async def checker_loop(urls: list[str], concurrency: int) -> Counter[str]:
    settings = CheckSettings(
        allowed_networks=["127.0.0.0/8"],
        per_host_connections=concurrency,
        per_host_per_minute=1e9,
        max_connections=concurrency,
    )
    async with Checker(settings) as checker:
        results = await check_many(checker, urls, concurrency)
    return Counter(
        r.outcome.value if r.outcome is Outcome.UP else f"{r.outcome}:{r.reason}" for r in results
    )


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def timed(
    label: str, coro_factory: Callable[[], Awaitable[object]], n: int
) -> tuple[float, object]:
    cpu0, t0 = _cpu(), time.perf_counter()
    async with asyncio.timeout(PHASE_DEADLINE_S):
        outcome = await coro_factory()
    wall, cpu = time.perf_counter() - t0, _cpu() - cpu0
    rate = n / wall
    print(
        f"{label:<8} {n} URLs in {wall:6.2f} s = {rate:8.1f} checks/s, "
        f"client CPU {cpu / n * 1e6:6.0f} µs/URL  -> {outcome}"
    )
    return rate, outcome


async def run(
    n_urls: int, concurrency: int, rounds: int, addresses: list[tuple[str, int]]
) -> None:
    urls = [
        f"http://{host}:{port}/api/item/{i}"
        for i in range(n_urls)
        for host, port in [addresses[i % len(addresses)]]
    ]
    warm = urls[: min(400, n_urls)]
    await checker_loop(warm, concurrency)
    await bare_loop(warm, concurrency)
    checker_rates, bare_rates = [], []
    for _ in range(rounds):  # alternate, so drift in machine load hits both alike
        rate, _ = await timed("checker", lambda: checker_loop(urls, concurrency), n_urls)
        checker_rates.append(rate)
        rate, _ = await timed("bare", lambda: bare_loop(urls, concurrency), n_urls)
        bare_rates.append(rate)
    best_checker, best_bare = max(checker_rates), max(bare_rates)
    print(
        f"best: checker {best_checker:.0f}/s, bare {best_bare:.0f}/s, "
        f"ratio checker/bare = {best_checker / best_bare:.2f} (target >= 0.6)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    ready: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    stop = mp.Event()
    server = mp.Process(target=_serve, args=(ready, stop), daemon=True)
    server.start()
    try:
        addresses = ready.get(timeout=30)
        pairs = zip(addresses, LATENCIES_MS, strict=True)
        listing = ", ".join(f"{host}:{port} ({ms} ms)" for (host, port), ms in pairs)
        print(f"servers: {listing}; concurrency {args.concurrency}")
        asyncio.run(run(args.urls, args.concurrency, args.rounds, addresses))
    finally:
        stop.set()
        server.join(timeout=10)
        if server.is_alive():
            server.terminate()
            server.join(timeout=5)


if __name__ == "__main__":
    main()
