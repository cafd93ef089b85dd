"""Why a message to customs is not out yet, and when it is tried again.

Every message waits on its own: an attempt that cannot build, sign or write it records its cause and reason on
the message and pushes its next attempt back (doubling from :data:`FIRST_DELAY` up to the cause's cap), so the
relay passes over it until then and takes the messages that can go. Waiting for customs' list number is the
normal course of a withdrawal (the message stays ``pending``); every other cause makes it ``failed``, shown on its
order and listed in the exceptions, until an attempt succeeds."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customs.declarations import NotNumbered
from services.compliance.customs.models import CustomsMessage
from services.compliance.customs.signing import SigningError
from services.compliance.customs.xsd import InvalidEnvelope, InvalidMessage
from shared.errors import AppError

#: not out yet: the relay's work
OPEN = ("pending", "queued", "failed")
FIRST_DELAY = timedelta(seconds=10)
#: the longest wait between two attempts, by cause: a signer comes back by itself (tried often); customs' number
#: comes with its receipt (which wakes the message at once); the seller's setup or a bug needs someone to act
CAPS = {
    "signer": timedelta(minutes=5),
    "customs_number": timedelta(minutes=30),
    "setup": timedelta(hours=1),
    "schema": timedelta(hours=1),
    "envelope": timedelta(hours=1),
    "outbox": timedelta(minutes=1),
    "error": timedelta(hours=1),
}
#: what resolves each cause (the exceptions queue shows it)
ACTIONS = {
    "signer": "bring the signer back (key files or signing agent); the message is signed and sent by itself",
    "customs_number": "none: it goes as soon as customs' receipt gives the inventory list its number",
    "setup": "restore what the message is built from (customs profile, item record, payment, waybill); it is "
    "tried again by itself",
    "schema": "the message does not satisfy the official schema: correct the order or report it to XBM",
    "envelope": "correct the customs profile's dxp_id (at most 16 characters); it is tried again by itself",
    "outbox": "make the e-port send folder writable; it is tried again by itself",
    "error": "an unexpected error, logged for the operator; it is tried again by itself",
}


@dataclass(frozen=True)
class Failure:
    cause: str
    reason: str


def classify(exc: BaseException) -> Failure:
    """The cause of an attempt's failure, and the reason shown to the seller."""
    if isinstance(exc, NotNumbered):
        return Failure("customs_number", exc.detail)
    if isinstance(exc, SigningError):
        return Failure("signer", exc.detail)
    if isinstance(exc, InvalidEnvelope):
        return Failure("envelope", str(exc))
    if isinstance(exc, InvalidMessage):
        return Failure("schema", str(exc))
    if isinstance(exc, AppError):
        return Failure("setup", exc.detail)
    if isinstance(exc, OSError):
        return Failure("outbox", f"the outbox folder cannot be written: {exc.strerror or exc}")
    return Failure("error", f"unexpected error ({type(exc).__name__}); the operator's log has it")


def delay(cause: str, attempts: int) -> timedelta:
    """The wait before attempt ``attempts + 1``: 10 s, 20 s, 40 s … up to the cause's cap."""
    cap = CAPS.get(cause, CAPS["error"])
    if attempts >= 20:
        return cap
    return min(FIRST_DELAY * 2 ** max(attempts - 1, 0), cap)


def record_failure(message: CustomsMessage, failure: Failure, now: datetime) -> bool:
    """Note a failed attempt on ``message``; True when it is news (a new cause or reason), worth one log line."""
    news = (message.failure_cause, message.failure_reason) != (failure.cause, failure.reason[:1000])
    if message.failure_cause != failure.cause or message.failing_since is None:
        message.failing_since = now
    message.attempts = (message.attempts or 0) + 1
    message.failure_cause, message.failure_reason = failure.cause, failure.reason[:1000]
    message.status = "pending" if failure.cause == "customs_number" else "failed"
    message.next_attempt_at = now + delay(failure.cause, message.attempts)
    return news


def clear_failure(message: CustomsMessage) -> None:
    message.attempts = 0
    message.failure_cause = message.failure_reason = None
    message.failing_since = message.next_attempt_at = None


def retry_after(message: CustomsMessage, now: datetime, default: int = 30) -> int:
    """Seconds until the outbox tries ``message`` again (``default`` when it is due now): a Retry-After."""
    if message.next_attempt_at is None or message.next_attempt_at <= now:
        return default
    return max(1, math.ceil((message.next_attempt_at - now).total_seconds()))


async def wake(session: AsyncSession, *where: Any) -> None:
    """Make the waiting messages matching ``where`` due at once (what they waited for has come). Rows a relay is
    working on at this moment are passed over (``SKIP LOCKED``): that relay records their outcome itself, and two
    wakes never wait for each other."""
    waiting = (
        select(CustomsMessage.id)
        .where(CustomsMessage.status.in_(OPEN), CustomsMessage.next_attempt_at.is_not(None), *where)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(CustomsMessage)
        .where(CustomsMessage.id.in_(waiting.scalar_subquery()))
        .values(next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)


async def wake_setup(session: AsyncSession, org_id: str) -> None:
    """The seller changed what messages are built from (an item record, the customs profile, a payment
    institution): the organisation's messages that waited for their setup are tried at once."""
    await wake(session, CustomsMessage.org_id == org_id, CustomsMessage.failure_cause == "setup")


async def wake_numbered(session: AsyncSession, org_id: str, declaration_id: str) -> None:
    """Customs has numbered the declaration's list: its withdrawal (or return) waiting for the number goes now."""
    await wake(
        session,
        CustomsMessage.org_id == org_id,
        CustomsMessage.declaration_id == declaration_id,
        CustomsMessage.failure_cause == "customs_number",
    )
