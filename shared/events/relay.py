"""The relay: claims due deliveries, sends them signed with Standard Webhooks, records every attempt.

At-least-once: a claimed row is leased (its ``next_attempt_at`` pushed past the lease) in a committed
transaction before anything is sent, so a relay killed between sending and recording loses nothing — the
row comes due again when the lease runs out and the subscriber sees a duplicate with the same ``webhook-id``.
On PostgreSQL rows are claimed ``FOR UPDATE SKIP LOCKED``, so several relays never send one row at once.
On SQLite run one relay (the embedded default runs it inside the app).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks.webhooks import Webhook

from shared.db import utcnow
from shared.errors import Unprocessable
from shared.events.outbox import envelope, invalidate_subscriptions, retry_delay
from shared.events.tables import DeliveryColumns, EventTables, OutboxEventColumns, SubscriptionColumns
from shared.outbound import OutboundPolicy
from shared.settings import ServiceSettings

log = logging.getLogger("xbm.relay")
Task = Callable[[], Awaitable[object]]


@dataclass
class Outcome:
    delivery_id: str
    subscription_id: str
    status_code: int | None
    error: str | None
    duration_ms: int


def signed_headers(secret: str, webhook_id: str, body: bytes, at: datetime | None = None) -> dict[str, str]:
    at = at or utcnow()
    signature = Webhook(secret).sign(msg_id=webhook_id, timestamp=at, data=body.decode())
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "user-agent": "XBM-Webhooks/1",
    }


class Relay:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tables: EventTables,
        http: httpx.AsyncClient,
        policy: OutboundPolicy,
        *,
        batch: int = 50,
        lease_seconds: float = 60.0,
        send_timeout: float = 10.0,
        extra_tasks: Sequence[Task] = (),
    ):
        self.sessionmaker = sessionmaker
        self.t = tables
        self.http = http
        self.policy = policy
        self.batch = batch
        self.lease = timedelta(seconds=lease_seconds)
        self.send_timeout = send_timeout
        self.extra_tasks = extra_tasks

    async def claim(self) -> list[tuple[DeliveryColumns, OutboxEventColumns, SubscriptionColumns]]:
        """Lease up to ``batch`` due deliveries; returns (delivery, event, subscription) triples."""
        D, E, S = self.t.Delivery, self.t.OutboxEvent, self.t.Subscription
        now = utcnow()
        async with self.sessionmaker() as session, session.begin():
            stmt = (
                select(D.id)
                .where(D.status == "pending", D.next_attempt_at <= now)
                .order_by(D.next_attempt_at)
                .limit(self.batch)
            )
            if session.bind.dialect.name == "postgresql":  # type: ignore[union-attr]
                stmt = stmt.with_for_update(skip_locked=True)
            ids = list((await session.execute(stmt)).scalars())
            if not ids:
                return []
            await session.execute(update(D).where(D.id.in_(ids)).values(next_attempt_at=now + self.lease))
            rows = (
                await session.execute(
                    select(D, E, S).join(E, E.id == D.event_id).join(S, S.id == D.subscription_id).where(D.id.in_(ids))
                )
            ).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]

    async def send(
        self, delivery: DeliveryColumns, event: OutboxEventColumns, subscription: SubscriptionColumns
    ) -> Outcome:
        start = time.perf_counter()
        status_code: int | None = None
        error: str | None = None
        try:
            body = envelope(event)
            headers = signed_headers(subscription.secret, event.id, body)
            url: str = subscription.url
            extensions: dict[str, Any] = {}
            if subscription.org_id is not None:  # internal subscriptions are configured by operators
                # checked again on every attempt, and sent to the very address checked (the name is not
                # resolved a second time by the client, so DNS rebinding cannot reach an internal host)
                url, host_header, extensions = (await self.policy.resolve(subscription.url)).pinned()
                headers.update(host_header)
            response = await self.http.post(
                url, content=body, headers=headers, timeout=self.send_timeout, extensions=extensions
            )
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except Unprocessable as exc:
            error = exc.detail[:500]
        except httpx.TimeoutException:
            error = "timed out"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        return Outcome(delivery.id, subscription.id, status_code, error, int((time.perf_counter() - start) * 1000))

    async def record(self, outcomes: Sequence[Outcome]) -> None:
        D, S, A = self.t.Delivery, self.t.Subscription, self.t.Attempt
        now = utcnow()
        async with self.sessionmaker() as session, session.begin():
            for o in outcomes:
                delivery = await session.get(D, o.delivery_id)
                if delivery is None:  # subscription deleted meanwhile
                    continue
                session.add(
                    A(
                        delivery_id=o.delivery_id,
                        attempted_at=now,
                        status_code=o.status_code,
                        error=o.error,
                        duration_ms=o.duration_ms,
                    )
                )
                delivery.attempts += 1
                delivery.last_status_code = o.status_code
                delivery.last_error = o.error
                if o.error is None:
                    delivery.status, delivery.delivered_at = "delivered", now
                elif o.status_code == 410:
                    delivery.status = "cancelled"
                    await session.execute(
                        update(S)
                        .where(S.id == o.subscription_id)
                        .values(status="disabled", disabled_reason="the endpoint answered 410 Gone", updated_at=now)
                    )
                    invalidate_subscriptions(session, self.t)
                    await session.execute(
                        update(D)
                        .where(D.subscription_id == o.subscription_id, D.status == "pending")
                        .values(status="cancelled", updated_at=now)
                    )
                else:
                    delay = retry_delay(delivery.attempts)
                    if delay is None:
                        delivery.status = "dead"
                    else:
                        delivery.next_attempt_at = now + timedelta(seconds=delay)

    async def run_once(self) -> int:
        for task in self.extra_tasks:
            try:
                await task()
            except Exception:  # one job's failure (one tenant's data) must not stall every tenant's deliveries
                log.exception("relay task %s failed; deliveries go on", getattr(task, "__name__", task))
        claimed = await self.claim()
        if not claimed:
            return 0
        outcomes = await asyncio.gather(*(self.send(d, e, s) for d, e, s in claimed))
        await self.record(outcomes)
        return len(claimed)

    async def run_forever(self, idle_seconds: float = 1.0, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                sent = await self.run_once()
            except Exception:  # a database hiccup must not end the relay
                log.exception("relay pass failed")
                sent = 0
            if not sent:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=idle_seconds)
                except TimeoutError:
                    pass


def relay_main(
    settings: ServiceSettings, tables: EventTables, extra_tasks: Callable[..., Sequence[Task]] | None = None
) -> None:
    """``python -m services.<svc>.relay``: a relay as a process of its own (scale it out on PostgreSQL)."""
    import signal

    from shared.db import make_engine, make_sessionmaker
    from shared.http import make_http_client
    from shared.observability import configure_logging

    configure_logging(settings.log_level)

    async def main() -> None:
        engine = make_engine(settings.resolved_database_url())
        sessionmaker = make_sessionmaker(engine)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with make_http_client(settings.http_connect_timeout, settings.http_read_timeout) as http:
            policy = OutboundPolicy.for_environment(settings.environment, settings.outbound_allow)
            tasks = extra_tasks(sessionmaker, http) if extra_tasks else ()
            relay = Relay(
                sessionmaker, tables, http, policy, extra_tasks=tasks, lease_seconds=settings.relay_lease_seconds
            )
            log.info("%s relay started", settings.service_name)
            await relay.run_forever(settings.relay_idle_seconds, stop)
        await engine.dispose()

    asyncio.run(main())
