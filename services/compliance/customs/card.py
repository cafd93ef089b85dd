"""The e-port card (IC card / UKey) through its local signing service: the China e-port client's WebSocket
service on the operator's machine (``ws://127.0.0.1:61232`` by default), as the public e-port client projects
document it (docs/signing.md names them).

Each call is one JSON text frame ``{"_method": …, "_id": n, "args": {…}}``; the service answers
``{"_id": n, "_method": …, "_status": "00", "_args": {"Result": true|false, "Data": [...], "Error": [...]}}``.
XBM uses three methods:

- ``cus-sec_SpcGetSignCertAsPEM`` ``{}`` → ``Data[0]``: the signing certificate, DER in base64 (no PEM lines);
- ``cus-sec_SpcGetCertNo`` ``{}`` → ``Data[0]``: the certificate's number (the KeyName customs expects);
- ``cus-sec_SpcSignDataAsPEM`` ``{"inData": text, "passwd": card PIN}`` → ``Data[0]``: the signature in base64
  (the card hashes ``inData`` itself: SM3 with SM2 for an SM2 card, SHA-1 with RSA for an RSA card; an SM2 card
  answers r‖s, 64 bytes), ``Data[1]``: the certificate's number.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import json
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from services.compliance.customs.signing import (
    SignatureParts,
    SigningError,
    algorithm_of,
    certificate_number,
    signature_value,
)

DEFAULT_URL = "ws://127.0.0.1:61232"
SIGN = "cus-sec_SpcSignDataAsPEM"
CERTIFICATE = "cus-sec_SpcGetSignCertAsPEM"
CERTIFICATE_NUMBER = "cus-sec_SpcGetCertNo"
#: a card that has not answered by then is not going to
TIMEOUT = 15.0


class CardService:
    """A client of the card's local signing service. The card signs one thing at a time: calls are serialised."""

    def __init__(self, url: str = DEFAULT_URL, password: str | None = None, timeout: float = TIMEOUT):
        self.url, self.password, self.timeout = url, password, timeout
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()

    async def call(self, method: str, args: dict[str, Any] | None = None) -> list[str]:
        """``Data`` of the service's answer to ``method``; :class:`SigningError` when it cannot be reached or
        answers ``Result: false`` (its ``Error`` lines say why: no card, wrong PIN …)."""
        call_id = next(self._ids)
        request = json.dumps({"_method": method, "_id": call_id, "args": args or {}}, ensure_ascii=False)
        async with self._lock:
            try:
                async with asyncio.timeout(self.timeout), connect(self.url, open_timeout=self.timeout) as ws:
                    await ws.send(request)
                    while True:  # the service may push other frames; the answer carries our _id
                        answer = json.loads(await ws.recv())
                        if isinstance(answer, dict) and answer.get("_id") == call_id:
                            break
            except TimeoutError as exc:
                raise SigningError(f"the e-port card service at {self.url} did not answer {method}") from exc
            except (OSError, WebSocketException, ValueError) as exc:
                raise SigningError(f"the e-port card service at {self.url} is unreachable: {exc}") from exc
        args_ = answer.get("_args")
        result: dict[str, Any] = args_ if isinstance(args_, dict) else {}
        data = result.get("Data")
        if result.get("Result") is not True or not isinstance(data, list) or not data:
            errors = result.get("Error") or [f"status {answer.get('_status')!r}"]
            raise SigningError(f"the e-port card refused {method}: {'; '.join(str(e) for e in errors)}")
        return [str(d) for d in data]

    async def certificate(self) -> bytes:
        (pem, *_) = await self.call(CERTIFICATE)
        return _base64(pem, "certificate")

    async def certificate_number(self) -> str:
        (number, *_) = await self.call(CERTIFICATE_NUMBER)
        return number.strip()

    async def sign(self, data: bytes) -> tuple[bytes, str | None]:
        """The card's signature over ``data`` (text: the canonical SignedInfo) and the certificate number it
        reports with it."""
        if self.password is None:
            raise SigningError("the e-port card's PIN is not set (XBM_SIGNER_CARD_PASSWORD)")
        args = {"inData": data.decode("utf-8"), "passwd": self.password}
        value, *rest = await self.call(SIGN, args)
        return _base64(value, "signature"), (rest[0].strip() if rest else None)


def _base64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SigningError(f"the e-port card's {what} is not base64") from exc


class CardSigner:
    """XBM's signer backed by the card: the certificate (and its number) are read from the card once, and again
    when the card reports another number with a signature (another card was put in); the algorithm follows the
    certificate's key. KeyName: ``key_name`` (a setting) else the number the card reports."""

    def __init__(self, card: CardService, key_name: str | None = None):
        self.card, self.key_name = card, key_name
        self._certificate: bytes | None = None
        self._number: str | None = None
        self.algorithm = "sm2"

    @property
    def loaded(self) -> bool:
        return self._certificate is not None

    async def load(self) -> tuple[bytes, str]:
        """Read the certificate and its number now; a card that cannot be reached fails here."""
        certificate = await self.card.certificate()
        try:
            number = await self.card.certificate_number()
        except SigningError:  # an older service without the call: the number is the certificate's serial
            number = certificate_number(certificate)
        self._certificate, self._number, self.algorithm = certificate, number, algorithm_of(certificate)
        return certificate, number

    async def prepare(self) -> None:
        """Before the first signature: the certificate tells which algorithm the message names."""
        if not self.loaded:
            await self.load()

    async def describe(self) -> dict[str, str]:
        _, number = await self.load()
        return {"algorithm": self.algorithm, "certificate_number": number, "key_name": self.key_name or number}

    async def sign(self, signed_info: bytes) -> SignatureParts:
        if self._certificate is None or self._number is None:
            await self.load()
        value, reported = await self.card.sign(signed_info)
        if reported and reported != self._number:
            await self.load()  # another card: its own certificate goes with its signature
        certificate, number = self._certificate, self._number
        assert certificate is not None and number is not None
        return SignatureParts(signature_value(self.algorithm, value), certificate, (self.key_name or number)[:64])
