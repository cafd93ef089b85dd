"""Campaign kinds: the six built-ins and the ones each organisation adds."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.kinds.builtin import BUILTIN_KINDS
from services.campaigns.kinds.models import CampaignKind
from services.campaigns.kinds.schemas import KindIn, KindOut
from services.campaigns.kinds.validation import check_settings_schema
from shared.db import scoped
from shared.errors import Conflict, FieldError, NotFound


def builtin_kinds() -> list[KindOut]:
    return [
        KindOut(key=key, name=kind["name"], builtin=True, settings_schema=kind["settings_schema"])
        for key, kind in BUILTIN_KINDS.items()
    ]


def _out(kind: CampaignKind) -> KindOut:
    return KindOut(key=kind.key, name=kind.name, builtin=False, settings_schema=kind.settings_schema)


async def list_kinds(session: AsyncSession, org_id: str) -> list[KindOut]:
    own = (await session.execute(scoped(CampaignKind, org_id).order_by(CampaignKind.key))).scalars().all()
    return builtin_kinds() + [_out(k) for k in own]


async def add_kind(session: AsyncSession, org_id: str, body: KindIn) -> KindOut:
    if body.key in BUILTIN_KINDS:
        raise Conflict(f"kind {body.key!r} is built in")
    check_settings_schema(body.settings_schema)
    kind = CampaignKind(org_id=org_id, key=body.key, name=body.name, settings_schema=body.settings_schema)
    session.add(kind)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"kind {body.key!r} already exists in this organisation") from exc
    return _out(kind)


async def settings_schema_of(session: AsyncSession, org_id: str, key: str) -> dict[str, Any]:
    """The settings schema of a built-in or the organisation's own kind; 422 naming ``kind`` when unknown."""
    if key in BUILTIN_KINDS:
        schema: dict[str, Any] = BUILTIN_KINDS[key]["settings_schema"]
        return schema
    stmt = scoped(CampaignKind, org_id).where(CampaignKind.key == key)
    kind = (await session.execute(stmt)).scalar_one_or_none()
    if kind is None:
        raise FieldError("kind", f"unknown campaign kind {key[:64]!r}")
    return kind.settings_schema


async def get_kind(session: AsyncSession, org_id: str, key: str) -> KindOut:
    if key in BUILTIN_KINDS:
        kind = BUILTIN_KINDS[key]
        return KindOut(key=key, name=kind["name"], builtin=True, settings_schema=kind["settings_schema"])
    found = (await session.execute(scoped(CampaignKind, org_id).where(CampaignKind.key == key))).scalar_one_or_none()
    if found is None:
        raise NotFound(f"campaign kind {key!r} not found")
    return _out(found)
