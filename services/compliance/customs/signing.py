"""The enveloped XML-DSig customs requires (spec §6): C14N 20010315, the enveloped-signature transform,
RSA-SHA1/SHA-1 for an RSA key or SM2-SM3/SM3 for an SM2 key, KeyInfo with KeyName and X509Certificate.

Signers: a key and certificate in PEM files, an external agent in front of the e-port card (XBM sends the
canonical SignedInfo, the agent answers with the signature value and the certificate), or the e-port card's own
local signing service (:mod:`services.compliance.customs.card`).

The SM2 SignatureValue is always the 64 bytes r‖s (each 32 bytes, big-endian), whatever the signer gave: the
e-port card answers so, as XML-DSig writes EC signatures (docs/signing.md has the evidence); a DER
``SEQUENCE {r, s}`` from an agent is converted. KeyName is the certificate's number (its serial number in hex, as
the card reports it), or the one a setting names."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from gmssl import sm2, sm3
from lxml import etree

try:  # SM2 and SM3 in C (Tongsuo, an OpenSSL with the Chinese algorithms): ~0.3 ms to sign where gmssl, pure
    # Python, takes ~8 ms; gmssl stays for a platform with no Tongsuo wheel (docs/signing.md says why this one)
    from tongsuopy.crypto import hashes as sm_hashes
    from tongsuopy.crypto.asymciphers import ec as sm_ec
except ImportError:  # pragma: no cover - exercised by tests that hide the module
    sm_hashes = sm_ec = None

from shared.errors import Unavailable

DS = "http://www.w3.org/2000/09/xmldsig#"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
ALGORITHMS = {
    "rsa": ("http://www.w3.org/2000/09/xmldsig#rsa-sha1", "http://www.w3.org/2000/09/xmldsig#sha1"),
    "sm2": ("http://www.chinaport.gov.cn/2022/04/xmldsig#sm2-sm3", "http://www.chinaport.gov.cn/2022/04/xmldsig#sm3"),
}
#: OID 1.2.156.10197.1.301 (sm2p256v1) as DER content bytes: how an SM2 key or certificate is recognised
SM2_OID = bytes.fromhex("2a811ccf5501822d")
#: the order of the SM2 curve's base point: r and s lie in [1, n-1]
SM2_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
#: a structurally complete signature, used only to check an unsigned message against the schema
SIGNATURE_SLOT = (
    f'<ds:Signature xmlns:ds="{DS}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="{C14N}"/>'
    f'<ds:SignatureMethod Algorithm="{ALGORITHMS["sm2"][0]}"/><ds:Reference URI=""><ds:Transforms>'
    f'<ds:Transform Algorithm="{ENVELOPED}"/></ds:Transforms><ds:DigestMethod Algorithm="{ALGORITHMS["sm2"][1]}"/>'
    "<ds:DigestValue>AA==</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>AA==</ds:SignatureValue>"
    "</ds:Signature>"
)


class SigningError(Unavailable):
    """The configured signer could not sign (unreadable key, agent unreachable or answering nonsense). Asked for
    over HTTP it is a 503 with ``Retry-After``; in the outbox the message is ``failed`` and tried again."""

    def __init__(self, detail: str, *, retry_after: int = 30):
        super().__init__(detail, retry_after=retry_after)


@dataclass(frozen=True)
class SignatureParts:
    value: bytes
    certificate_der: bytes
    key_name: str


class Signer(Protocol):
    """``algorithm`` names the key ("rsa" | "sm2"); a signer that learns it only from its device (the card) also
    has ``async prepare()``, awaited before ``algorithm`` is read."""

    algorithm: str

    async def sign(self, signed_info: bytes) -> SignatureParts: ...


def digest(algorithm: str, data: bytes) -> bytes:
    if algorithm == "sm2" and sm_hashes is not None:
        sm3_c = sm_hashes.Hash(sm_hashes.SM3())
        sm3_c.update(data)
        return sm3_c.finalize()
    if algorithm == "sm2":
        return bytes.fromhex(sm3.sm3_hash(list(data)))
    return hashlib.sha1(data, usedforsecurity=True).digest()


def c14n(element: etree._Element) -> bytes:
    """Inclusive C14N 1.0 without comments; for an element inside a document its in-scope namespaces count."""
    return etree.tostring(element, method="c14n", exclusive=False, with_comments=False)


# --- DER, just enough to read an SM2 key and the public key of a certificate ----------------------------------


def der_items(data: bytes) -> list[tuple[int, bytes]]:
    """The (tag, content) items of a DER sequence's content."""
    items, i = [], 0
    while i < len(data):
        tag, length = data[i], data[i + 1]
        i += 2
        if length & 0x80:
            n = length & 0x7F
            length = int.from_bytes(data[i : i + n], "big")
            i += n
        items.append((tag, data[i : i + length]))
        i += length
    return items


