from __future__ import annotations

from fastapi import APIRouter, Response

from services.compliance.context import PiiDep
from services.compliance.setup import profiles, service
from services.compliance.setup.models import CustomsProfile, PaymentInstitution, Source
from services.compliance.setup.schemas import (
    CustomsProfileIn,
    CustomsProfileItem,
    CustomsProfileNew,
    CustomsProfileOut,
    CustomsProfilePatch,
    PaymentInstitutionIn,
    PaymentInstitutionOut,
    PaymentInstitutionPatch,
    SecretIn,
    SourceCreated,
    SourceIn,
    SourceOut,
)
from shared.auth import Admin, Reader
from shared.db import DbSession, get_scoped, scoped
from shared.etag import Version
from shared.pagination import Pagination, paginate
from shared.schemas import Page, PathId

router = APIRouter(prefix="/v1/compliance", tags=["compliance setup"])


@router.put(
    "/customs-profile",
    response_model=CustomsProfileOut,
    responses={
        201: {"description": "created"},
        409: {"description": "concurrent create"},
        412: {"description": "stale If-Match"},
    },
)
async def put_profile(
    body: CustomsProfileIn, principal: Admin, session: DbSession, version: Version, response: Response
) -> CustomsProfileOut:
    profile, created = await profiles.put_default(session, principal.org_id, body.model_dump(), version.check)
    if created:
        response.status_code = 201
        response.headers["Location"] = "/v1/compliance/customs-profile"
    out = CustomsProfileOut.model_validate(profile)
    return version.answer(out)


@router.get(
    "/customs-profile",
    response_model=CustomsProfileOut,
    responses={404: {"description": "No customs profile yet: PUT one first"}},
)
async def get_profile(principal: Admin, session: DbSession, version: Version) -> CustomsProfileOut:
    out = CustomsProfileOut.model_validate(await profiles.get_default(session, principal.org_id))
    return version.answer(out)


@router.post(
    "/customs-profiles",
    status_code=201,
    response_model=CustomsProfileItem,
    responses={409: {"description": "a profile of this mode exists, or the dxp_id is another organisation's"}},
)
async def add_profile(
    body: CustomsProfileNew, principal: Admin, session: DbSession, response: Response, version: Version
) -> CustomsProfileItem:
    """Another customs profile (a trade mode at one customs office and port); the orders that waited for it are
    declared."""
    profile = await profiles.create(session, principal.org_id, body.model_dump())
    response.headers["Location"] = f"/v1/compliance/customs-profiles/{profile.id}"
    return version.answer(CustomsProfileItem.model_validate(profile))


