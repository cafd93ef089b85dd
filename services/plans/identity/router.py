from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status

from services.plans.context import PlansCtx
from services.plans.identity import service
from services.plans.identity.models import ApiKey, Organization
from services.plans.identity.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    OrgCreate,
    OrgCreated,
    OrgOut,
    TokenOut,
    TokenRequest,
)
from shared.auth import Admin, Reader
from shared.db import DbSession, get_scoped, scoped
from shared.errors import NotFound, Unauthorized, Unprocessable
from shared.openapi import ignores_query
from shared.pagination import Pagination, paginate
from shared.schemas import Page, PathId

router = APIRouter(prefix="/v1", tags=["identity"])
#: what the other XBM services call; outside /v1, so the public gateway never routes to it
internal_router = APIRouter(prefix="/internal", tags=["internal"])


TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {"description": "too many failed attempts; retry after Retry-After (problem+json)"}
}


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post(
    "/orgs",
    status_code=status.HTTP_201_CREATED,
    response_model=OrgCreated,
    responses={**TOO_MANY, 401: {"description": "X-Bootstrap-Token is missing or not the deployment's"}},
    summary="Create an organisation and its first admin API key",
    openapi_extra={"security": [{"bootstrapToken": []}]},
)
async def create_org(
    body: OrgCreate,
    request: Request,
    response: Response,
    session: DbSession,
    ctx: PlansCtx,
    x_bootstrap_token: Annotated[str | None, Header(max_length=512)] = None,
) -> OrgCreated:
    expected = ctx.bootstrap_token
    async with ctx.guess_limiter.attempt("bootstrap", _address(request)):
        if not x_bootstrap_token or not hmac.compare_digest(x_bootstrap_token.encode(), expected.encode()):
            raise Unauthorized("a valid X-Bootstrap-Token header is required to create an organisation")
    org, key = await service.create_org(session, body.name)
    response.headers["Location"] = f"/v1/orgs/{org.id}"
    return OrgCreated(org=OrgOut.model_validate(org), key=key, admin_api_key=key)


@router.get("/orgs/{org_id}", response_model=OrgOut)
async def get_org(org_id: PathId, principal: Reader, session: DbSession) -> Organization:
    if org_id != principal.org_id:
        raise NotFound(f"organisation {org_id[:64]} not found")
    org = await session.get(Organization, org_id)
    if org is None:
        raise NotFound(f"organisation {org_id} not found")
    return org


@router.post("/api-keys", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
async def create_api_key(body: ApiKeyCreate, principal: Admin, session: DbSession, response: Response) -> ApiKeyCreated:
    api_key, key = await service.issue_api_key(session, principal.org_id, body.name, body.role)
    response.headers["Location"] = f"/v1/api-keys/{api_key.id}"
    return ApiKeyCreated(**ApiKeyOut.model_validate(api_key).model_dump(), key=key)


@router.get("/api-keys", response_model=Page[ApiKeyOut])
async def list_api_keys(principal: Admin, session: DbSession, page: Pagination) -> Page[ApiKeyOut]:
    rows, cursor = await paginate(session, scoped(ApiKey, principal.org_id), ApiKey, page)
    return Page(items=[ApiKeyOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/api-keys/{key_id}", response_model=ApiKeyOut)
async def get_api_key(key_id: PathId, principal: Admin, session: DbSession) -> ApiKey:
    return await get_scoped(session, ApiKey, key_id, principal.org_id)


@router.delete(
    "/api-keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "the last active admin key cannot be revoked"}},
)
async def revoke_api_key(key_id: PathId, principal: Admin, session: DbSession, ctx: PlansCtx) -> Response:
    await service.revoke_api_key(session, principal.org_id, key_id)
    if ctx.verifier.revocations is not None:
        ctx.verifier.revocations.invalidate()  # this replica refuses the key's tokens at once
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses={**TOO_MANY, 401: {"description": "The API key is unknown or revoked"}},
)
async def issue_token(body: TokenRequest, request: Request, session: DbSession, ctx: PlansCtx) -> TokenOut:
    settings = ctx.settings
    async with ctx.guess_limiter.attempt("token", _address(request), body.api_key):
        token = await service.exchange_key(session, ctx.signing_key, body.api_key, settings.token_ttl_seconds)
    return TokenOut(access_token=token, expires_in=settings.token_ttl_seconds)


@router.get("/auth/jwks")
@ignores_query
async def jwks(response: Response, ctx: PlansCtx) -> dict[str, list[dict[str, str]]]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return ctx.signing_key.jwks()  # type: ignore[no-any-return]


@internal_router.get("/revocations", include_in_schema=False)
async def revocations(
    session: DbSession,
    ctx: PlansCtx,
    authorization: Annotated[str | None, Header(max_length=512)] = None,
    since: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """The ids of API keys revoked recently enough that their tokens may be unexpired: the other services
    refuse those tokens (their subject is the key id). Without ``since`` the whole list (``complete``); with
    the ``cursor`` of an earlier answer as ``since``, only the keys revoked since (with an overlap of
    :data:`service.REVOCATION_OVERLAP`, so a revocation committed late is not missed), to merge into it."""
    expected = f"Bearer {ctx.service_secret}"
    if not authorization or not hmac.compare_digest(authorization.encode(), expected.encode()):
        raise Unauthorized("the revocation list needs the service secret")
    after = _cursor(since) if since is not None else None
    revoked, now = await service.revoked_since(session, after)
    return {"revoked": revoked, "cursor": now.isoformat(), "complete": after is None}


def _cursor(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None or not text.isascii():
        raise Unprocessable(
            "since: the cursor of an earlier answer (an ISO 8601 time with its offset)", loc=["query", "since"]
        )
    return value.astimezone(UTC)
