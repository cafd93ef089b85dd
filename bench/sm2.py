"""SM2 for the benchmark: a fresh SM2 key and its self-signed certificate (made as the compliance tests make
theirs: cryptography has no SM2, so the key and certificate are DER encoded here by hand, the certificate signed
with gmssl), and the SM2-SM3 figures: sign through XBM's own signer (``FileSigner``: Tongsuo in C, or gmssl in pure
Python when Tongsuo is missing) and a public-key verify through Tongsuo of the same signature over the same
SignedInfo, timed one operation at a time."""

from __future__ import annotations

import asyncio
import base64
import secrets
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from gmssl import sm2
from lxml import etree
from tongsuopy.crypto import hashes as sm_hashes
from tongsuopy.crypto.asymciphers import ec as sm_ec
from tongsuopy.crypto.asymciphers.utils import encode_dss_signature

from services.compliance.customs.signing import DS, FileSigner, c14n, sign_message, sm2_public_from_certificate

SM2_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
EC_PUBLIC_KEY, SM2_CURVE, SM2_WITH_SM3 = "1.2.840.10045.2.1", "1.2.156.10197.1.301", "1.2.156.10197.1.501"


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def _seq(*parts: bytes) -> bytes:
    return _der(0x30, b"".join(parts))


def _int(value: int) -> bytes:
    return _der(0x02, value.to_bytes((value.bit_length() + 8) // 8 or 1, "big"))


def _oid(dotted: str) -> bytes:
    nums = [int(x) for x in dotted.split(".")]
    out = bytes([40 * nums[0] + nums[1]])
    for n in nums[2:]:
        chunk = [n & 0x7F]
        n >>= 7
        while n:
            chunk.append(0x80 | (n & 0x7F))
            n >>= 7
        out += bytes(reversed(chunk))
    return _der(0x06, out)


def _pem(label: str, der: bytes) -> bytes:
    b64 = base64.b64encode(der).decode()
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return ("\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"]) + "\n").encode()


def sm2_files(folder: Path) -> tuple[Path, Path]:
    """A fresh SM2 key (SEC1 PEM) and its self-signed SM2-with-SM3 certificate (PEM), written in ``folder``."""
    while True:
        private = secrets.randbelow(SM2_N - 1) + 1
        private_hex = format(private, "064x")
        helper = sm2.CryptSM2(private_key=private_hex, public_key="")
        public_hex = helper._kg(private, helper.ecc_table["g"])  # d·G, the public point X || Y
        if len(public_hex) == 128:
            break
    point = bytes.fromhex("04" + public_hex)
    name = _seq(_der(0x31, _seq(_oid("2.5.4.3"), _der(0x0C, b"XBM bench SM2 card"))))
    validity = _seq(_der(0x17, b"260101000000Z"), _der(0x17, b"361231000000Z"))
    spki = _seq(_seq(_oid(EC_PUBLIC_KEY), _oid(SM2_CURVE)), _der(0x03, b"\x00" + point))
    algorithm = _seq(_oid(SM2_WITH_SM3))
    tbs = _seq(_der(0xA0, _int(2)), _int(secrets.randbits(63)), algorithm, name, validity, name, spki)
    signer = sm2.CryptSM2(private_key=private_hex, public_key="")
    signer.public_key = public_hex  # not through the constructor, which lstrips "04" from X itself
    signature = bytes.fromhex(signer.sign_with_sm3(tbs))
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    cert = _seq(tbs, algorithm, _der(0x03, b"\x00" + _seq(_int(r), _int(s))))
    key = _seq(
        _int(1),
        _der(0x04, bytes.fromhex(private_hex)),
        _der(0xA0, _oid(SM2_CURVE)),
        _der(0xA1, _der(0x03, b"\x00" + point)),
    )
    folder.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = folder / "sm2.key", folder / "sm2.crt"
    key_path.write_bytes(_pem("EC PRIVATE KEY", key))
    cert_path.write_bytes(_pem("CERTIFICATE", cert))
    return key_path, cert_path


# --- the figures ----------------------------------------------------------------------------------------------