@router.get("/customs-profiles", response_model=Page[CustomsProfileItem])
async def list_profiles(principal: Admin, session: DbSession, page: Pagination) -> Page[CustomsProfileItem]:
    rows, cursor = await paginate(session, scoped(CustomsProfile, principal.org_id), CustomsProfile, page)
    return Page(items=[CustomsProfileItem.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/customs-profiles/{profile_id}", response_model=CustomsProfileItem)
async def get_customs_profile(
    profile_id: PathId, principal: Admin, session: DbSession, version: Version
) -> CustomsProfileItem:
    profile = await get_scoped(session, CustomsProfile, profile_id, principal.org_id)
    return version.answer(CustomsProfileItem.model_validate(profile))


@router.patch(
    "/customs-profiles/{profile_id}",
    response_model=CustomsProfileItem,
    responses={409: {"description": "another profile has this mode"}, 412: {"description": "stale If-Match"}},
)
async def patch_profile(
    profile_id: PathId, body: CustomsProfilePatch, principal: Admin, session: DbSession, version: Version
) -> CustomsProfileItem:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    profile = await profiles.patch(session, principal.org_id, profile_id, changes, version.check)
    return version.answer(CustomsProfileItem.model_validate(profile))


@router.delete(
    "/customs-profiles/{profile_id}",
    status_code=204,
    responses={409: {"description": "declarations were made under it, or a source names it"},
               412: {"description": "stale If-Match"}},
)  # fmt: skip
async def delete_profile(profile_id: PathId, principal: Admin, session: DbSession, version: Version) -> Response:
    await profiles.delete_profile(session, principal.org_id, profile_id, version.check)
    return Response(status_code=204)


@router.post(
    "/payment-institutions",
    status_code=201,
    response_model=PaymentInstitutionOut,
    responses={409: {"description": "pay_code already registered"}},
)
async def add_institution(
    body: PaymentInstitutionIn, principal: Admin, session: DbSession, response: Response, version: Version
) -> PaymentInstitutionOut:
    out = await service.add_institution(session, principal.org_id, body.model_dump())
    response.headers["Location"] = f"/v1/compliance/payment-institutions/{out.id}"
    return version.answer(out)


@router.get("/payment-institutions", response_model=Page[PaymentInstitutionOut])
async def list_institutions(principal: Reader, session: DbSession, page: Pagination) -> Page[PaymentInstitutionOut]:
    rows, cursor = await paginate(session, scoped(PaymentInstitution, principal.org_id), PaymentInstitution, page)
    return Page(items=[PaymentInstitutionOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/payment-institutions/{institution_id}", response_model=PaymentInstitutionOut)
async def get_institution(
    institution_id: PathId, principal: Reader, session: DbSession, version: Version
) -> PaymentInstitutionOut:
    out = PaymentInstitutionOut.model_validate(
        await get_scoped(session, PaymentInstitution, institution_id, principal.org_id)
    )
    return version.answer(out)


@router.patch(
    "/payment-institutions/{institution_id}",
    response_model=PaymentInstitutionOut,
    responses={412: {"description": "stale If-Match"}},
)
async def patch_institution(
    institution_id: PathId,
    body: PaymentInstitutionPatch,
    principal: Admin,
    session: DbSession,
    version: Version,
) -> PaymentInstitutionOut:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return version.answer(
        await service.patch_institution(session, principal.org_id, institution_id, changes, version.check)
    )


@router.post("/sources", status_code=201, response_model=SourceCreated)
async def add_source(
    body: SourceIn, principal: Admin, session: DbSession, pii: PiiDep, response: Response
) -> SourceCreated:
    source, secret = await service.add_source(session, pii, principal.org_id, body)
    response.headers["Location"] = f"/v1/compliance/sources/{source.id}"
    return SourceCreated.model_validate({**SourceOut.model_validate(source).model_dump(), "secret": secret})


@router.post(
    "/sources/{source_id}/secret",
    response_model=SourceCreated,
    responses={412: {"description": "stale If-Match"}},
)
async def rotate_source_secret(
    source_id: PathId, principal: Admin, session: DbSession, pii: PiiDep, version: Version, body: SecretIn | None = None
) -> SourceCreated:
    """Rotate the signing secret (the one given, else a generated one); the previous one verifies for 24 h."""
    given = body.secret if body else None
    source, secret = await service.rotate_source_secret(session, pii, principal.org_id, source_id, given, version.check)
    return SourceCreated.model_validate({**SourceOut.model_validate(source).model_dump(), "secret": secret})


@router.get("/sources", response_model=Page[SourceOut])
async def list_sources(principal: Admin, session: DbSession, page: Pagination) -> Page[SourceOut]:
    rows, cursor = await paginate(session, scoped(Source, principal.org_id), Source, page)
    return Page(items=[SourceOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/sources/{source_id}", response_model=SourceOut)
async def get_source(source_id: PathId, principal: Admin, session: DbSession, version: Version) -> SourceOut:
    out = SourceOut.model_validate(await get_scoped(session, Source, source_id, principal.org_id))
    return version.answer(out)


@router.delete("/sources/{source_id}", status_code=204, responses={412: {"description": "stale If-Match"}})
async def delete_source(source_id: PathId, principal: Admin, session: DbSession, version: Version) -> Response:
    await service.delete_source(session, principal.org_id, source_id, version.check)
    return Response(status_code=204)
