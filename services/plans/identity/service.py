"""Organisations, API keys and token exchange."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.identity.keys import SigningKey
from services.plans.identity.models import ApiKey, Organization
from shared.auth import MAX_TOKEN_LIFETIME
from shared.db import get_scoped, utcnow
from shared.errors import Conflict, Unauthorized

KEY_PREFIX = "xbm_"
#: the revocation list carries keys revoked this recently: older ones have no unexpired token left
REVOCATION_WINDOW = timedelta(seconds=MAX_TOKEN_LIFETIME + 300)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def issue_api_key(session: AsyncSession, org_id: str, name: str, role: str) -> tuple[ApiKey, str]:
    key = _new_key()
    api_key = ApiKey(org_id=org_id, name=name, role=role, key_hash=hash_key(key), prefix=key[:12])
    session.add(api_key)
    await session.flush()
    return api_key, key


async def create_org(session: AsyncSession, name: str) -> tuple[Organization, str]:
    org = Organization(name=name)
    session.add(org)
    await session.flush()
    _, key = await issue_api_key(session, org.id, "bootstrap admin", "admin")
    return org, key


async def revoke_api_key(session: AsyncSession, org_id: str, key_id: str) -> ApiKey:
    api_key = await get_scoped(session, ApiKey, key_id, org_id)
    if api_key.revoked_at is not None:
        return api_key
    if api_key.role == "admin":
        others = await session.scalar(
            select(func.count())
            .select_from(ApiKey)
            .where(ApiKey.org_id == org_id, ApiKey.role == "admin", ApiKey.revoked_at.is_(None), ApiKey.id != key_id)
        )
        if not others:
            raise Conflict("this is the organisation's last active admin key; create another admin key first")
    api_key.revoked_at = utcnow()
    await session.flush()
    return api_key


async def exchange_key(session: AsyncSession, signing_key: SigningKey, raw_key: str, ttl: int) -> str:
    api_key = (await session.execute(select(ApiKey).where(ApiKey.key_hash == hash_key(raw_key)))).scalar_one_or_none()
    if api_key is None or api_key.revoked_at is not None:
        raise Unauthorized("unknown or revoked API key")
    return signing_key.mint(subject=api_key.id, org_id=api_key.org_id, role=api_key.role, ttl_seconds=ttl)


#: how far before a cursor an incremental fetch looks again: a revocation stamped before the cursor but committed
#: after it (a slow transaction, another replica's clock a little behind) is still listed
REVOCATION_OVERLAP = timedelta(seconds=60)


async def revoked_since(session: AsyncSession, since: datetime | None) -> tuple[list[str], datetime]:
    """The ids revoked since ``since`` (less :data:`REVOCATION_OVERLAP`), within :data:`REVOCATION_WINDOW`; with
    no ``since`` the whole window. Returned with the cursor to ask from next time (now)."""
    now = utcnow()
    start = now - REVOCATION_WINDOW
    if since is not None:
        start = max(start, since - REVOCATION_OVERLAP)
    ids = list((await session.scalars(select(ApiKey.id).where(ApiKey.revoked_at >= start))).all())
    return ids, now
