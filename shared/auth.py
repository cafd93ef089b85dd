"""Bearer-token verification and role checks.

Plans signs short-lived EdDSA (Ed25519) JWTs; every service verifies them against plans' JWKS. Only EdDSA is
accepted, whatever the token's header says, so ``alg: none`` and HMAC-with-the-public-key tricks fail.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

import jwt
from fastapi import Depends, Request

from shared.errors import Forbidden, Unauthorized, Unavailable

TOKEN_ISSUER = "xbm-plans"
TOKEN_AUDIENCE = "xbm"
ALGORITHM = "EdDSA"

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


class TokenVerifier:
    """Verifies access tokens; a verified token is remembered (keyed by the whole token, signature included)
    until it expires, so a client's repeated calls cost one signature check. The memory is bounded."""

    def __init__(
        self, keys: KeySource, issuer: str = TOKEN_ISSUER, audience: str = TOKEN_AUDIENCE, cache_size: int = 10_000
    ):
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.cache_size = cache_size
        self._verified: dict[str, tuple[Principal, float]] = {}

    async def verify(self, token: str) -> Principal:
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
        org, role = claims.get("org"), claims.get("role")
        if not isinstance(org, str) or role not in ROLES:
            raise Unauthorized("access token lacks organisation or role")
        return Principal(subject=str(claims["sub"]), org_id=org, role=role, token=token), float(claims["exp"])


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token")
    token = token.strip()
    if len(token) > 8192:
        raise Unauthorized("access token too long")
    return token


async def current_principal(request: Request) -> Principal:
    principal: Principal = await request.app.state.verifier.verify(bearer_token(request))
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
    return dependency


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
Reader = Annotated[Principal, Depends(require(*READERS))]
Admin = Annotated[Principal, Depends(require("admin"))]
