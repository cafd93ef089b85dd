"""A fake of the e-port card's local signing service (the China e-port client's WebSocket service), behaving as
the public e-port client projects document it — Weasley-J/chinaport-data-signature (commit 2a13a9eb, GPL-3.0),
read, not copied: ``UkeyRequest``/``UkeyResponse`` (the frames), ``UkeyInitialConfig.getSignDataAsPEM`` and
``SignClientTest`` (the methods and the answers a real SM2 card gave); see docs/signing.md.

- request frame ``{"_method", "_id", "args"}``; answer ``{"_id", "_method", "_status": "00",
  "_args": {"Result", "Data", "Error"}}``;
- ``cus-sec_SpcGetSignCertAsPEM`` → ``Data[0]`` the certificate (DER, base64, no PEM lines);
- ``cus-sec_SpcGetCertNo`` → ``Data[0]`` the certificate number: the serial number's bytes in hex (the real card
  answered ``03000000000cde6f`` for a certificate whose serial is 03 00 00 00 00 0c de 6f);
- ``cus-sec_SpcSignDataAsPEM`` ``{inData, passwd}`` → ``Data`` [signature in base64, certificate number]; the
  card hashes inData itself (SM3 with SM2 / SHA-1 with RSA); an SM2 card answers r‖s, 64 bytes; a wrong PIN
  is ``Result: false`` with the reason in ``Error``.

Signing here uses cryptography (RSA) and gmssl (SM2) directly, not XBM's signer. ``der=True`` makes the SM2
card answer DER ``SEQUENCE {r, s}`` instead, as some signing devices do."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from gmssl import sm2
from websockets.asyncio.server import Server, ServerConnection, serve

from tests.compliance.signers import _int, _seq, _sm2_public_hex

SM2_CURVE = bytes.fromhex("06082a811ccf5501822d")


def _pem_body(pem: bytes) -> bytes:
    return base64.b64decode("".join(line for line in pem.decode().splitlines() if not line.startswith("-----")))


def _items(data: bytes) -> list[tuple[int, bytes]]:
    out, i = [], 0
    while i < len(data):
        tag, n = data[i], data[i + 1]
        i += 2
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(data[i : i + k], "big")
            i += k
        out.append((tag, data[i : i + n]))
        i += n
    return out


def serial_hex(cert_der: bytes) -> str:
    """The certificate's serial number bytes (as DER carries them, without a sign byte) in hex."""
    tbs = _items(_items(_items(cert_der)[0][1])[0][1])
    serial = tbs[1][1] if tbs[0][0] == 0xA0 else tbs[0][1]
    return (serial[1:] if serial[:1] == b"\x00" and len(serial) > 1 else serial).hex()


@dataclass
class FakeCard:
    key_path: Path
    cert_path: Path
    pin: str = "88888888"
    der: bool = False
    calls: list[dict[str, Any]] = field(default_factory=list)
    server: Server | None = None

    def __post_init__(self) -> None:
        self.cert_der = _pem_body(self.cert_path.read_bytes())
        self.number = serial_hex(self.cert_der)
        self.sm2 = SM2_CURVE in self.cert_der
        if self.sm2:
            key_der = _pem_body(self.key_path.read_bytes())
            private = _items(_items(key_der)[0][1])[1][1].hex()  # SEC1: version, privateKey OCTET STRING, …
            self._sm2 = sm2.CryptSM2(private_key=private, public_key="")
            self._sm2.public_key = _sm2_public_hex(self.cert_der)
        else:
            key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
            self._rsa = key

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = next(iter(self.server.sockets)).getsockname()[:2]
        return f"ws://{host}:{port}"

    def _sign(self, data: bytes) -> bytes:
        if not self.sm2:
            return self._rsa.sign(data, padding.PKCS1v15(), hashes.SHA1())
        raw = bytes.fromhex(self._sm2.sign_with_sm3(data))
        if not self.der:
            return raw
        return _seq(_int(int.from_bytes(raw[:32], "big")), _int(int.from_bytes(raw[32:], "big")))

    def answer(self, method: str, args: dict[str, Any]) -> tuple[bool, list[str], list[str]]:
        if method == "cus-sec_SpcGetSignCertAsPEM":
            return True, [base64.b64encode(self.cert_der).decode()], []
        if method == "cus-sec_SpcGetCertNo":
            return True, [self.number], []
        if method == "cus-sec_SpcSignDataAsPEM":
            if args.get("passwd") != self.pin:
                return False, [], ["[卡操作]口令错误", "Err:Custom50110"]
            value = self._sign(str(args["inData"]).encode("utf-8"))
            return True, [base64.b64encode(value).decode(), self.number], []
        return False, [], [f"未知的方法: {method}"]

    async def _handle(self, ws: ServerConnection) -> None:
        async for frame in ws:
            request = json.loads(frame)
            self.calls.append(request)
            ok, data, errors = self.answer(request["_method"], request.get("args") or {})
            await ws.send(json.dumps({
                "_id": request["_id"], "_method": request["_method"], "_status": "00",
                "_args": {"Result": ok, "Data": data, "Error": errors},
            }, ensure_ascii=False))  # fmt: skip

    async def __aenter__(self) -> FakeCard:
        self.server = await serve(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()
