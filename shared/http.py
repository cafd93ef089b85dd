"""The typed HTTP client base: one shared ``httpx.AsyncClient`` per app, explicit timeouts, the caller's
request id passed on, a few jittered retries on connection errors and 502/503/504, and a circuit breaker."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any
from urllib.parse import quote

import httpx

from shared.auth import RevocationPage
from shared.errors import Unavailable
from shared.observability import request_id_var

RETRYABLE_STATUS = frozenset({502, 503, 504})


def make_http_client(connect_timeout: float = 2.0, read_timeout: float = 5.0, **kwargs: Any) -> httpx.AsyncClient:
    timeout = httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    return httpx.AsyncClient(timeout=timeout, limits=limits, **kwargs)


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures; while open, calls fail fast for ``reset_seconds``.
    Then it is half-open: one trial call at a time goes through; its success closes the breaker, its failure
    opens it for another ``reset_seconds``. The pause is short, so a peer that is back is used again within
    seconds; a trial that never reports (cancelled) frees the way for another after ``reset_seconds``."""

    def __init__(self, threshold: int = 5, reset_seconds: float = 5.0):
        self.threshold = threshold
        self.reset_seconds = reset_seconds
        self.failures = 0
        self.opened_at: float | None = None
        self._trial_at: float | None = None

    def allow(self) -> bool:
        if self.opened_at is None:
            return True
        now = time.monotonic()
        if now - self.opened_at < self.reset_seconds:
            return False
        if self._trial_at is not None and now - self._trial_at < self.reset_seconds:
            return False  # half-open, and a trial is under way
        self._trial_at = now
        return True

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self._trial_at = None

    def record_failure(self) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self.opened_at = time.monotonic()
            self._trial_at = None

    def retry_after(self) -> int:
        if self.opened_at is None:
            return 1
        return max(1, int(self.reset_seconds - (time.monotonic() - self.opened_at)) + 1)


class ServiceClient:
    """Base of each service's ``client.py``. Subclasses add typed methods over :meth:`request`."""

    service_name = "service"

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        *,
        attempts: int = 3,
        backoff_seconds: float = 0.1,
        breaker: CircuitBreaker | None = None,
    ):
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.attempts = attempts
        self.backoff = backoff_seconds
        self.breaker = breaker or CircuitBreaker()

    def _unavailable(self, why: str) -> Unavailable:
        return Unavailable(f"{self.service_name} cannot be reached: {why}", retry_after=self.breaker.retry_after())

    async def request(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> httpx.Response:
        if not self.breaker.allow():
            raise self._unavailable("circuit open after repeated failures")
        headers = dict(kwargs.pop("headers", {}) or {})
        rid = request_id_var.get()
        if rid:
            headers["X-Request-ID"] = rid
        if token:
            headers["Authorization"] = f"Bearer {token}"
        last_error = "no attempt made"
        for attempt in range(1, self.attempts + 1):
            try:
                response = await self.http.request(method, self.base_url + path, headers=headers, **kwargs)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                last_error = type(exc).__name__
            else:
                if response.status_code not in RETRYABLE_STATUS:
                    self.breaker.record_success()
                    return response
                last_error = f"HTTP {response.status_code}"
            self.breaker.record_failure()
            if attempt < self.attempts and self.breaker.allow():
                # full jitter: sleep a random time up to base * 2^(attempt-1)
                await asyncio.sleep(random.uniform(0, self.backoff * 2 ** (attempt - 1)))
            else:
                break
        raise self._unavailable(last_error)


class RevocationsFetcher:
    """Fetch the ids of recently revoked API keys from plans (internal, authorised by the service secret): the
    whole list when called, what changed since a cursor with :meth:`since`. One attempt with a short timeout:
    the caller keeps its last list when plans is slow or down. A plans that gives no cursor (an older version)
    is simply fetched whole each time."""

    def __init__(self, http: httpx.AsyncClient, plans_url: str, service_secret: str):
        self._client = ServiceClient(http, plans_url, attempts=1)
        self._client.service_name = "plans"
        self._secret = service_secret

    async def __call__(self) -> RevocationPage:
        return await self._get(None)

    async def since(self, cursor: str) -> RevocationPage:
        return await self._get(cursor)

    async def _get(self, cursor: str | None) -> RevocationPage:
        path = "/internal/revocations" if cursor is None else f"/internal/revocations?since={quote(cursor)}"
        response = await self._client.request("GET", path, token=self._secret, timeout=1.0)
        response.raise_for_status()
        data = response.json()
        revoked, next_cursor = data["revoked"], data.get("cursor")
        if not isinstance(revoked, list) or not all(isinstance(r, str) for r in revoked):
            raise ValueError("plans' revocation list is not a list of ids")
        if next_cursor is not None and not isinstance(next_cursor, str):
            raise ValueError("plans' revocation cursor is not a string")
        # an answer to ``since`` that says it is the whole list (or a plans that ignores ``since``) replaces it
        complete = cursor is None or data.get("complete", next_cursor is None) is True
        return RevocationPage(revoked, next_cursor, complete)


def revocations_fetcher(http: httpx.AsyncClient, plans_url: str, service_secret: str) -> RevocationsFetcher:
    return RevocationsFetcher(http, plans_url, service_secret)


def jwks_fetcher(http: httpx.AsyncClient, plans_url: str):  # type: ignore[no-untyped-def]
    """Fetch plans' public keys (used by every service that verifies access tokens)."""
    client = ServiceClient(http, plans_url)
    client.service_name = "plans"

    async def fetch() -> dict[str, Any]:
        response = await client.request("GET", "/v1/auth/jwks")
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    return fetch
