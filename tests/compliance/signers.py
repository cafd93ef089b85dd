"""Test signing keys and certificates, made fresh in each run (no key is ever committed), and a verifier of
customs signatures written independently of XBM's signer: the digest recomputed over the C14N message without its
Signature, the signature value checked with the certificate's public key (cryptography for RSA, gmssl for SM2)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from gmssl import sm2, sm3
from lxml import etree

DS = "http://www.w3.org/2000/09/xmldsig#"
SM2_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)


def rsa_files(folder: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "XBM test e-port card")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = folder / "rsa.key", folder / "rsa.crt"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


# --- SM2: cryptography has no SM2, so the key and a self-signed certificate are encoded here, by hand ----------


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
    raw = value.to_bytes((value.bit_length() + 8) // 8 or 1, "big")
    return _der(0x02, raw)


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


EC_PUBLIC_KEY, SM2_CURVE, SM2_WITH_SM3 = "1.2.840.10045.2.1", "1.2.156.10197.1.301", "1.2.156.10197.1.501"


def sm2_files(folder: Path, x_prefix: str = "") -> tuple[Path, Path]:
    """A fresh SM2 key and its self-signed certificate; ``x_prefix`` asks for a public X beginning with those hex
    digits (keys are drawn until one does)."""
    while True:
        private = secrets.randbelow(SM2_N - 1) + 1
        private_hex = format(private, "064x")
        helper = sm2.CryptSM2(private_key=private_hex, public_key="")
        public_hex = helper._kg(private, helper.ecc_table["g"])  # d·G, the public point X || Y
        if public_hex.startswith(x_prefix):
            break
    point = bytes.fromhex("04" + public_hex)
    name = _seq(_der(0x31, _seq(_oid("2.5.4.3"), _der(0x0C, b"XBM test SM2 card"))))
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
    key_path, cert_path = folder / "sm2.key", folder / "sm2.crt"
    key_path.write_bytes(_pem("EC PRIVATE KEY", key))
    cert_path.write_bytes(_pem("CERTIFICATE", cert))
    return key_path, cert_path


# --- verification, independent of services/compliance/customs/signing.py ----------------------------------------


def _c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=False, with_comments=False)


def _sm2_public_hex(cert_der: bytes) -> str:
    """The certificate's public point, found as the BIT STRING that follows the SM2 curve OID."""
    marker = bytes.fromhex("06082a811ccf5501822d")
    at = cert_der.index(marker) + len(marker)
    assert cert_der[at] == 0x03 and cert_der[at + 2] == 0x00 and cert_der[at + 3] == 0x04
    return cert_der[at + 4 : at + 4 + 64].hex()


def verify(xml: bytes) -> str:
    """Check a signed customs message; returns the signature algorithm it used. Raises AssertionError."""
    doc = etree.fromstring(xml)
    signature = doc.find(f"{{{DS}}}Signature")
    assert signature is not None, "no Signature element"
    assert doc[-1] is signature, "the enveloped signature is the message's last element"
    info = signature.find(f"{{{DS}}}SignedInfo")
    assert info is not None
    c14n_method = info.find(f"{{{DS}}}CanonicalizationMethod")
    assert c14n_method is not None and c14n_method.get("Algorithm") == "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    reference = info.find(f"{{{DS}}}Reference")
    assert reference is not None and reference.get("URI") == ""
    transforms = [t.get("Algorithm") for t in reference.iter(f"{{{DS}}}Transform")]
    assert transforms == ["http://www.w3.org/2000/09/xmldsig#enveloped-signature"]
    method = info.find(f"{{{DS}}}SignatureMethod").get("Algorithm")  # type: ignore[union-attr]
    digest_method = reference.find(f"{{{DS}}}DigestMethod").get("Algorithm")  # type: ignore[union-attr]
    key_info = signature.find(f"{{{DS}}}KeyInfo")
    assert key_info is not None and (key_info.findtext(f"{{{DS}}}KeyName") or "").strip()
    cert_der = base64.b64decode(key_info.findtext(f".//{{{DS}}}X509Certificate") or "")
    value = base64.b64decode(signature.findtext(f"{{{DS}}}SignatureValue") or "")

    # the enveloped-signature transform: digest the message with its Signature taken out
    bare = etree.fromstring(xml)
    bare.remove(bare.find(f"{{{DS}}}Signature"))
    content = _c14n(bare)
    expected = base64.b64decode(reference.findtext(f"{{{DS}}}DigestValue") or "")
    signed_info = _c14n(info)
    if method == "http://www.w3.org/2000/09/xmldsig#rsa-sha1":
        assert digest_method == "http://www.w3.org/2000/09/xmldsig#sha1"
        assert hashlib.sha1(content).digest() == expected, "digest differs"
        public = x509.load_der_x509_certificate(cert_der).public_key()
        assert isinstance(public, rsa.RSAPublicKey)
        public.verify(value, signed_info, padding.PKCS1v15(), hashes.SHA1())  # raises InvalidSignature
        return "rsa"
    assert method == "http://www.chinaport.gov.cn/2022/04/xmldsig#sm2-sm3", method
    # the one encoding customs takes (docs/signing.md): r‖s, 32 bytes each, as the e-port card answers
    assert len(value) == 64, f"SM2 SignatureValue is {len(value)} bytes, not r‖s (64)"
    assert digest_method == "http://www.chinaport.gov.cn/2022/04/xmldsig#sm3"
    assert bytes.fromhex(sm3.sm3_hash(list(content))) == expected, "digest differs"
    checker = sm2.CryptSM2(private_key="", public_key="")
    checker.public_key = _sm2_public_hex(cert_der)  # gmssl's constructor lstrips "04", digits of X included
    assert checker.verify_with_sm3(value.hex(), signed_info), "SM2 signature does not verify"
    return "sm2"
