"""A small closed-loop / open-loop HTTP load generator (httpx, asyncio) that runs in its own process.

Closed loop (``concurrency`` workers, each sending its next request as soon as the last answered) measures peak
throughput; open loop (a fixed arrival rate) measures latency at a given load, e.g. half the peak. Open-loop
latency runs from the moment a request was due, not from when it was sent, so a stalled server (or client)
cannot hide its queue (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

RequestFn = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    mode: str = "closed"
    #: the first unexpected answer, to tell a slow endpoint from a broken one
    error_sample: str = ""
    #: requests sent, warm-up included, and the CPU seconds this (client) process spent sending them
    sent: int = 0
    client_cpu: float = 0.0
    #: percentiles reported by an external load generator (wrk), when no latencies were recorded here
    percentiles: dict[int, float] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return self.percentiles.get(round(q * 100), float("nan"))
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else self.pct(0.5)

    @property
    def p99(self) -> float:
        return self.pct(0.99)


async def closed_loop(
    name: str,
    base_url: str,
    fn: RequestFn,
    *,
    concurrency: int = 16,
    seconds: float = 10.0,
    warmup: float = 1.0,
    expect: tuple[int, ...] = (200, 201),
    requests: int | None = None,
) -> Result:
    """With ``requests`` the run sends exactly that many (no warm-up) and ``seconds`` is how long they took."""
    if requests is not None:
        warmup = 0.0
        seconds = float("inf")
    latencies: list[float] = []
    errors = 0
    counter = 0
    sample = ""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        cpu = time.process_time()
        start = time.perf_counter()
        measure_from = start + warmup
        stop_at = measure_from + seconds

        async def worker() -> None:
            nonlocal errors, counter, sample
            while True:
                now = time.perf_counter()
                if now >= stop_at or (requests is not None and counter >= requests):
                    return
                counter += 1
                t0 = time.perf_counter()
                ok, problem = await _send(fn, client, counter, expect)
                t1 = time.perf_counter()
                if t0 >= measure_from:
                    latencies.append((t1 - t0) * 1000)
                    if not ok:
                        errors += 1
                        sample = sample or problem

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        if requests is not None:
            seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
    return Result(name, len(latencies), errors, seconds, latencies, error_sample=sample, sent=counter, client_cpu=cpu)


async def _send(fn: RequestFn, client: httpx.AsyncClient, i: int, expect: tuple[int, ...]) -> tuple[bool, str]:
    try:
        response = await fn(client, i)
    except httpx.HTTPError as exc:
        return False, f"{type(exc).__name__}: {exc}"
    if response.status_code in expect:
        return True, ""
    return False, f"{response.status_code} {response.text[:200]}"


async def open_loop(
    name: str, base_url: str, fn: RequestFn, *, rate: float, seconds: float = 10.0, expect: tuple[int, ...] = (200, 201)
) -> Result:
    """Send ``rate`` requests per second on a fixed schedule, whatever the answers' latency."""
    latencies: list[float] = []
    errors = 0
    sample = ""
    total = max(1, int(rate * seconds))
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=httpx.Limits(max_connections=256)) as client:
        cpu = time.process_time()
        start = time.perf_counter()

        async def one(i: int) -> None:
            nonlocal errors, sample
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            ok, problem = await _send(fn, client, i, expect)
            latencies.append((time.perf_counter() - due) * 1000)
            if not ok:
                errors += 1
                sample = sample or problem

        await asyncio.gather(*(one(i) for i in range(total)))
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
    mode = f"open {rate:.0f}/s"
    return Result(name, total, errors, elapsed, latencies, mode, sample, sent=total, client_cpu=cpu)
