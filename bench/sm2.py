"""SM2 for the benchmark: a fresh SM2 key and its self-signed certificate (the compliance tests' own card maker,
tests/compliance/signers.py: cryptography has no SM2, so the key and certificate are DER encoded by hand, the
certificate signed with gmssl), and the SM2-SM3 figures: sign through XBM's own signer (``FileSigner``: Tongsuo
in C, or gmssl in pure Python when Tongsuo is missing) and a public-key verify through Tongsuo of the same
signature over the same SignedInfo, timed one operation at a time."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from tongsuopy.crypto import hashes as sm_hashes
from tongsuopy.crypto.asymciphers import ec as sm_ec
from tongsuopy.crypto.asymciphers.utils import encode_dss_signature

from services.compliance.customs.signing import DS, FileSigner, c14n, sign_message, sm2_public_from_certificate
from tests.compliance.signers import sm2_files


def card(folder: Path) -> tuple[Path, Path]:
    """A fresh SM2 key and certificate (PEM files) in ``folder``, made if missing."""
    folder.mkdir(parents=True, exist_ok=True)
    return sm2_files(folder)


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
    key, cert = card(folder)
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
