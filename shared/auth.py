"""Bearer-token verification and role checks.

Plans signs short-lived EdDSA (Ed25519) JWTs; every service verifies them against plans' JWKS. Only EdDSA is
accepted, whatever the token's header says, so ``alg: none`` and HMAC-with-the-public-key tricks fail. No token
lives longer than :data:`MAX_TOKEN_LIFETIME`, and a token whose API key was revoked stops working within a few
seconds: every service keeps plans' list of recently revoked keys, refreshed every
:data:`REVOCATION_REFRESH_SECONDS`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

import jwt
from fastapi import Depends, Request
from starlette.types import Scope

from shared.context import context_of
from shared.errors import AppError, Forbidden, Unauthorized, Unavailable

TOKEN_ISSUER = "xbm-plans"
TOKEN_AUDIENCE = "xbm"
ALGORITHM = "EdDSA"

#: the longest lifetime a token may have (``exp - iat``); longer ones are refused, whoever signed them
MAX_TOKEN_LIFETIME = 3600
#: how often the list of revoked API keys is fetched again (a revoked key's tokens stop within about this long)
REVOCATION_REFRESH_SECONDS = 2.0
log = logging.getLogger("xbm.auth")

ROLES = ("admin", "executive", "supervisor", "specialist", "analyst", "integration")
#: every role but integration reads everything in its organisation
READERS = ("admin", "executive", "supervisor", "specialist", "analyst")


@dataclass(frozen=True)
class Principal:
    subject: str
    org_id: str
    role: str
    token: str

    def has(self, *roles: str) -> bool:
        return self.role == "admin" or self.role in roles


class KeySource(Protocol):
    async def get(self, kid: str) -> jwt.PyJWK | None: ...


class StaticKeys:
    """Keys known locally (plans verifies its own tokens without calling itself)."""

    def __init__(self, jwks: dict[str, Any]):
        self._keys = {k["kid"]: jwt.PyJWK(k) for k in jwks.get("keys", [])}

    async def get(self, kid: str) -> jwt.PyJWK | None:
        return self._keys.get(kid)


class RemoteJWKS:
    """Plans' JWKS, fetched on first use, cached, and fetched again when a token names an unknown ``kid``
    (at most once per ``min_refresh_seconds``, so forged kids cannot make us hammer plans)."""

    def __init__(self, fetch: Callable[[], Awaitable[dict[str, Any]]], min_refresh_seconds: float = 10.0):
        self._fetch = fetch
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._min_refresh = min_refresh_seconds
        self._lock = asyncio.Lock()

    async def get(self, kid: str) -> jwt.PyJWK | None:
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            if kid in self._keys:
                return self._keys[kid]
            now = time.monotonic()
            if self._fetched_at is not None and now - self._fetched_at < self._min_refresh:
                return None
            try:
                document = await self._fetch()
            except Exception as exc:
                raise Unavailable("cannot reach the token issuer to verify this token", retry_after=5) from exc
            self._fetched_at = now
            keys = {}
            for entry in document.get("keys", []):
                if entry.get("kty") == "OKP" and entry.get("crv") == "Ed25519" and "kid" in entry:
                    keys[entry["kid"]] = jwt.PyJWK(entry)
            self._keys = keys
            return self._keys.get(kid)


@dataclass(frozen=True)
class RevocationPage:
    """What one fetch of the revocation list gave: the ids, the cursor to ask from next (None: the source gives
    no cursor, fetch it whole again) and whether it is the whole list (``complete``, replacing what is held) or
    only what changed since the cursor given (merged into it)."""

    revoked: list[str]
    cursor: str | None = None
    complete: bool = True


#: how often the whole list is fetched again when fetching incrementally (keys revoked longer ago than a token
#: lives drop out of it then: the list held stays bounded)
REVOCATION_RESYNC_SECONDS = 600.0


class RevocationList:
    """The API keys revoked recently enough that tokens of theirs may still be unexpired, as plans lists them.

    Fetched when older than ``refresh_seconds``, by one caller at a time while the others use the list they
    have (a slow plans never queues every request behind one fetch). With ``fetch_since`` the list is fetched
    whole once, then only what changed since the cursor plans gave (plans answers with an overlap, so a
    revocation committed late is not missed), and whole again every ``resync_seconds``. When plans cannot be
    reached the last list stays in force and the fetch is tried again after ``refresh_seconds``: tokens keep
    working (they expire within :data:`MAX_TOKEN_LIFETIME` anyway) rather than every service going down with
    plans."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[list[str] | RevocationPage]],
        refresh_seconds: float = REVOCATION_REFRESH_SECONDS,
        *,
        fetch_since: Callable[[str], Awaitable[RevocationPage]] | None = None,
        resync_seconds: float = REVOCATION_RESYNC_SECONDS,
    ):
        self._fetch = fetch
        self._fetch_since = fetch_since
        self.refresh_seconds = refresh_seconds
        self.resync_seconds = resync_seconds
        self._revoked: frozenset[str] = frozenset()
        self._fetched_at: float | None = None
        self._synced_at: float | None = None
        self._cursor: str | None = None
        self._refreshing = False

    def invalidate(self) -> None:
        """Fetch again on the next check (plans calls this when it revokes a key itself)."""
        self._fetched_at = None

    async def _refresh(self, now: float) -> None:
        incremental = (
            self._fetch_since is not None
            and self._cursor is not None
            and self._synced_at is not None
            and now - self._synced_at < self.resync_seconds
        )
        if incremental:
            assert self._fetch_since is not None and self._cursor is not None
            page = await self._fetch_since(self._cursor)
        else:
            got = await self._fetch()
            page = got if isinstance(got, RevocationPage) else RevocationPage(list(got))
        if page.complete:
            self._revoked, self._synced_at = frozenset(page.revoked), now
        else:
            self._revoked = self._revoked | frozenset(page.revoked)
        self._cursor = page.cursor

    async def is_revoked(self, subject: str) -> bool:
        now = time.monotonic()
        stale = self._fetched_at is None or now - self._fetched_at >= self.refresh_seconds
        if stale and not self._refreshing:
            self._refreshing = True
            try:
                await self._refresh(now)
            except Exception as exc:  # plans unreachable or answering nonsense: keep the last list
                log.warning("cannot refresh the list of revoked API keys: %r", exc)
            finally:
                self._fetched_at = now
                self._refreshing = False
        return subject in self._revoked


