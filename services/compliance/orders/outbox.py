"""The folder XBM shares with the e-port transfer client for messages out (``XBM_COMPLIANCE_CUSTOMS_OUTBOX``; the
receipts coming back are taken by ``intake/customs_inbox.py``). It runs as a periodic job of the relay; each
message is handled in a transaction of its own. It lives with the orders, not in ``customs/``, because it
prepares an order's declaration before sending it: ``customs/`` builds, signs and checks messages and knows no
order.

The outbox is fair: a pass takes only due messages (a message that could not go waits for its own next attempt,
``waiting.py``), the organisations taking turns, and several relays on one PostgreSQL database share the work
(leases taken ``FOR UPDATE SKIP LOCKED``). Nothing one message does — waiting for customs' number, a signer that
is down, setup that is missing, an error — holds up another."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.compliance.customs import waiting
from services.compliance.customs.context import CustomsContext
from services.compliance.customs.models import CustomsMessage
from services.compliance.customs.signing import SignatureParts, Signer, SigningError
from services.compliance.customs.transport import StepHook, envelope, file_name, publish
from services.compliance.customs.waiting import OPEN, clear_failure
from services.compliance.orders.declaration import prepare
from services.compliance.orders.models import Declaration
from services.compliance.orders.profiles import declared_under
from services.compliance.pii import Pii
from services.compliance.setup.models import CustomsProfile
from shared.db import utcnow

log = logging.getLogger(__name__)
#: messages one relay pass takes (of all organisations, in turns)
BATCH = 100
#: how long a relay holds the messages it took before another may take them (a relay killed mid-pass: its
#: messages go again once the lease has run out)
LEASE = timedelta(seconds=60)


@dataclass
class Attempt:
    sent: bool = False
    #: built and signed in this attempt (the signer works)
    signed: bool = False


class PassSigner:
    """The signer as one pass sees it: once it has failed in the pass, the rest of the pass does not wait for it
    again (an agent that times out would cost every message its timeout); those messages fail for the same
    reason and are tried again at their next attempt."""

    def __init__(self, inner: Signer):
        self.inner, self.algorithm = inner, inner.algorithm
        self.failed: str | None = None

    async def sign(self, signed_info: bytes) -> SignatureParts:
        if self.failed is not None:
            raise SigningError(self.failed)
        try:
            return await self.inner.sign(signed_info)
        except SigningError as exc:
            self.failed = exc.detail
            raise


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        CustomsMessage.status.in_(OPEN),
        or_(CustomsMessage.next_attempt_at.is_(None), CustomsMessage.next_attempt_at <= now),
    )


async def claim(
    sessions: async_sessionmaker[AsyncSession], now: datetime, batch: int = BATCH, org_id: str | None = None
) -> tuple[list[str], datetime]:
    """Lease up to ``batch`` due messages, the organisations taking turns: each one's oldest first, then each
    one's second, … so one organisation's backlog never fills the pass. On PostgreSQL rows another relay is
    taking are skipped (``FOR UPDATE SKIP LOCKED``); a taken row is leased until the returned time."""
    lease = now + LEASE
    async with sessions() as session, session.begin():
        turn = func.row_number().over(
            partition_by=CustomsMessage.org_id, order_by=(CustomsMessage.created_at, CustomsMessage.id)
        )
        ranked = select(CustomsMessage.id, CustomsMessage.created_at, turn.label("turn")).where(_due(now))
        if org_id is not None:
            ranked = ranked.where(CustomsMessage.org_id == org_id)
        sub = ranked.subquery()
        # the locking read skips (and its LIMIT passes over) rows another relay is taking at this moment
        stmt = (
            select(CustomsMessage.id)
            .join(sub, sub.c.id == CustomsMessage.id)
            .where(_due(now))
            .order_by(sub.c.turn, sub.c.created_at, sub.c.id)
            .limit(batch)
            .with_for_update(skip_locked=True, of=CustomsMessage)
        )
        ids = list((await session.execute(stmt)).scalars())
        if not ids:
            return [], lease
        taken = await session.execute(
            update(CustomsMessage)
            .where(CustomsMessage.id.in_(ids), _due(now))
            .values(next_attempt_at=lease)
            .returning(CustomsMessage.id)
        )
        leased = set(taken.scalars())
    return [i for i in ids if i in leased], lease


async def send_pending(
    sessions: async_sessionmaker[AsyncSession],
    ctx: CustomsContext,
    pii: Pii,
    step: StepHook | None = None,
    org_id: str | None = None,
    *,
    now: datetime | None = None,
    batch: int = BATCH,
) -> int:
    """One relay pass: take the due messages (one organisation's when ``org_id`` is given), build what is
    pending and write each to the outbox in its DxpMsg envelope; returns how many were written. A message that
    cannot go yet waits on its own (``waiting.py``) and is said in the log once, not on every pass."""
    outbox = ctx.outbox
    if outbox is None:
        return 0
    now = now or utcnow()
    ids, lease = await claim(sessions, now, batch, org_id)
    if ctx.signer is not None:
        ctx = replace(ctx, signer=PassSigner(ctx.signer))
    written, signed = 0, False
    for message_id in ids:
        outcome = await _attempt(sessions, ctx, pii, outbox, message_id, lease, now, step)
        written += outcome.sent
        signed = signed or outcome.signed
    if signed:  # the signer signs again: what waited for it goes in the next pass, whatever its backoff
        try:
            async with sessions() as session, session.begin():
                await waiting.wake(session, CustomsMessage.status == "failed", CustomsMessage.failure_cause == "signer")
        except Exception:
            log.exception("could not wake the messages that waited for the signer; they go at their next attempt")
    return written


async def _attempt(
    sessions: async_sessionmaker[AsyncSession],
    ctx: CustomsContext,
    pii: Pii,
    outbox: Path,
    message_id: str,
    lease: datetime,
    now: datetime,
    step: StepHook | None,
) -> Attempt:
    """Build (if pending), envelope, validate and write one message in a transaction of its own; a failure is
    recorded on the message. Skipped when another relay has it or it is out already."""
    outcome = Attempt()
    try:
        async with sessions() as session, session.begin():
            # waits (briefly) rather than skips a locked row: another relay's claim may hold the lock on a row it
            # read but did not lease; once it is free, the checks below say whether the message is still ours
            message = await session.get(CustomsMessage, message_id, with_for_update=True, populate_existing=True)
            # another relay took it since (its lease, or a failure it recorded, is later than ours)
            if message is None or message.status not in OPEN:
                return outcome
            if message.next_attempt_at is not None and message.next_attempt_at > lease:
                return outcome
            was = message.failure_cause, message.attempts
            kind, guid = message.message_type, message.guid
            unbuilt = message.body_encrypted is None
            body = await prepare(session, ctx, pii, message)
            outcome.signed = unbuilt and ctx.signer is not None
            profile = await sender_profile(session, message)
            sender = profile.dxp_id if profile else "XBM"
            data = envelope(body, guid=message.guid, message_type=f"{message.message_type}Message",
                            sender_id=sender, receiver_id=ctx.receiver_id, at=message.created_at)  # fmt: skip
            ctx.schemas.validate_envelope(data)
            name = file_name(message.message_type, message.guid)
            publish(outbox, name, message.guid, data, step)
            message.status, message.sent_at, message.file_name = "sent", utcnow(), name
            clear_failure(message)
        if was[0] is not None:
            log.info("customs message %s %s is out after %d failed attempts (%s)", kind, guid, was[1], was[0])
        outcome.sent = True
    except Exception as exc:
        failure = waiting.classify(exc)
        if failure.cause == "error":
            log.exception("customs message %s: unexpected error; it is tried again later", message_id)
        await _record(sessions, message_id, failure, now)
    return outcome


async def _record(
    sessions: async_sessionmaker[AsyncSession], message_id: str, failure: waiting.Failure, now: datetime
) -> None:
    async with sessions() as session, session.begin():
        message = await session.get(CustomsMessage, message_id, with_for_update=True, populate_existing=True)
        if message is None or message.status not in OPEN:
            return
        news = waiting.record_failure(message, failure, max(now, utcnow()))  # a long pass: from its end
        what = (message.message_type, message.guid, message.org_id, failure.cause, failure.reason)
        at = message.next_attempt_at
    if news:  # said once; the next attempts for the same reason are only in the debug log
        log.warning("customs message %s %s (org %s) waits [%s]: %s; tried again from %s", *what, at)
    else:
        log.debug("customs message %s %s (org %s) still waits [%s]: %s; tried again from %s", *what, at)


async def sender_profile(session: AsyncSession, message: CustomsMessage) -> CustomsProfile | None:
    """The profile whose DxpMsg id a message is sent under: its declaration's, the one it names (a message over
    several lists), else the organisation's default."""
    if message.profile_id is not None:
        named = await session.get(CustomsProfile, message.profile_id)
        if named is not None and named.org_id == message.org_id:
            return named
    declaration = await session.get(Declaration, message.declaration_id) if message.declaration_id else None
    return await declared_under(session, declaration, message.org_id)
