"""The bench's own load generators, run in the bench process: a closed loop over httpx (``concurrency`` workers,
each sending its next request as soon as the last answered), the second opinion beside wrk's peak; and an open
loop over raw HTTP/1.1 (a fixed arrival rate, e.g. half the peak) for latency at a given load. Open-loop latency
runs from the moment a request was due, not from when it was sent, so a stalled server (or client) cannot hide
its queue (no coordinated omission).
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


# --- open loop over raw HTTP/1.1 ------------------------------------------------------------------------------
# httpx spends 3–5 ms of CPU per request on this machine, and when a server pauses an open loop opens ever more
# connections and spends more per request (a generator that falls behind its schedule reports its own queue as
# latency). The open loops at half peak therefore write requests as bytes on a fixed set of kept-alive
# connections and read the answers by their Content-Length: tens of microseconds per request.

RawRequest = Callable[[int], bytes]


def http_request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """An HTTP/1.1 request as bytes (kept alive)."""
    lines = [f"{method} {path} HTTP/1.1", "Host: bench", *(f"{k}: {v}" for k, v in headers.items())]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length, chunked = 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while size := int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    elif length:
        await reader.readexactly(length)
    return status


async def open_loop_raw(
    name: str,
    base_url: str,
    request: RawRequest,
    *,
    rate: float,
    seconds: float = 10.0,
    connections: int = 32,
    expect: tuple[int, ...] = (200, 201),
) -> Result:
    """``rate`` requests per second on a fixed schedule over ``connections`` kept-alive connections; a request
    due while every connection is busy waits for one, and its latency still runs from when it was due."""
    host, _, port = base_url.removeprefix("http://").partition(":")
    total = max(1, int(rate * seconds))
    latencies: list[float] = []
    errors = 0
    sample = ""
    next_index = 0
    cpu = time.process_time()
    start = time.perf_counter() + 0.05

    async def worker() -> None:
        nonlocal next_index, errors, sample
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while next_index < total:
                i = next_index
                next_index += 1
                due = start + i / rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                try:
                    status = await exchange(reader, writer, request(i))
                except (ConnectionError, asyncio.IncompleteReadError):  # the server closed a kept-alive one
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, int(port))
                    status = await exchange(reader, writer, request(i))
                latencies.append((time.perf_counter() - due) * 1000)
                if status not in expect:
                    errors += 1
                    sample = sample or f"HTTP {status}"
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    mode = f"open {rate:.0f}/s"
    return Result(
        name, total, errors, elapsed, latencies, mode, sample, sent=total, client_cpu=time.process_time() - cpu
    )
