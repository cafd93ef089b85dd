"""Buyer and payer ID numbers, source secrets and platforms' raw deliveries at rest: AES-GCM encrypted, found by a
keyed hash, masked in every JSON answer. Only the declaration XML carries an ID number in full."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.secrets import load_or_create_secret

KEY_FILE = "compliance-pii.key"
#: marks bytes sealed by :meth:`Pii.seal` (a raw body never starts with it: platforms send JSON)
SEALED = b"XBM-SEALED-1:"


def mask(value: str) -> str:
    """``110101199001011234`` → ``1101**********1234``; short values keep less in the clear."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def _key_bytes(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raw = b""
    if len(raw) == 32:
        return raw
    return hashlib.sha256(text.encode()).digest()  # a passphrase: stretch it to a 256-bit key


class Pii:
    def __init__(self, master: bytes):
        self._aead = AESGCM(hmac.new(master, b"xbm-compliance-encrypt", hashlib.sha256).digest())
        self._lookup = hmac.new(master, b"xbm-compliance-lookup", hashlib.sha256).digest()

    @classmethod
    def from_setting(cls, key: str | None, data_dir: Path) -> Pii:
        if key is None:
            key, _ = load_or_create_secret(
                data_dir / KEY_FILE, lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
            )
        return cls(_key_bytes(key))

    def encrypt(self, plain: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plain.encode(), context.encode())
        return base64.b64encode(nonce + sealed).decode()

    def decrypt(self, token: str, context: str) -> str:
        raw = base64.b64decode(token)
        return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()

    def seal(self, plain: bytes, context: str) -> bytes:
        """Bytes at rest (a platform's raw delivery): ``SEALED`` + nonce + ciphertext."""
        nonce = os.urandom(12)
        return SEALED + nonce + self._aead.encrypt(nonce, plain, context.encode())

    def open(self, stored: bytes, context: str) -> bytes:
        """What :meth:`seal` sealed; bytes stored before bodies were sealed are returned as they are."""
        if not stored.startswith(SEALED):
            return stored
        raw = stored[len(SEALED) :]
        return self._aead.decrypt(raw[:12], raw[12:], context.encode())

    def lookup_hash(self, value: str) -> str:
        return hmac.digest(self._lookup, value.strip().upper().encode(), "sha256").hex()
