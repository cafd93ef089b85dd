"""Keeping a message XBM builds at once rather than queues to be built (the monthly summary, a master bill, an
export return): validated, signed when a signer is configured, encrypted and ``queued`` for the outbox."""

from __future__ import annotations

from typing import Any

from lxml import etree
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customs import declarations as build
from services.compliance.customs.context import CustomsContext
from services.compliance.customs.models import CustomsMessage
from services.compliance.customs.signing import sign_message
from services.compliance.pii import Pii
from shared.db import new_id, utcnow


async def store_built(
    session: AsyncSession,
    ctx: CustomsContext,
    pii: Pii,
    tree: etree._Element,
    *,
    org_id: str,
    message_type: str,
    guid: str,
    **refs: Any,
) -> CustomsMessage:
    """A message built at once rather than queued to be built (the summary, a master bill, an export return):
    validated against the XSD, signed when a signer is configured, and kept encrypted, ``queued`` for the
    outbox. A signer that cannot sign now raises :class:`SigningError` (503), and nothing is stored."""
    validated = ctx.schemas.validate(tree)
    if ctx.signer is not None:
        tree = await sign_message(tree, ctx.signer)
    message = CustomsMessage(
        id=new_id(), org_id=org_id, message_type=message_type, guid=guid, status="queued",
        body_encrypted=pii.encrypt(build.serialise(tree).decode(), f"message:{org_id}"),
        signed=ctx.signer is not None, validated=validated, created_at=utcnow(), **refs,
    )  # fmt: skip
    session.add(message)
    return message
