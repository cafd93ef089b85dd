"""The bridge's HTTP side: XBM's signing-agent protocol (what :class:`~services.compliance.customs.signing.
AgentSigner` sends) answered by the e-port card.

- ``POST /sign`` ``{"algorithm": <SignatureMethod URI>, "data": <canonical SignedInfo, base64>}`` →
  ``{"signature_value", "certificate", "key_name", "algorithm"}`` (base64 values; SM2 as r‖s, 64 bytes);
  401 without the bearer token when one is set, 422 for an algorithm the card's key does not sign or data that
  is not base64, 503 with ``Retry-After`` when the card cannot sign now (unreachable, no card, wrong PIN).
- ``GET /health`` → the card's algorithm, certificate number and the KeyName it signs with; 503 when unreachable.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from services.compliance.customs.card import CardSigner
from services.compliance.customs.signing import ALGORITHMS, SigningError

log = logging.getLogger("xbm.signer")
#: a canonical SignedInfo is well under a kilobyte
MAX_DATA = 64 * 1024


class SignIn(BaseModel):
    algorithm: str = Field(max_length=200)
    data: str = Field(max_length=MAX_DATA)


def _problem(status: int, detail: str, **headers: str) -> JSONResponse:
    body = {"type": "about:blank", "title": detail.split(":")[0], "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, headers=headers, media_type="application/problem+json")


def create_app(signer: CardSigner, token: str | None = None) -> FastAPI:
    app = FastAPI(title="XBM signing bridge", docs_url=None, redoc_url=None, openapi_url=None)

    def _authorised(request: Request) -> bool:
        if token is None:
            return True
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    @app.post("/sign")
    async def sign(body: SignIn, request: Request) -> Any:
        if not _authorised(request):
            return _problem(401, "unauthorised: this bridge needs its bearer token")
        try:
            data = base64.b64decode(body.data, validate=True)
        except (binascii.Error, ValueError):
            return _problem(422, "data: not base64")
        try:
            await signer.prepare()
            wanted = ALGORITHMS[signer.algorithm][0]
            if body.algorithm != wanted:
                return _problem(422, f"algorithm: this card signs {wanted}, not {body.algorithm}")
            parts = await signer.sign(data)
        except SigningError as exc:
            log.warning("the card did not sign: %s", exc)
            return _problem(503, f"the e-port card cannot sign now: {exc}", **{"Retry-After": "30"})
        return {
            "signature_value": base64.b64encode(parts.value).decode(),
            "certificate": base64.b64encode(parts.certificate_der).decode(),
            "key_name": parts.key_name,
            "algorithm": ALGORITHMS[signer.algorithm][0],
        }

    @app.get("/health")
    async def health() -> Any:
        try:
            return await signer.describe()
        except SigningError as exc:
            return _problem(503, f"the e-port card cannot be reached: {exc}", **{"Retry-After": "30"})

    return app
