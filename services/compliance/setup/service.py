"""Setup: the customs profile, the payment-institution registry and the document sources."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.dbutil import retry_on_lock_conflict
from services.compliance.orders.service import declare_waiting
from services.compliance.pii import Pii
from services.compliance.setup.models import CustomsProfile, PaymentInstitution, Source
from services.compliance.setup.schemas import SourceIn
from shared.db import new_id, scoped
from shared.errors import Conflict, NotFound, Unprocessable

#: what each role may send
ROLE_DOCUMENTS = {"platform": "order", "payment": "payment", "logistics": "waybill"}


async def find_profile(session: AsyncSession, org_id: str) -> CustomsProfile | None:
    return (await session.execute(scoped(CustomsProfile, org_id))).scalar_one_or_none()


async def get_profile(session: AsyncSession, org_id: str) -> CustomsProfile:
    profile = await find_profile(session, org_id)
    if profile is None:
        raise NotFound("no customs profile yet; PUT /v1/compliance/customs-profile first")
    return profile


async def put_profile(session: AsyncSession, org_id: str, fields: dict[str, Any]) -> tuple[CustomsProfile, bool]:
    """Create or replace the profile; matched orders that waited for it are declared now (a bounded batch)."""
    profile = await find_profile(session, org_id)
    created = profile is None
    if profile is None:
        profile = CustomsProfile(org_id=org_id, **fields)
        session.add(profile)
    else:
        for name, value in fields.items():
            setattr(profile, name, value)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("the customs profile was created concurrently; read it and try again") from exc
    async with retry_on_lock_conflict():
        await declare_waiting(session, org_id)
    return profile, created


async def find_institution(session: AsyncSession, org_id: str, pay_code: str) -> PaymentInstitution | None:
    stmt = scoped(PaymentInstitution, org_id).where(PaymentInstitution.pay_code == pay_code)
    return (await session.execute(stmt)).scalar_one_or_none()


async def add_institution(session: AsyncSession, org_id: str, fields: dict[str, Any]) -> PaymentInstitution:
    institution = PaymentInstitution(org_id=org_id, **fields)
    session.add(institution)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"payment institution {fields['pay_code']} is already registered") from exc
    return institution


def new_secret(kind: str) -> str:
    """Standard Webhooks secrets are ``whsec_`` + base64 of 32 random bytes; Shopify and WooCommerce take any
    shared string."""
    if kind == "standard_webhooks":
        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    return secrets.token_hex(32)


def _check_codes(body: SourceIn) -> None:
    if body.kind in ("shopify", "woocommerce") and body.role != "platform":
        raise Unprocessable(f"a {body.kind} source sends orders: its role must be platform", loc=["body", "role"])
    needed = {"platform": "ebp_code", "payment": "pay_code", "logistics": "logistics_code"}[body.role]
    if body.kind != "standard_webhooks" and getattr(body, needed) is None:
        raise Unprocessable(f"a {body.role} source needs {needed}", loc=["body", needed])


async def add_source(session: AsyncSession, pii: Pii, org_id: str, body: SourceIn) -> tuple[Source, str]:
    _check_codes(body)
    secret = new_secret(body.kind)
    source_id = new_id()
    sealed = pii.encrypt(secret, f"source:{source_id}")
    source = Source(id=source_id, org_id=org_id, **body.model_dump(), secret_encrypted=sealed)
    session.add(source)
    await session.flush()
    return source, secret


async def delete_source(session: AsyncSession, source: Source) -> None:
    await session.delete(source)
    await session.flush()