@dataclass
class Timing:
    name: str
    operations: int
    median_ms: float
    p99_ms: float
    bound_ms: float | None = None

    @property
    def met(self) -> bool | None:
        return None if self.bound_ms is None else self.median_ms <= self.bound_ms


def _timing(name: str, samples: list[float], bound_ms: float | None = None) -> Timing:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return Timing(name, len(samples), statistics.median(samples), p99, bound_ms)


async def signed_info(signer: FileSigner) -> bytes:
    """The canonical SignedInfo XBM signs for a small customs message (what every signature is over)."""
    root = etree.fromstring(
        b'<CEB621Message xmlns="http://www.chinaport.gov.cn/ceb" guid="4CDE1CFD-EDED-46B1-946C-B8022E42FC94" '
        b'version="1.0"><Inventory><InventoryHead><orderNo>XBM2026090100123</orderNo></InventoryHead></Inventory>'
        b"<BaseTransfer><copCode>1105910159</copCode></BaseTransfer></CEB621Message>"
    )
    signed = await sign_message(root, signer)
    info = signed.find(f"{{{DS}}}Signature/{{{DS}}}SignedInfo")
    assert info is not None
    return c14n(info)


def tongsuo_public_key(signer: FileSigner) -> sm_ec.EllipticCurvePublicKey:
    point = sm2_public_from_certificate(signer.certificate_der)
    return sm_ec.EllipticCurvePublicNumbers(int(point[:64], 16), int(point[64:], 16), sm_ec.SM2()).public_key()


async def measure(folder: Path, operations: int = 2000, fallback_operations: int = 50) -> list[Timing]:
    """Median ms per operation: sign with XBM's ``FileSigner`` (Tongsuo), verify with Tongsuo, and the gmssl
    fallback's sign and verify (fewer operations: it is pure Python)."""
    key, cert = sm2_files(folder)
    signer = FileSigner.from_files(key, cert)
    if getattr(signer, "_sm2_c", None) is None:
        raise RuntimeError("tongsuopy is not installed: XBM signs SM2 with gmssl (pure Python) only")
    info = await signed_info(signer)
    public, algorithm = tongsuo_public_key(signer), sm_ec.ECDSA(sm_hashes.SM3())
    signs, verifies = [], []
    value = b""
    for _ in range(operations):
        t0 = time.perf_counter()
        value = (await signer.sign(info)).value
        t1 = time.perf_counter()
        der = encode_dss_signature(int.from_bytes(value[:32], "big"), int.from_bytes(value[32:], "big"))
        t2 = time.perf_counter()
        public.verify(der, info, algorithm)  # raises InvalidSignature
        t3 = time.perf_counter()
        signs.append((t1 - t0) * 1000)
        verifies.append((t3 - t1) * 1000)  # the r‖s → DER conversion a verifier of the message must do, included
    # the fallback: the same FileSigner with Tongsuo hidden signs with gmssl; gmssl verifies
    fallback = FileSigner.from_files(key, cert)
    fallback._sm2_c = None
    fallback_signs, fallback_verifies = [], []
    for _ in range(fallback_operations):
        t0 = time.perf_counter()
        value = (await fallback.sign(info)).value
        t1 = time.perf_counter()
        ok = fallback._sm2.verify_with_sm3(value.hex(), info)
        t2 = time.perf_counter()
        if not ok:
            raise RuntimeError("gmssl's SM2 signature does not verify")
        fallback_signs.append((t1 - t0) * 1000)
        fallback_verifies.append((t2 - t1) * 1000)
    der = encode_dss_signature(int.from_bytes(value[:32], "big"), int.from_bytes(value[32:], "big"))
    public.verify(der, info, algorithm)  # gmssl's signature verifies with Tongsuo too: the same SM2-SM3
    return [
        _timing("sm2_sign (FileSigner, Tongsuo)", signs, 0.5),
        _timing("sm2_verify (Tongsuo, public key)", verifies, 1.0),
        _timing("sm2_sign (FileSigner, gmssl fallback)", fallback_signs),
        _timing("sm2_verify (gmssl)", fallback_verifies),
    ]


def run(folder: Path, operations: int = 2000) -> list[Timing]:
    return asyncio.run(measure(folder, operations))