def _sm2_private(der: bytes) -> str:
    """The private scalar (hex) of an SM2 key, PKCS#8 or SEC1."""
    top = der_items(der_items(der)[0][1])
    if top[0][0] == 0x02 and top[0][1] == b"\x00":  # PKCS#8: version 0, algorithm, OCTET STRING(ECPrivateKey)
        top = der_items(der_items(top[2][1])[0][1])
    return top[1][1].hex()


def sm2_public_from_certificate(cert_der: bytes) -> str:
    """The uncompressed public point (hex, without the 04 prefix) of a certificate's SM2 key."""
    tbs = der_items(der_items(der_items(cert_der)[0][1])[0][1])
    if tbs[0][0] == 0xA0:  # explicit version
        tbs = tbs[1:]
    spki = der_items(tbs[5][1])
    bits = spki[1][1]
    return bits[2:].hex()  # unused-bits byte, then 04 || X || Y


def certificate_number(cert_der: bytes) -> str:
    """The certificate's number as the e-port card reports it (``cus-sec_SpcGetCertNo``): its serial number in
    lower-case hex, whole bytes (serial 0x03000000000CDE6F → ``03000000000cde6f``)."""
    try:
        serial = x509.load_der_x509_certificate(cert_der).serial_number
    except ValueError as exc:
        raise SigningError(f"the signing certificate cannot be read: {exc}") from exc
    text = format(serial, "x")
    return text.zfill(len(text) + len(text) % 2)


def _tlv(data: bytes, at: int) -> tuple[int, bytes, int]:
    """One DER item at ``at``: its tag, its content and where the next item begins; ValueError when cut short."""
    if at + 2 > len(data):
        raise ValueError("cut short")
    tag, length, at = data[at], data[at + 1], at + 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 2 or at + n > len(data):
            raise ValueError("bad length")
        length, at = int.from_bytes(data[at : at + n], "big"), at + n
    if at + length > len(data):
        raise ValueError("cut short")
    return tag, data[at : at + length], at + length


def sm2_signature_value(value: bytes) -> bytes:
    """The SM2 signature as customs takes it: r‖s, 64 bytes. A DER ``SEQUENCE {INTEGER r, INTEGER s}`` (what
    many SM2 libraries and agents give) is converted; anything else is a :class:`SigningError`."""
    if len(value) == 64:
        r, s = int.from_bytes(value[:32], "big"), int.from_bytes(value[32:], "big")
    else:
        try:
            tag, body, end = _tlv(value, 0)
            r_tag, r_raw, at = _tlv(body, 0)
            s_tag, s_raw, body_end = _tlv(body, at)
        except ValueError as exc:
            raise SigningError(f"the SM2 signature value ({len(value)} bytes) is neither r‖s nor DER") from exc
        if (tag, r_tag, s_tag) != (0x30, 0x02, 0x02) or end != len(value) or body_end != len(body):
            raise SigningError(f"the SM2 signature value ({len(value)} bytes) is neither r‖s nor DER")
        r, s = int.from_bytes(r_raw, "big"), int.from_bytes(s_raw, "big")
    if not (0 < r < SM2_N and 0 < s < SM2_N):
        raise SigningError("the SM2 signature value is out of range")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def signature_value(algorithm: str, value: bytes) -> bytes:
    """The SignatureValue's bytes in the one encoding customs takes for the algorithm."""
    return sm2_signature_value(value) if algorithm == "sm2" else value


def algorithm_of(cert_der: bytes) -> str:
    """``sm2`` for a certificate of an SM2 key, else ``rsa``."""
    return "sm2" if SM2_OID in cert_der else "rsa"


def _pem_der(text: bytes) -> bytes:
    lines = [line for line in text.decode().splitlines() if line and not line.startswith("-----")]
    return base64.b64decode("".join(lines))


