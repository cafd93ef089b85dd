"""JSON logs carrying a request id, Prometheus metrics by route and status, and input guards — all as
plain ASGI middleware so they cost little on hot paths."""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import time
import uuid
from itertools import accumulate
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import send_problem

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class JsonFormatter(logging.Formatter):
    """One JSON object per line. Written for every request, so it is kept cheap: orjson, and the time text made
    once per second."""

    _second: int | None = None
    _time_text = ""

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:
            self._second, self._time_text = second, self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
        entry: dict[str, Any] = {
            "time": self._time_text,
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id_var.get()
        if rid:
            entry["request_id"] = rid
        fields = record.__dict__
        for key in ("service", "method", "path", "status", "duration_ms"):
            if key in fields:
                entry[key] = fields[key]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn.access",):  # our own access line replaces uvicorn's
        logging.getLogger(name).disabled = True


class Metrics:
    def __init__(self, service: str):
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "xbm_http_requests_total",
            "HTTP requests",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "xbm_http_request_duration_seconds",
            "HTTP request latency",
            ["service", "method", "route", "status"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.service = service

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class ObservabilityMiddleware:
    """Takes ``X-Request-ID`` from the request (or makes one), returns it, logs one JSON line per request and
    records count and latency by route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics
        self.log = logging.getLogger(f"xbm.{metrics.service}.access")
        #: each label set's count and latency series, looked up once (``labels()`` takes a lock and checks its
        #: arguments on every call); as many as the metrics hold themselves
        self._series: dict[tuple[str, ...], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        rid = incoming if incoming and _REQUEST_ID_OK.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            labels = (self.metrics.service, scope["method"], template, str(status))
            series = self._series.get(labels)
            if series is None:
                series = self._series[labels] = (
                    self.metrics.requests.labels(*labels),
                    self.metrics.latency.labels(*labels),
                )
            series[0].inc()
            series[1].observe(elapsed)
            if template not in ("/healthz", "/metrics", "/readyz"):
                self.log.info(
                    "%s %s %s",
                    scope["method"],
                    template,
                    status,
                    extra={
                        "service": self.metrics.service,
                        "method": scope["method"],
                        "path": template,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            request_id_var.reset(token)


#: deeper JSON than this is refused while it arrives: no real document nests this far, and the parsers would
#: otherwise recurse once per level (Python's json gives up near 1,000 with a RecursionError, a 500)
MAX_JSON_DEPTH = 64
#: bodies that are not JSON (XML messages, forms, CSV) are not scanned for nesting
#: a whole JSON string (possessive: no backtracking on long or unterminated strings)
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.S)
#: the rest of a string begun in an earlier chunk, up to (not including) its closing quote
_STRING_REST = re.compile(rb'(?:[^"\\]++|\\.)*+', re.S)
#: every byte but the four brackets, deleted before the nesting is counted
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_NOT_BRACKETS_OR_QUOTES = bytes(c for c in range(256) if c not in b'[]{}"')
_DEPTH_STEP = [0] * 256
for _c in b"[{":
    _DEPTH_STEP[_c] = 1
for _c in b"]}":
    _DEPTH_STEP[_c] = -1


class JsonDepth:
    """Tracks the bracket nesting of a JSON text fed in chunks, outside strings, at C speed per chunk: strings
    are cut out (split at the quotes when the chunk holds no escape, else by one regular-expression pass) and
    the brackets left are summed by C iterators. A Python step per string or bracket, as before, cost a
    1,000-row body ~40 ms: more than its validation."""

    def __init__(self, limit: int = MAX_JSON_DEPTH):
        self.limit = limit
        self.depth = 0
        self.in_string = False
        self.escaped = False

    def feed(self, chunk: bytes) -> bool:
        """False as soon as the nesting goes past the limit."""
        pos = 0
        if self.in_string:
            if self.escaped:  # the character after a backslash ending the last chunk
                self.escaped = False
                pos = 1
                if pos >= len(chunk):
                    self.escaped = len(chunk) == 0
                    return True
            end = _STRING_REST.match(chunk, pos).end()  # type: ignore[union-attr]
            if end >= len(chunk):
                return True
            if chunk[end] == 0x5C:  # a backslash at the very end: its character comes in the next chunk
                self.escaped = True
                return True
            self.in_string = False
            pos = end + 1  # past the closing quote
        text = chunk[pos:] if pos else chunk
        if b"\\" not in text:  # no escapes: strings run from quote to quote
            parts = text.translate(None, _NOT_BRACKETS_OR_QUOTES).split(b'"')
            self.in_string = len(parts) % 2 == 0  # an odd number of quotes: a string goes on in the next chunk
            brackets = b"".join(parts[0::2])
        else:
            outside = _JSON_STRING.sub(b"", text)
            open_at = outside.find(b'"')
            if open_at >= 0:  # a string that goes on in the next chunk
                self.in_string = True
                rest = outside[open_at + 1 :]
                self.escaped = (len(rest) - len(rest.rstrip(b"\\"))) % 2 == 1
                outside = outside[:open_at]
            brackets = outside.translate(None, _NOT_BRACKETS)
        if not brackets:
            return True
        deepest = max(accumulate(map(_DEPTH_STEP.__getitem__, brackets), initial=self.depth))
        self.depth += brackets.count(b"[") + brackets.count(b"{") - brackets.count(b"]") - brackets.count(b"}")
        return deepest <= self.limit


class InputGuardMiddleware:
    """Refuses, before any parsing, bodies over the size limit (413), JSON nested deeper than
    :data:`MAX_JSON_DEPTH` (422), and NUL bytes in the URL (400). A chunked body is measured as it arrives;
    when it grows past a limit while the app reads it, the app's read fails and the client gets the 413/422
    (never a 500), whichever layer was reading."""

    def __init__(self, app: ASGIApp, max_body_bytes: int):
        self.app = app
        self.max = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode()
        if b"%00" in raw_path or b"\x00" in raw_path or b"%00" in scope.get("query_string", b""):
            await send_problem(send, 400, "Bad Request", "NUL bytes are not allowed in URLs")
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max
                except ValueError:
                    await send_problem(send, 400, "Bad Request", "invalid Content-Length")
                    return
                if too_big:
                    await send_problem(send, 413, "Payload Too Large", f"request body exceeds {self.max} bytes")
                    return
        if scope["method"] not in ("POST", "PUT", "PATCH", "DELETE"):
            await self.app(scope, receive, send)
            return
        # the body is read here, whole (it is bounded), so a refusal is this layer's clean 413/422 whichever
        # layer would have read it next (a parser would turn an error raised mid-read into a vaguer 400)
        # every body, whatever it claims to be: a route that parses JSON out of a body sent as XML, CSV or octets
        # must meet the same bound (brackets nested this deep occur in no XML, CSV or form body XBM takes)
        depth = JsonDepth()
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away mid-body: nothing to answer
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max:  # a chunked body that grew past the limit
                await send_problem(send, 413, "Payload Too Large", f"request body exceeds {self.max} bytes")
                return
            if depth is not None and not depth.feed(chunk):
                detail = f"JSON nested deeper than {depth.limit} levels is not accepted"
                await send_problem(send, 422, "Unprocessable Content", detail)
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        await self.app(scope, replay_body(b"".join(chunks), receive), send)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already-read body to the app once, then defers to the real one (which
    reports the client's disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
