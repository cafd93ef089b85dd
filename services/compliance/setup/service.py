"""Setup: the payment-institution registry and the document sources (the customs profiles: profiles.py)."""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customs.waiting import wake_setup
from services.compliance.orders.rematch import rematch_waiting
from services.compliance.pii import Pii
from services.compliance.setup import licences, profiles
from services.compliance.setup.models import PaymentInstitution, Source
from services.compliance.setup.schemas import PaymentInstitutionOut, SourceIn, SourceOut
from shared.db import get_scoped, new_id, utcnow
from shared.errors import Conflict, FieldError, Unprocessable
from shared.etag import Precondition

#: how long the previous secret keeps verifying after a rotation
PREVIOUS_SECRET_VALID = timedelta(hours=24)
#: what each role may send
ROLE_DOCUMENTS = {"platform": "order", "payment": "payment", "logistics": "waybill"}


async def add_institution(session: AsyncSession, org_id: str, fields: dict[str, Any]) -> PaymentInstitutionOut:
    """Register an institution; the orders held in mismatch for want of it are then compared again. Answers the
    institution as registered."""
    fields = {**fields, "kind": licences.kind_of(fields.get("kind"), fields.get("scopes") or [])}
    institution = PaymentInstitution(org_id=org_id, **fields)
    session.add(institution)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"payment institution {fields['pay_code']} is already registered") from exc
    await wake_setup(session, org_id)  # a receipt of payment waiting for the institution's name (payName) goes now
    out = PaymentInstitutionOut.model_validate(institution)
    await rematch_waiting(session, org_id, pay_code=institution.pay_code)
    return out


def new_secret(kind: str) -> str:
    """Standard Webhooks secrets are ``whsec_`` + base64 of 32 random bytes; Shopify and WooCommerce take any
    shared string."""
    if kind == "standard_webhooks":
        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    return secrets.token_hex(32)


def check_secret(kind: str, secret: str, where: list[str | int]) -> None:
    """A Standard Webhooks secret is ``whsec_`` + base64 of 24–64 random bytes (Standard Webhooks); Shopify and
    WooCommerce sign with whatever key the platform shows."""
    if kind != "standard_webhooks":
        return
    try:
        raw = base64.b64decode(secret.removeprefix("whsec_"), validate=True) if secret.startswith("whsec_") else b""
    except (binascii.Error, ValueError):
        raw = b""
    if not 24 <= len(raw) <= 64:
        raise Unprocessable("a standard_webhooks secret is whsec_ + base64 of 24 to 64 random bytes", loc=where)


def _check_codes(body: SourceIn) -> None:
    if body.kind in ("shopify", "woocommerce") and body.role != "platform":
        raise FieldError("role", f"a {body.kind} source sends orders: its role must be platform")
    needed = {"platform": "ebp_code", "payment": "pay_code", "logistics": "logistics_code"}[body.role]
    if body.kind != "standard_webhooks" and getattr(body, needed) is None:
        raise FieldError(needed, f"a {body.role} source needs {needed}")


async def add_source(session: AsyncSession, pii: Pii, org_id: str, body: SourceIn) -> tuple[Source, str]:
    _check_codes(body)
    await profiles.named_by_source(session, org_id, body.customs_profile_id)
    if body.secret is not None:
        check_secret(body.kind, body.secret, ["body", "secret"])
    secret = body.secret or new_secret(body.kind)
    source_id = new_id()
    sealed = pii.encrypt(secret, f"source:{source_id}")
    fields = body.model_dump(exclude={"secret"})
    source = Source(id=source_id, org_id=org_id, **fields, secret_encrypted=sealed)
    session.add(source)
    await session.flush()
    return source, secret


async def rotate_secret(session: AsyncSession, pii: Pii, source: Source, given: str | None) -> str:
    """A new secret (the one given, else a generated one); the current one keeps verifying for
    :data:`PREVIOUS_SECRET_VALID`, so deliveries signed before the platform has the new one still pass."""
    if given is not None:
        check_secret(source.kind, given, ["body", "secret"])
    secret = given or new_secret(source.kind)
    current = pii.decrypt(source.secret_encrypted, f"source:{source.id}")
    source.previous_secret_encrypted = pii.encrypt(current, f"source:{source.id}:previous")
    source.previous_secret_until = utcnow() + PREVIOUS_SECRET_VALID
    source.secret_encrypted = pii.encrypt(secret, f"source:{source.id}")
    await session.flush()
    return secret


async def rotate_source_secret(
    session: AsyncSession, pii: Pii, org_id: str, source_id: str, given: str | None, precondition: Precondition
) -> tuple[Source, str]:
    """``POST …/sources/{id}/secret``, while the client's copy of the source is still current."""
    source = await get_scoped(session, Source, source_id, org_id)
    precondition(SourceOut.model_validate(source))
    return source, await rotate_secret(session, pii, source, given)


async def delete_source(session: AsyncSession, org_id: str, source_id: str, precondition: Precondition) -> None:
    source = await get_scoped(session, Source, source_id, org_id)
    precondition(SourceOut.model_validate(source))
    await session.delete(source)
    await session.flush()


async def patch_institution(
    session: AsyncSession, org_id: str, institution_id: str, changes: dict[str, Any], precondition: Precondition
) -> PaymentInstitutionOut:
    """``PATCH …/payment-institutions/{id}``: the change applied while the client's copy is still current; the
    orders held in mismatch for want of this institution are then compared again. Answers the institution as
    the change left it."""
    institution = await get_scoped(session, PaymentInstitution, institution_id, org_id)
    precondition(PaymentInstitutionOut.model_validate(institution))
    change_institution(institution, changes)
    await session.flush()
    out = PaymentInstitutionOut.model_validate(institution)
    await rematch_waiting(session, org_id, pay_code=institution.pay_code)
    return out


def change_institution(institution: PaymentInstitution, changes: dict[str, Any]) -> None:
    """Apply a PATCH: scopes naming ``bank`` make the institution a bank unless the kind is given; a non-bank
    institution whose scopes name ``bank`` is refused."""
    for name, value in changes.items():
        setattr(institution, name, value)
    if "kind" not in changes and licences.BANK in (changes.get("scopes") or []):
        institution.kind = licences.BANK
    if institution.kind == licences.NON_BANK and licences.BANK in institution.scopes:
        raise FieldError("kind", "a non_bank institution's scopes cannot name bank: give kind bank, or its PBOC scopes")
