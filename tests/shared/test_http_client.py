"""Calls between services: explicit timeouts, at most 3 attempts with jittered backoff on connection errors and
502/503/504 only, a circuit breaker that opens after 5 consecutive failures for 30 s, the request id passed on."""

from __future__ import annotations

import httpx
import pytest

from shared.errors import Unavailable
from shared.http import CircuitBreaker, ServiceClient, make_http_client
from shared.observability import request_id_var


class Peer:
    def __init__(self, *outcomes: int | Exception) -> None:
        self.outcomes = list(outcomes)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        outcome = self.outcomes.pop(0) if self.outcomes else 200
        if isinstance(outcome, Exception):
            raise outcome
        return httpx.Response(outcome, json={"ok": outcome == 200})


def client(peer: Peer, breaker: CircuitBreaker | None = None) -> ServiceClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(peer))
    return ServiceClient(http, "http://plans", backoff_seconds=0.001, breaker=breaker)


async def test_retries_connection_errors_and_gateway_statuses_then_succeeds() -> None:
    peer = Peer(httpx.ConnectError("refused"), 503)
    response = await client(peer).request("GET", "/v1/sbus/1", token="t")
    assert response.status_code == 200 and len(peer.requests) == 3
    assert peer.requests[0].headers["authorization"] == "Bearer t"


@pytest.mark.parametrize("status", [400, 404, 409, 422, 500])
async def test_other_answers_are_not_retried(status: int) -> None:
    peer = Peer(status)
    response = await client(peer).request("GET", "/x")
    assert response.status_code == status and len(peer.requests) == 1


async def test_three_attempts_at_most_then_unavailable_with_retry_after() -> None:
    peer = Peer(502, 504, httpx.ReadTimeout("slow"), 200)
    with pytest.raises(Unavailable) as caught:
        await client(peer).request("GET", "/x")
    assert len(peer.requests) == 3
    assert int(caught.value.headers["Retry-After"]) >= 1


async def test_the_breaker_opens_after_five_failures_and_half_opens_after_its_pause() -> None:
    breaker = CircuitBreaker(threshold=5, reset_seconds=30)
    peer = Peer(*([503] * 5))
    svc = client(peer, breaker)
    with pytest.raises(Unavailable):
        await svc.request("GET", "/x")  # 3 failures
    svc.attempts = 2
    with pytest.raises(Unavailable):
        await svc.request("GET", "/x")  # 5 failures: open
    assert len(peer.requests) == 5
    with pytest.raises(Unavailable) as caught:
        await svc.request("GET", "/x")
    assert len(peer.requests) == 5, "an open breaker fails fast without calling"
    assert "circuit open" in caught.value.detail and 25 <= int(caught.value.headers["Retry-After"]) <= 31

    assert breaker.opened_at is not None
    breaker.opened_at -= 30  # the pause is over: one trial call goes through and closes the breaker
    assert (await svc.request("GET", "/x")).status_code == 200
    assert breaker.failures == 0 and breaker.opened_at is None


async def test_the_callers_request_id_is_passed_on() -> None:
    peer = Peer()
    token = request_id_var.set("req-42")
    try:
        await client(peer).request("GET", "/x")
    finally:
        request_id_var.reset(token)
    assert peer.requests[0].headers["x-request-id"] == "req-42"


def test_timeouts_are_explicit() -> None:
    http = make_http_client(connect_timeout=1.5, read_timeout=4)
    assert http.timeout.connect == 1.5 and http.timeout.read == 4