class TokenVerifier:
    """Verifies access tokens; a verified token is remembered (keyed by the whole token, signature included)
    until it expires, so a client's repeated calls cost one signature check. The memory is bounded. With
    ``revocations``, a token whose API key was revoked is refused, remembered or not."""

    def __init__(
        self,
        keys: KeySource,
        issuer: str = TOKEN_ISSUER,
        audience: str = TOKEN_AUDIENCE,
        cache_size: int = 10_000,
        revocations: RevocationList | None = None,
    ):
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.cache_size = cache_size
        self.revocations = revocations
        self._verified: dict[str, tuple[Principal, float]] = {}

    async def verify(self, token: str) -> Principal:
        principal = await self._remembered_or_verified(token)
        if self.revocations is not None and await self.revocations.is_revoked(principal.subject):
            self._verified.pop(token, None)
            raise Unauthorized("the API key this access token was issued for has been revoked")
        return principal

    async def _remembered_or_verified(self, token: str) -> Principal:
        remembered = self._verified.get(token)
        if remembered is not None:
            principal, expires = remembered
            if time.time() < expires:
                return principal
            del self._verified[token]
        principal, expires = await self._verify(token)
        if len(self._verified) >= self.cache_size:
            self._verified.pop(next(iter(self._verified)))  # the oldest entry
        self._verified[token] = (principal, expires)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("malformed access token") from exc
        if header.get("alg") != ALGORITHM:
            raise Unauthorized("access tokens must be signed with EdDSA")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid or len(kid) > 128:
            raise Unauthorized("access token names no signing key")
        key = await self.keys.get(kid)
        if key is None:
            raise Unauthorized("access token signed by an unknown key")
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
                leeway=5,
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("access token expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid access token: {exc}") from exc
        lifetime = claims["exp"] - claims["iat"] if _numbers(claims["exp"], claims["iat"]) else None
        if lifetime is None or lifetime > MAX_TOKEN_LIFETIME:
            raise Unauthorized(f"access tokens may live at most {MAX_TOKEN_LIFETIME} seconds")
        org, role = claims.get("org"), claims.get("role")
        if not isinstance(org, str) or role not in ROLES:
            raise Unauthorized("access token lacks organisation or role")
        return Principal(subject=str(claims["sub"]), org_id=org, role=role, token=token), float(claims["exp"])


def _numbers(*values: Any) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token")
    token = token.strip()
    if len(token) > 8192:
        raise Unauthorized("access token too long")
    return token


async def bearer_principal(scope: Scope) -> Principal | None:
    """The principal of a request's bearer token, for middleware that acts before the routes (idempotency, request
    limits); None without a valid token, which the route then refuses itself."""
    try:
        return await context_of(scope["app"]).verifier.verify(bearer_token(Request(scope)))
    except AppError:
        return None


async def current_principal(request: Request) -> Principal:
    principal: Principal = await context_of(request.app).verifier.verify(bearer_token(request))
    request.state.principal = principal
    return principal


def require(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting ``admin`` and the named roles; anyone else authenticated gets 403."""
    allowed = frozenset(roles) | {"admin"}

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"role {principal.role!r} may not do this; needs one of {sorted(allowed)}")
        return principal

    dependency.__name__ = "require_" + "_".join(sorted(allowed))
    dependency.roles = allowed  # type: ignore[attr-defined]  # what the OpenAPI document reads to list 403
    return dependency


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
Reader = Annotated[Principal, Depends(require(*READERS))]
Admin = Annotated[Principal, Depends(require("admin"))]
