"""The Ed25519 key that signs access tokens, its JWKS, and token minting."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.plans.settings import PlansSettings
from shared.auth import ALGORITHM, TOKEN_AUDIENCE, TOKEN_ISSUER
from shared.secrets import load_or_create_secret


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _new_pem() -> str:
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )


class SigningKey:
    """The key tokens are signed with, and optionally the one it replaced: the JWKS lists both, so tokens signed
    before a rotation keep verifying until they expire."""

    def __init__(self, private_key: Ed25519PrivateKey, previous: SigningKey | None = None):
        self._private = private_key
        self.previous = previous
        raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self._x = _b64url(raw)
        # RFC 7638 thumbprint: stable, derived from the public key alone
        canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": self._x}, separators=(",", ":"))
        self.kid = _b64url(hashlib.sha256(canonical.encode()).digest())

    @classmethod
    def from_pem(cls, pem: str) -> SigningKey:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the signing key must be an Ed25519 private key")
        return cls(key)

    @classmethod
    def from_settings(cls, settings: PlansSettings) -> SigningKey:
        if settings.signing_key is not None:
            key = cls.from_pem(settings.signing_key.get_secret_value())
        else:
            pem, _ = load_or_create_secret(settings.data_dir / "plans-signing-key.pem", _new_pem)
            key = cls.from_pem(pem)
        if settings.previous_signing_key is not None:
            previous = cls.from_pem(settings.previous_signing_key.get_secret_value())
            if previous.kid != key.kid:
                key.previous = previous
        return key

    def public_jwk(self) -> dict[str, str]:
        return {"kty": "OKP", "crv": "Ed25519", "x": self._x, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}

    def jwks(self) -> dict[str, Any]:
        keys = [self.public_jwk()]
        if self.previous is not None:
            keys.append(self.previous.public_jwk())
        return {"keys": keys}

    def mint(self, *, subject: str, org_id: str, role: str, ttl_seconds: int) -> str:
        now = int(time.time())
        claims = {
            "iss": TOKEN_ISSUER,
            "aud": TOKEN_AUDIENCE,
            "sub": subject,
            "org": org_id,
            "role": role,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
        }
        return jwt.encode(claims, self._private, algorithm=ALGORITHM, headers={"kid": self.kid})