class FileSigner:
    """A key and its certificate from PEM files: an RSA key signs rsa-sha1, an SM2 key sm2-sm3."""

    def __init__(self, key_pem: bytes, cert_pem: bytes, key_name: str | None = None):
        self.certificate_der = _pem_der(cert_pem)
        key_der = _pem_der(key_pem)
        self.key_name = key_name or certificate_number(self.certificate_der)
        if SM2_OID in key_der:
            self.algorithm = "sm2"
            private, public = _sm2_private(key_der), sm2_public_from_certificate(self.certificate_der)
            self._sm2_c = None
            if sm_ec is not None:
                self._sm2_c = sm_ec.derive_private_key(int(private, 16), sm_ec.SM2())
                numbers = self._sm2_c.public_key().public_numbers()
                if f"{numbers.x:064x}{numbers.y:064x}" != public.lower():
                    raise SigningError("the SM2 key does not belong to the certificate")
            self._sm2 = sm2.CryptSM2(private_key=private, public_key="")
            # Set after construction: gmssl strips a leading "04" with lstrip, which also eats the first digits of
            # a point whose X begins with 0 or 4 (one key in 256 loses them and cannot sign).
            self._sm2.public_key = public
        else:
            key = serialization.load_pem_private_key(key_pem, password=None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise SigningError("the signing key must be an RSA or an SM2 key")
            self.algorithm = "rsa"
            self._rsa = key

    @classmethod
    def from_files(cls, key: Path, cert: Path, key_name: str | None = None) -> FileSigner:
        try:
            return cls(key.read_bytes(), cert.read_bytes(), key_name)
        except (OSError, ValueError, IndexError) as exc:
            raise SigningError(f"cannot read the signing key or certificate: {exc}") from exc

    async def sign(self, signed_info: bytes) -> SignatureParts:
        if self.algorithm == "sm2" and self._sm2_c is not None:
            # SM2 with SM3 over Z (the default signer id 1234567812345678) ‖ message, as gmssl signs; DER → r‖s
            value = sm2_signature_value(self._sm2_c.sign(signed_info, sm_ec.ECDSA(sm_hashes.SM3())))
        elif self.algorithm == "sm2":
            value = bytes.fromhex(self._sm2.sign_with_sm3(signed_info))
        else:
            value = self._rsa.sign(signed_info, padding.PKCS1v15(), hashes.SHA1())
        return SignatureParts(value, self.certificate_der, self.key_name)


class AgentSigner:
    """An external signing agent (in front of the operator's e-port card, e.g. ``python -m
    services.compliance.signer``): POST ``{algorithm, data}`` with the canonical SignedInfo in base64 →
    ``{signature_value, certificate, key_name}`` (base64 values; ``algorithm`` too when the agent says which key
    signed). ``token``: sent as a bearer token. KeyName: ``key_name`` (a setting) else the agent's, else the
    certificate's number."""

    def __init__(self, url: str, http: httpx.AsyncClient, algorithm: str = "sm2", *, token: str | None = None,
                 key_name: str | None = None):  # fmt: skip
        self.url, self.http, self.algorithm = url, http, algorithm
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.key_name = key_name

    async def sign(self, signed_info: bytes) -> SignatureParts:
        body = {"algorithm": ALGORITHMS[self.algorithm][0], "data": base64.b64encode(signed_info).decode()}
        try:
            r = await self.http.post(self.url, json=body, headers=self.headers)
            r.raise_for_status()
            answer = r.json()
            said = answer.get("algorithm")
            if said is not None and said != ALGORITHMS[self.algorithm][0]:
                raise SigningError(f"the signing agent signed with {said}, not {ALGORITHMS[self.algorithm][0]}")
            certificate = base64.b64decode(answer["certificate"])
            value = signature_value(self.algorithm, base64.b64decode(answer["signature_value"]))
            name = self.key_name or str(answer.get("key_name") or "") or certificate_number(certificate)
            return SignatureParts(value, certificate, name[:64])
        except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SigningError(f"the signing agent did not sign: {exc}") from exc


def _el(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    node = etree.SubElement(parent, f"{{{DS}}}{name}")
    for key, value in attrs.items():
        node.set(key, value)
    if text is not None:
        node.text = text
    return node


async def sign_message(root: etree._Element, signer: Signer) -> etree._Element:
    """Append the enveloped signature to ``root`` (after BaseTransfer, where every message schema expects it)."""
    prepare = getattr(signer, "prepare", None)
    if prepare is not None:
        await prepare()
    method, digest_method = ALGORITHMS[signer.algorithm]
    # the enveloped-signature transform: the digest is over the message without its Signature
    digest_value = base64.b64encode(digest(signer.algorithm, c14n(root))).decode()
    signature = etree.SubElement(root, f"{{{DS}}}Signature", nsmap={"ds": DS})
    info = _el(signature, "SignedInfo")
    _el(info, "CanonicalizationMethod", Algorithm=C14N)
    _el(info, "SignatureMethod", Algorithm=method)
    reference = _el(info, "Reference", URI="")
    _el(_el(reference, "Transforms"), "Transform", Algorithm=ENVELOPED)
    _el(reference, "DigestMethod", Algorithm=digest_method)
    _el(reference, "DigestValue", digest_value)
    parts = await signer.sign(c14n(info))
    value = signature_value(signer.algorithm, parts.value)
    _el(signature, "SignatureValue", base64.b64encode(value).decode())
    key_info = _el(signature, "KeyInfo")
    _el(key_info, "KeyName", parts.key_name)
    _el(_el(key_info, "X509Data"), "X509Certificate", base64.b64encode(parts.certificate_der).decode())
    return root
