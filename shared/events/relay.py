"""The relay: claims due deliveries fairly, sends them signed with Standard Webhooks, records every attempt.

At-least-once: a claimed row is leased (its ``next_attempt_at`` pushed past the lease) in a committed
transaction before anything is sent, so a relay killed between sending and recording loses nothing — the
row comes due again when the lease runs out and the subscriber sees a duplicate with the same ``webhook-id``.
On PostgreSQL rows are claimed ``FOR UPDATE SKIP LOCKED``, so several relays never send one row at once.
On SQLite run one relay (the embedded default runs it inside the app).

Over 400 lines on purpose: claiming, sending and recording a delivery share one relay's lease, fairness and
in-flight state (the :class:`Relay`); split across modules, that state would have to be passed around.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
from sqlalchemy import Select, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks.webhooks import Webhook

from shared.db import make_engine, make_sessionmaker, utcnow
from shared.errors import Unprocessable
from shared.events.outbox import envelope, invalidate_subscriptions, retry_delay
from shared.events.prune import PRUNE_EVERY, Pruned, prune
from shared.events.tables import DeliveryColumns, EventTables, OutboxEventColumns, SubscriptionColumns
from shared.http import make_http_client
from shared.observability import configure_logging
from shared.outbound import OutboundPolicy
from shared.settings import ServiceSettings

log = logging.getLogger("xbm.relay")
Task = Callable[[], Awaitable[object]]
T = TypeVar("T")
Claimed = tuple[DeliveryColumns, OutboxEventColumns, SubscriptionColumns]


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


def at_most_every(seconds: float, job: Callable[[], Awaitable[T]], otherwise: T) -> Callable[[], Awaitable[T]]:
    """``job`` as a relay job that runs at most once every ``seconds`` in this process (the first call runs it);
    the calls in between answer ``otherwise`` (nothing done)."""
    last = float("-inf")

    async def throttled() -> T:
        nonlocal last
        now = time.monotonic()
        if now - last < seconds:
            return otherwise
        last = now
        return await job()

    return throttled


class Relay:
    """Delivers events and runs the service's relay jobs, each in a loop of its own.

    No subscriber can hold another back: an attempt is bounded in total time (connect, send, the answer's head and
    body together) and in what it reads of the answer (the rest is discarded unread); each delivery is recorded
    as soon as its attempt ends; a relay keeps up to ``concurrency`` attempts in flight, at most
    ``per_subscription`` of them to one subscription, and claims fairly: the services' own (internal)
    subscriptions first, then round robin across organisations and, within one, across its subscriptions. The
    jobs (customs exchange, summaries…) run in their own loop, so neither starves the other."""

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
        per_subscription: int = 4,
        max_answer_bytes: int = 65_536,
        retention: timedelta = timedelta(days=30),
        idempotency_model: Any = None,
    ):
        self.sessionmaker = sessionmaker
        self.tables = tables
        self.http = http
        self.policy = policy
        #: attempts in flight at once (and the most one claim takes)
        self.batch = batch
        self.lease = timedelta(seconds=lease_seconds)
        self.send_timeout = send_timeout
        self.extra_tasks = extra_tasks
        self.per_subscription = per_subscription
        #: the services' own subscriptions serve every organisation: each may take up to half the relay
        self.internal_share = max(per_subscription, batch // 2)
        self._internal: set[str] = set()
        self.max_answer_bytes = max_answer_bytes
        self.retention = retention
        self.idempotency_model = idempotency_model
        #: subscriptions whose attempts are in flight in this relay, and how many
        self._in_flight: Counter[str] = Counter()

    def _due(self, now: datetime, busy: Sequence[str], limit: int) -> Select[tuple[str]]:
        """The ids of the next ``limit`` due deliveries in fair order (no lock: the caller locks what it takes):
        the services' own subscriptions first, then the organisations the events belong to in turns (an internal
        delivery carries no organisation of its own: its event's counts), each subscription's oldest first and at
        most its share (``per_subscription``; ``internal_share`` for the services' own, which serve every
        organisation)."""
        D, E = self.tables.Delivery, self.tables.OutboxEvent
        due = (
            select(
                D.id,
                D.org_id.label("owner"),
                E.org_id.label("tenant"),
                D.next_attempt_at,
                func.row_number()
                .over(partition_by=D.subscription_id, order_by=(D.next_attempt_at, D.id))
                .label("in_subscription"),
            )
            .join(E, E.id == D.event_id)
            .where(D.status == "pending", D.next_attempt_at <= now)
        )
        if busy:
            due = due.where(D.subscription_id.not_in(busy))
        due_rows = due.subquery("due")
        share = case((due_rows.c.owner.is_(None), self.internal_share), else_=self.per_subscription)
        ranked = (
            select(
                due_rows.c.id,
                due_rows.c.owner,
                due_rows.c.next_attempt_at,
                func.row_number()
                .over(partition_by=due_rows.c.tenant, order_by=(due_rows.c.in_subscription, due_rows.c.next_attempt_at))
                .label("in_org"),
            )
            .where(due_rows.c.in_subscription <= share)
            .subquery("ranked")
        )
        internal_first = case((ranked.c.owner.is_(None), 0), else_=1)
        return (
            select(ranked.c.id)
            .order_by(internal_first, ranked.c.in_org, ranked.c.next_attempt_at, ranked.c.id)
            .limit(limit)
        )

    async def claim(
        self, limit: int | None = None
    ) -> list[tuple[DeliveryColumns, OutboxEventColumns, SubscriptionColumns]]:
        """Lease up to ``limit`` (``batch``) due deliveries, fairly; returns (delivery, event, subscription) triples.
        Subscriptions this relay already has ``per_subscription`` attempts in flight for are left for later."""
        D, E, S = self.tables.Delivery, self.tables.OutboxEvent, self.tables.Subscription
        now = utcnow()
        busy = [
            sub
            for sub, count in self._in_flight.items()
            if count >= (self.internal_share if sub in self._internal else self.per_subscription)
        ]
        async with self.sessionmaker() as session, session.begin():
            chosen = list((await session.execute(self._due(now, busy, limit or self.batch))).scalars())
            if not chosen:
                return []
            lock = select(D.id).where(D.id.in_(chosen), D.status == "pending", D.next_attempt_at <= now)
            if session.bind.dialect.name == "postgresql":  # type: ignore[union-attr]
                lock = lock.with_for_update(skip_locked=True)  # another relay's rows are left to it
            ids = list((await session.execute(lock)).scalars())
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
            async with asyncio.timeout(self.send_timeout):
                status_code = await self._exchange(event, subscription)
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except Unprocessable as exc:
            error = exc.detail[:500]
        except (TimeoutError, httpx.TimeoutException):
            error = f"no complete answer within {self.send_timeout:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        return Outcome(delivery.id, subscription.id, status_code, error, int((time.perf_counter() - start) * 1000))

    async def _exchange(self, event: OutboxEventColumns, subscription: SubscriptionColumns) -> int:
        """POSTs the event; reads at most ``max_answer_bytes`` of the answer and drops the connection after."""
        body = envelope(event)
        headers = signed_headers(subscription.secret, event.id, body)
        url: str = subscription.url
        extensions: dict[str, Any] = {}
        if subscription.org_id is not None:  # internal subscriptions are configured by operators
            # checked again on every attempt, and sent to the very address checked (the name is not
            # resolved a second time by the client, so DNS rebinding cannot reach an internal host)
            url, host_header, extensions = (await self.policy.resolve(subscription.url)).pinned()
            headers.update(host_header)
        request = self.http.build_request(
            "POST", url, content=body, headers=headers, timeout=self.send_timeout, extensions=extensions
        )
        response = await self.http.send(request, stream=True)
        try:
            read = 0
            if not response.is_stream_consumed:  # an answer made in memory (a test double) has nothing to stream
                async for chunk in response.aiter_raw():
                    read += len(chunk)
                    if read >= self.max_answer_bytes:
                        break
        finally:
            await response.aclose()
        return response.status_code

    async def record_outcomes(self, outcomes: Sequence[Outcome]) -> None:
        D, S, A = self.tables.Delivery, self.tables.Subscription, self.tables.Attempt
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
                        .values(
                            status="disabled",
                            disabled_reason="the endpoint answered 410 Gone",
                            updated_at=now,
                            version=S.version + 1,  # a PATCH holding the subscription's previous ETag is refused
                        )
                    )
                    invalidate_subscriptions(session, self.tables)
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

    async def deliver(
        self, delivery: DeliveryColumns, event: OutboxEventColumns, subscription: SubscriptionColumns
    ) -> None:
        """One attempt, recorded as soon as it ends (a failure to record leaves the lease to bring it back)."""
        self._in_flight[subscription.id] += 1
        if subscription.org_id is None:
            self._internal.add(subscription.id)
        try:
            outcome = await self.send(delivery, event, subscription)
            await self.record_outcomes([outcome])
        except Exception:
            log.exception("recording delivery %s failed; it comes due again when its lease ends", delivery.id)
        finally:
            self._in_flight[subscription.id] -= 1
            if self._in_flight[subscription.id] <= 0:
                del self._in_flight[subscription.id]

    async def run_jobs(self) -> None:
        for task in self.extra_tasks:
            try:
                await task()
            except Exception:  # one job's failure (one tenant's data) must not stall every tenant's deliveries
                log.exception("relay task %s failed; deliveries go on", getattr(task, "__name__", task))

    async def run_once(self) -> int:
        """One pass: the jobs, then one claim's deliveries, each attempted and recorded; the number claimed."""
        await self.run_jobs()
        claimed = await self.claim()
        await asyncio.gather(*(self.deliver(d, e, s) for d, e, s in claimed))
        return len(claimed)

    async def run_forever(self, idle_seconds: float = 1.0, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        jobs = asyncio.create_task(self._jobs_forever(idle_seconds, stop))
        try:
            await self._deliveries_forever(idle_seconds, stop)
        finally:
            await jobs

    async def prune(self) -> Pruned:
        """Deletes what has outlived its retention (shared.events.prune)."""
        return await prune(
            self.sessionmaker, self.tables, retention=self.retention, idempotency_model=self.idempotency_model
        )

    async def _jobs_forever(self, idle_seconds: float, stop: asyncio.Event) -> None:
        prune_when_due = at_most_every(PRUNE_EVERY, self.prune, Pruned())
        while not stop.is_set():
            await self.run_jobs()
            try:
                await prune_when_due()
            except Exception:
                log.exception("pruning old events failed; it is tried again later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=idle_seconds)

    async def _deliveries_forever(self, idle_seconds: float, stop: asyncio.Event) -> None:
        """Keeps up to ``batch`` attempts in flight: a slow attempt occupies one place, never the loop."""
        in_flight: set[asyncio.Task[None]] = set()
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                claimed: list[Claimed] = []
                room = self.batch - len(in_flight)
                if room > 0:
                    try:
                        claimed = await self.claim(room)
                    except Exception:  # a database hiccup must not end the relay
                        log.exception("claiming deliveries failed")
                for d, e, s in claimed:
                    in_flight.add(asyncio.create_task(self.deliver(d, e, s)))
                if claimed and len(in_flight) < self.batch:
                    continue  # there may be more due work and there is room for it
                done, _ = await asyncio.wait(
                    {*in_flight, stopping}, timeout=idle_seconds, return_when=asyncio.FIRST_COMPLETED
                )
                in_flight -= done
        finally:
            stopping.cancel()
            if in_flight:  # each is bounded by send_timeout
                await asyncio.wait(in_flight)


def relay_main(
    settings: ServiceSettings,
    tables: EventTables,
    extra_tasks: Callable[..., Sequence[Task]] | None = None,
    idempotency_model: Any = None,
) -> None:
    """``python -m services.<svc>.relay``: a relay as a process of its own (scale it out on PostgreSQL)."""
    configure_logging(settings.log_level)

    async def main() -> None:
        engine = make_engine(
            settings.resolved_database_url(), pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
        )
        sessionmaker = make_sessionmaker(engine)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with make_http_client(settings.http_connect_timeout, settings.http_read_timeout) as http:
            policy = OutboundPolicy.for_environment(
                settings.environment, settings.outbound_allow, ports=settings.outbound_allow_ports
            )
            tasks = extra_tasks(sessionmaker, http) if extra_tasks else ()
            relay = Relay(
                sessionmaker,
                tables,
                http,
                policy,
                extra_tasks=tasks,
                lease_seconds=settings.relay_lease_seconds,
                retention=timedelta(days=settings.events_retention_days),
                idempotency_model=idempotency_model,
            )
            log.info("%s relay started", settings.service_name)
            await relay.run_forever(settings.relay_idle_seconds, stop)
        await engine.dispose()

    asyncio.run(main())
