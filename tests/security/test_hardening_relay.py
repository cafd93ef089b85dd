"""One tenant's failure never stalls every tenant's webhooks: a relay job that fails does not stop the pass's
deliveries (campaigns' own job isolates each SBU: tests/campaigns/test_hardening_relay.py)."""

from __future__ import annotations

from shared.context import context_of
from shared.events.relay import Relay
from tests.shared.test_events import _make_toy, _subscribe, toy  # noqa: F401 - the toy service fixture


async def test_a_failing_relay_job_does_not_stop_deliveries(toy, tenant):  # noqa: F811
    app, client, subscriber = toy

    async def poisoned() -> None:
        raise OverflowError("one tenant's figures")

    relay: Relay = context_of(app).require_relay()
    relay.extra_tasks = (poisoned,)
    await _subscribe(client, tenant)
    await _make_toy(client, tenant)
    assert await relay.run_once() == 1
    assert len(subscriber.received) == 1
