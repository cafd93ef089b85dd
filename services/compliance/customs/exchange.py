"""The folders XBM shares with the e-port transfer client: messages out (``XBM_COMPLIANCE_CUSTOMS_OUTBOX``),
receipts in (``XBM_COMPLIANCE_CUSTOMS_INBOX``). Both run as periodic jobs of the relay; each message and each
receipt file is handled in a transaction of its own."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.compliance.customs.context import CustomsContext
from services.compliance.customs.models import CustomsMessage
from services.compliance.customs.signing import SigningError
from services.compliance.customs.transport import StepHook, envelope, file_name, publish, unwrap
from services.compliance.customs.xsd import InvalidMessage
from services.compliance.orders.declaration import prepare, profile_of
from services.compliance.pii import Pii
from services.compliance.setup.models import CustomsProfile
from shared.db import utcnow
from shared.errors import AppError

log = logging.getLogger(__name__)
BATCH = 100
MAX_INBOX_FILE = 1_000_000


async def send_pending(
    sessions: async_sessionmaker[AsyncSession],
    ctx: CustomsContext,
    pii: Pii,
    step: StepHook | None = None,
    org_id: str | None = None,
) -> int:
    """Build what is pending and write what is queued to the outbox (one organisation's when ``org_id`` is
    given); returns how many were written."""
    if ctx.outbox is None:
        return 0
    async with sessions() as session:
        stmt = select(CustomsMessage.id).where(CustomsMessage.status.in_(("pending", "queued")))
        if org_id is not None:
            stmt = stmt.where(CustomsMessage.org_id == org_id)
        ids = list((await session.execute(stmt.order_by(CustomsMessage.created_at).limit(BATCH))).scalars())
    written = 0
    for message_id in ids:
        async with sessions() as session, session.begin():
            message = await session.get(CustomsMessage, message_id, with_for_update=True)
            if message is None or message.status not in ("pending", "queued"):
                continue
            try:
                body = await prepare(session, ctx, pii, message)
            except (AppError, InvalidMessage, SigningError) as exc:
                # e.g. a withdrawal waiting for customs to number the list: tried again on the next pass
                log.info("customs message %s not ready: %s", message.guid, exc)
                continue
            profile = await profile_of(session, message.org_id)
            sender = profile.dxp_id if profile else "XBM"
            data = envelope(body, guid=message.guid, message_type=f"{message.message_type}Message",
                            sender_id=sender, receiver_id=ctx.receiver_id, at=message.created_at)  # fmt: skip
            name = file_name(message.message_type, message.guid)
            publish(ctx.outbox, name, message.guid, data, step)
            message.status, message.sent_at, message.file_name = "sent", utcnow(), name
            written += 1
    return written


async def _org_for(session: AsyncSession, receiver: str | None) -> str | None:
    """The organisation whose profile's DxpMsg id the receipt is addressed to; with no address, the only seller
    on this deployment. Two profiles sharing one id cannot tell their receipts apart: neither gets them."""
    stmt = select(CustomsProfile.org_id)
    if receiver:
        stmt = stmt.where(CustomsProfile.dxp_id == receiver)
    orgs = list((await session.execute(stmt.limit(2))).scalars())
    return orgs[0] if len(orgs) == 1 else None


async def take_inbox(sessions: async_sessionmaker[AsyncSession], ctx: CustomsContext, pii: Pii) -> int:
    """Take each receipt file as if posted to /messages; once stored it moves to ``done/`` (refused ones to
    ``failed/`` with the reason beside them). A crash before the move takes the file again: receipts are kept
    by fingerprint, so nothing is applied twice."""
    from services.compliance.intake.service import receive_message

    if ctx.inbox is None:
        return 0
    taken = 0
    for path in sorted(p for p in ctx.inbox.iterdir() if p.is_file() and p.suffix.lower() == ".xml"):
        try:
            raw = path.read_bytes()[: MAX_INBOX_FILE + 1]
            if len(raw) > MAX_INBOX_FILE:
                raise InvalidMessage("receipt file larger than 1 MB")
            body, receiver = unwrap(raw)
            async with sessions() as session, session.begin():
                org_id = await _org_for(session, receiver)
                if org_id is None:
                    raise InvalidMessage(f"no customs profile receives messages for {receiver!r}")
                await receive_message(session, pii, org_id, body)
        except (AppError, InvalidMessage, ValueError) as exc:
            _move(path, ctx.inbox / "failed")
            (ctx.inbox / "failed" / f"{path.name}.reason.txt").write_text(str(exc)[:2000])
            continue
        _move(path, ctx.inbox / "done")
        taken += 1
    return taken


def _move(path: Path, folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    shutil.move(str(path), str(folder / path.name))
