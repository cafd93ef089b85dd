"""The e-port card signs: the bridge (``python -m services.compliance.signer``) between XBM's signing-agent protocol
and the card's local signing service, run against a fake of that service (tests/compliance/fake_eport_card.py);
every signature is checked by the verifier in tests/compliance/signers.py, written apart from XBM's signer. The
SM2 SignatureValue is r‖s (64 bytes) whatever the device answered; KeyName is the card's certificate number."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from services.compliance.context import compliance_context
from services.compliance.customs.card import CardService, CardSigner
from services.compliance.customs.context import CustomsContext
from services.compliance.customs.signing import (
    DS,
    AgentSigner,
    FileSigner,
    SigningError,
    c14n,
    sign_message,
    sm2_signature_value,
)
from services.compliance.settings import ComplianceSettings
from services.compliance.signer.app import create_app
from tests.compliance.fake_eport_card import FakeCard, serial_hex
from tests.compliance.signers import _int, _seq, rsa_files, sm2_files, verify
from tests.compliance.support import CUSTOMS, new_order_no, schema
from tests.compliance.test_export_flow import Exporter, export_order, export_waybill, receipt_of_payment

PIN = "88888888"
TOKEN = "bridge-token-for-tests"
SM2_METHOD = "http://www.chinaport.gov.cn/2022/04/xmldsig#sm2-sm3"
RSA_METHOD = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"


def _key_info(xml: bytes) -> tuple[str, bytes]:
    doc = etree.fromstring(xml)
    name = doc.findtext(f".//{{{DS}}}KeyName") or ""
    value = base64.b64decode(doc.findtext(f".//{{{DS}}}SignatureValue") or "")
    return name, value


def _unsigned_603() -> etree._Element:
    """The official CEB603 sample without the signature it came with."""
    root = etree.fromstring((CUSTOMS / "samples" / "export" / "CEB603Message.xml").read_bytes())
    for old in root.findall(f"{{{DS}}}Signature"):
        root.remove(old)
    return root


def _files(algorithm: str, folder: Path) -> tuple[Path, Path]:
    return (rsa_files if algorithm == "rsa" else sm2_files)(folder)


@pytest.mark.parametrize(("algorithm", "der"), [("rsa", False), ("sm2", False), ("sm2", True)])
async def test_the_card_bridge_signs_a_ceb603_that_verifies_with_the_card_number_as_keyname(
    compliance, compliance_app, tenant, tmp_path: Path, monkeypatch, algorithm: str, der: bool
):  # type: ignore[no-untyped-def]
    key, cert = _files(algorithm, tmp_path)
    async with FakeCard(key, cert, PIN, der=der) as card:
        bridge = create_app(CardSigner(CardService(card.url, PIN)), TOKEN)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bridge), base_url="http://bridge") as http:
            signer = AgentSigner("http://bridge/sign", http, algorithm, token=TOKEN)
            monkeypatch.setattr(compliance_context(compliance_app).customs, "signer", signer)
            seller = await Exporter(compliance, tenant).setup()
            order_no = new_order_no()
            view = await seller.deliver(export_order(order_no), receipt_of_payment(order_no), export_waybill(order_no))
            assert view["state"] == "declared", view["checks"]
            inventory = await seller.xml(view["declaration_id"])
    assert inventory.tag == "{http://www.chinaport.gov.cn/ceb}CEB603Message"
    export = schema("export")
    assert export.validate(inventory), export.error_log
    assert verify(seller.last_xml) == algorithm  # independent of XBM: digest, signature, certificate
    key_name, value = _key_info(seller.last_xml)
    # KeyName is the certificate's number: the serial number's bytes in hex, as the card reports it
    assert key_name == card.number == serial_hex(card.cert_der)
    if algorithm == "sm2":
        assert len(value) == 64  # r‖s, also when the device answered DER
    # the card was asked to sign the canonical SignedInfo of that very message, with its PIN
    signed = [c for c in card.calls if c["_method"] == "cus-sec_SpcSignDataAsPEM"]
    assert signed and all(c["args"]["passwd"] == PIN for c in signed)
    info = etree.fromstring(seller.last_xml).find(f".//{{{DS}}}SignedInfo")
    assert info is not None
    assert c14n(info).decode() in [c["args"]["inData"] for c in signed]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_bridge_process_signs_with_the_card_and_asks_for_its_token(tmp_path: Path):
    key, cert = sm2_files(tmp_path)
    port = _free_port()
    async with FakeCard(key, cert, PIN) as card:
        env = {**os.environ, "XBM_SIGNER_CARD_PASSWORD": PIN, "XBM_SIGNER_TOKEN": TOKEN}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.compliance.signer", "--card", card.url, "--listen", f"127.0.0.1:{port}",
            env=env, cwd=str(Path(__file__).parents[2]),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
                for _ in range(200):
                    try:
                        health = await http.get("/health")
                        break
                    except httpx.TransportError:
                        assert process.returncode is None, await process.stderr.read()  # type: ignore[union-attr]
                        await asyncio.sleep(0.05)
                assert health.status_code == 200, health.text
                assert health.json() == {"algorithm": "sm2", "certificate_number": card.number, "key_name": card.number}

                root = _unsigned_603()
                signed = await sign_message(root, AgentSigner(f"http://127.0.0.1:{port}/sign", http, token=TOKEN))
                xml = etree.tostring(signed)
                assert verify(xml) == "sm2"
                key_name, value = _key_info(xml)
                assert (key_name, len(value)) == (card.number, 64)

                data = base64.b64encode(b"<ds:SignedInfo/>").decode()
                r = await http.post("/sign", json={"algorithm": SM2_METHOD, "data": data})
                assert r.status_code == 401, r.text
                with pytest.raises(SigningError):
                    await sign_message(root, AgentSigner(f"http://127.0.0.1:{port}/sign", http, token="wrong"))
        finally:
            process.terminate()
            await process.wait()


async def test_the_bridge_says_why_the_card_cannot_sign(tmp_path: Path):
    key, cert = rsa_files(tmp_path)
    data = base64.b64encode(b"<ds:SignedInfo/>").decode()
    async with FakeCard(key, cert, PIN) as card:
        gone = card.url
        for pin, body, status, words in (
            ("wrong-pin", {"algorithm": RSA_METHOD, "data": data}, 503, "口令错误"),
            (PIN, {"algorithm": SM2_METHOD, "data": data}, 422, "signs http://www.w3.org/2000/09/xmldsig#rsa-sha1"),
            (PIN, {"algorithm": RSA_METHOD, "data": "not base64!"}, 422, "base64"),
        ):
            app = create_app(CardSigner(CardService(card.url, pin)))
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as http:
                r = await http.post("/sign", json=body)
            assert r.status_code == status, r.text
            assert words in r.json()["detail"], r.json()
            if status == 503:
                assert r.headers["retry-after"] == "30"
        # an SM2-configured compliance in front of an RSA card: a signing error naming both, no wrong signature
        app = create_app(CardSigner(CardService(card.url, PIN)))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as http:
            root = _unsigned_603()
            with pytest.raises(SigningError, match="422"):
                await sign_message(root, AgentSigner("http://b/sign", http, "sm2"))
    # the card's service gone: 503 on both routes, and the agent signer fails as a SigningError
    app = create_app(CardSigner(CardService(gone, PIN, timeout=2)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as http:
        assert (await http.get("/health")).status_code == 503
        r = await http.post("/sign", json={"algorithm": RSA_METHOD, "data": data})
        assert r.status_code == 503 and "unreachable" in r.json()["detail"], r.text


@pytest.mark.parametrize("algorithm", ["rsa", "sm2"])
async def test_compliance_can_talk_to_the_card_service_itself(tmp_path: Path, algorithm: str):
    """On the operator's own machine compliance may use the card's local service directly (a ws:// signer URL);
    the algorithm follows the card's certificate, whatever ``signer_algorithm`` says."""
    key, cert = _files(algorithm, tmp_path)
    async with FakeCard(key, cert, PIN) as card:
        settings = ComplianceSettings(signer_url=card.url, signer_card_password=PIN, data_dir=tmp_path)
        ctx = CustomsContext.build(settings, None)
        assert isinstance(ctx.signer, CardSigner)
        root = _unsigned_603()
        xml = etree.tostring(await sign_message(root, ctx.signer))
    assert verify(xml) == algorithm
    assert _key_info(xml)[0] == card.number


async def test_an_sm2_signature_in_der_from_an_agent_is_written_as_r_and_s(tmp_path: Path):
    key_path, cert_path = sm2_files(tmp_path)
    card = FakeCard(key_path, cert_path, PIN, der=True)
    seen: list[dict[str, Any]] = []

    def agent(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        value = card._sign(base64.b64decode(body["data"]))
        assert value[0] == 0x30 and len(value) != 64  # DER
        answer = {"signature_value": base64.b64encode(value).decode(),
                  "certificate": base64.b64encode(card.cert_der).decode()}  # fmt: skip
        return httpx.Response(200, json=answer)

    async with httpx.AsyncClient(transport=httpx.MockTransport(agent)) as http:
        root = _unsigned_603()
        xml = etree.tostring(await sign_message(root, AgentSigner("http://agent/sign", http)))
    assert seen[0]["algorithm"] == SM2_METHOD
    assert verify(xml) == "sm2"
    # no key_name from the agent: the certificate's number, never a fixed "0001"
    assert _key_info(xml)[0] == serial_hex(card.cert_der)


def test_sm2_values_are_normalised_to_r_and_s_and_anything_else_is_refused():
    r, s = 0x00FF << 240, 0x7F << 248  # r's DER needs a sign byte; s does not
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert sm2_signature_value(raw) == raw
    assert sm2_signature_value(_seq(_int(r), _int(s))) == raw
    small = _seq(_int(5), _int(7))  # short integers are padded to 32 bytes each
    assert sm2_signature_value(small) == (5).to_bytes(32, "big") + (7).to_bytes(32, "big")
    for bad in (b"", b"\x30\x03\x02\x01", raw[:63], _seq(_int(r), _int(s)) + b"\x00", _seq(_int(0), _int(s)),
                bytes(64), b"\x31" + _seq(_int(r), _int(s))[1:]):  # fmt: skip
        with pytest.raises(SigningError):
            sm2_signature_value(bad)


async def test_the_key_files_sign_with_the_certificate_number_or_the_name_a_setting_gives(tmp_path: Path):
    key, cert = sm2_files(tmp_path)
    number = serial_hex(base64.b64decode("".join(cert.read_text().splitlines()[1:-1])))
    root = _unsigned_603()
    xml = etree.tostring(await sign_message(root, FileSigner.from_files(key, cert)))
    assert verify(xml) == "sm2" and _key_info(xml)[0] == number
    settings = ComplianceSettings(signing_key=key, signing_cert=cert, signing_key_name="0001", data_dir=tmp_path)
    signer = CustomsContext.build(settings, None).signer
    assert signer is not None
    root = _unsigned_603()
    assert _key_info(etree.tostring(await sign_message(root, signer)))[0] == "0001"
