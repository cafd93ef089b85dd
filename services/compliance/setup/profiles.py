"""The seller's customs profiles: several per organisation, one per (direction, trade mode, customs office, port),
one of them the default (the one ``PUT/GET /v1/compliance/customs-profile`` acts on). Saving one declares the
matched orders that waited for it; one that declarations were made under cannot be deleted (their messages are
built from it again: withdrawals, returns, re-declarations)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customs.waiting import wake_setup
from services.compliance.orders.declaration import declare_waiting
from services.compliance.orders.models import Declaration
from services.compliance.orders.profiles import default_profile
from services.compliance.setup.models import CustomsProfile, DxpOwner, Source
from services.compliance.setup.schemas import (
    EXPORT_ONLY,
    CustomsProfileItem,
    CustomsProfileNew,
    CustomsProfileOut,
    direction_for,
)
from shared.db import get_scoped, lock_conflict_as_unavailable
from shared.errors import Conflict, NotFound, Unprocessable
from shared.etag import Precondition

#: what a profile's mode is known by: two of one organisation never share it
MODE = ("direction", "trade_mode", "customs_code", "port_code")


async def get_default(session: AsyncSession, org_id: str) -> CustomsProfile:
    profile = await default_profile(session, org_id)
    if profile is None:
        raise NotFound("no customs profile yet; PUT /v1/compliance/customs-profile first")
    return profile


async def put_default(
    session: AsyncSession, org_id: str, fields: dict[str, Any], precondition: Precondition
) -> tuple[CustomsProfile, bool]:
    """Create or replace the default profile (the singular endpoint); its direction follows its trade mode for
    the export-only modes and stays as it was otherwise."""
    profile = await default_profile(session, org_id)
    precondition(CustomsProfileOut.model_validate(profile) if profile is not None else None)
    if profile is None:
        fields = {**fields, "name": "Default", "direction": direction_for(fields["trade_mode"], None)}
        return await create(session, org_id, {**fields, "default": True}), True
    direction = "export" if fields["trade_mode"] in EXPORT_ONLY else profile.direction
    return await change(session, profile, {**fields, "direction": direction}), False


async def create(session: AsyncSession, org_id: str, fields: dict[str, Any]) -> CustomsProfile:
    """A new profile (the organisation's first is its default); waiting orders it declares are declared."""
    fields = dict(fields)
    fields["direction"] = direction_for(fields["trade_mode"], fields.get("direction"))
    first = await default_profile(session, org_id) is None
    make_default = bool(fields.pop("default", False)) or first
    await _mode_free(session, org_id, fields, None)
    await _dxp_id_free(session, org_id, fields["dxp_id"])
    if make_default and not first:
        await _clear_default(session, org_id)
    profile = CustomsProfile(org_id=org_id, is_default=make_default, **fields)
    session.add(profile)
    await _flush(session)
    await _declare_waiting(session, org_id)
    return profile


async def patch(
    session: AsyncSession, org_id: str, profile_id: str, fields: dict[str, Any], precondition: Precondition
) -> CustomsProfile:
    """``PATCH …/customs-profiles/{id}``: the fields given changed, while the client's copy is still current."""
    profile = await get_scoped(session, CustomsProfile, profile_id, org_id)
    precondition(CustomsProfileItem.model_validate(profile))
    return await change(session, profile, fields)


async def change(session: AsyncSession, profile: CustomsProfile, fields: dict[str, Any]) -> CustomsProfile:
    """Change some of a profile's fields; the result is checked whole, as a new profile would be."""
    current = {c: getattr(profile, c) for c in CustomsProfileNew.model_fields if c not in ("default",)}
    merged = {**current, **{k: v for k, v in fields.items() if k != "default"}}
    try:
        checked = CustomsProfileNew.model_validate(merged).model_dump(exclude={"default"})
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        loc: list[str | int] = ["body", *[str(p) for p in first["loc"]]]
        raise Unprocessable(f"{'.'.join(map(str, loc[1:])) or 'body'}: {first['msg']}", loc=loc) from exc
    await _mode_free(session, profile.org_id, checked, profile.id)
    await _dxp_id_free(session, profile.org_id, checked["dxp_id"])
    if fields.get("default") and not profile.is_default:
        await _clear_default(session, profile.org_id)
        profile.is_default = True
    for name, value in checked.items():
        setattr(profile, name, value)
    await _flush(session)
    await _release_dxp_ids(session, profile.org_id)
    await _declare_waiting(session, profile.org_id)
    return profile


async def delete_profile(session: AsyncSession, org_id: str, profile_id: str, precondition: Precondition) -> None:
    """``DELETE …/customs-profiles/{id}``, while the client's copy is still current."""
    profile = await get_scoped(session, CustomsProfile, profile_id, org_id)
    precondition(CustomsProfileItem.model_validate(profile))
    await remove(session, profile)


async def remove(session: AsyncSession, profile: CustomsProfile) -> None:
    """Delete a profile nothing was declared under and no source names; the default passes to the oldest other."""
    used = exists().where(Declaration.org_id == profile.org_id, Declaration.profile_id == profile.id)
    if await session.scalar(select(used)):
        raise Conflict(
            f"customs profile {profile.name!r} has declarations made under it: their messages (withdrawals, "
            "returns, declaring again) are built from it, so it stays"
        )
    named = exists().where(Source.org_id == profile.org_id, Source.customs_profile_id == profile.id)
    if await session.scalar(select(named)):
        raise Conflict(f"a source declares its orders under customs profile {profile.name!r}: change the source first")
    org_id, was_default = profile.org_id, profile.is_default
    await session.delete(profile)
    await session.flush()
    if was_default:
        successor = await default_profile(session, org_id)
        if successor is not None:
            successor.is_default = True
            await session.flush()
    await _release_dxp_ids(session, org_id)


async def named_by_source(session: AsyncSession, org_id: str, profile_id: str | None) -> None:
    """A source may name only one of its organisation's profiles."""
    if profile_id is not None:
        try:
            await get_scoped(session, CustomsProfile, profile_id, org_id)
        except NotFound as exc:
            raise Unprocessable(
                f"customs_profile_id: no customs profile {profile_id}", loc=["body", "customs_profile_id"]
            ) from exc


async def _mode_free(session: AsyncSession, org_id: str, fields: dict[str, Any], own_id: str | None) -> None:
    stmt = select(CustomsProfile.name).where(
        CustomsProfile.org_id == org_id, *[getattr(CustomsProfile, c) == fields[c] for c in MODE]
    )
    if own_id is not None:
        stmt = stmt.where(CustomsProfile.id != own_id)
    taken = (await session.execute(stmt.limit(1))).scalar_one_or_none()
    if taken is not None:
        raise Conflict(
            f"customs profile {taken!r} already declares {fields['direction']} {fields['trade_mode']} at customs "
            f"{fields['customs_code']}, port {fields['port_code']}: change that one instead"
        )


async def _dxp_id_free(session: AsyncSession, org_id: str, dxp_id: str) -> None:
    """A DxpMsg id is one e-port user's: customs addresses receipts to it, and XBM hands a receipt to the one
    organisation that owns it (dxp_owners; the database holds the rule too). Several profiles of one
    organisation may share theirs."""
    owner = await session.get(DxpOwner, dxp_id)
    if owner is not None and owner.org_id != org_id:
        raise _dxp_taken(dxp_id)


def _dxp_taken(dxp_id: str) -> Conflict:
    return Conflict(
        f"dxp_id {dxp_id} is another organisation's e-port id; customs sends receipts for it to that "
        "organisation. Use the DxpMsg id the e-port registered for yours",
        field="dxp_id",
    )


async def _clear_default(session: AsyncSession, org_id: str) -> None:
    # a Core update bypasses the version check, so it bumps the version itself (VersionedMixin)
    stmt = update(CustomsProfile).where(CustomsProfile.org_id == org_id, CustomsProfile.is_default.is_(True))
    values = {"is_default": False, "version": CustomsProfile.version + 1}
    await session.execute(stmt.values(**values).execution_options(synchronize_session="fetch"))
    await session.flush()


async def _release_dxp_ids(session: AsyncSession, org_id: str) -> None:
    """An id none of the organisation's profiles names any more is free for the organisation it really is."""
    named = select(CustomsProfile.dxp_id).where(CustomsProfile.org_id == org_id)
    await session.execute(delete(DxpOwner).where(DxpOwner.org_id == org_id, DxpOwner.dxp_id.not_in(named)))


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "another customs profile of this trade mode, customs office and port was saved meanwhile, or its "
            "dxp_id became another organisation's; read the profiles and try again"
        ) from exc


async def _declare_waiting(session: AsyncSession, org_id: str) -> None:
    async with lock_conflict_as_unavailable():
        await declare_waiting(session, org_id)
    await wake_setup(session, org_id)  # messages waiting for a profile field (an account book, a producer) go now
