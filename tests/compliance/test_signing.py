"""Signed messages are signed once: what is fetched (or written to the e-port) is always the same bytes, even when
two requests build a message at the same moment; a signature over altered content does not verify."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from gmssl import sm3
from lxml import etree

from services.compliance.customs import signing
from tests.compliance.signers import sm2_files, verify
from tests.compliance.support import new_order_no
from tests.compliance.test_export_flow import Exporter, export_order, export_waybill, receipt_of_payment


async def test_two_requests_building_one_message_at_once_get_the_same_signed_bytes(compliance, tenant, sm2_signer):
    seller = await Exporter(compliance, tenant).setup()
    order_no = new_order_no()
    view = await seller.deliver(export_order(order_no), receipt_of_payment(order_no), export_waybill(order_no))
    path = f"/v1/compliance/declarations/{view['declaration_id']}/xml"
    first, second = await asyncio.gather(*(compliance.get(path, headers=tenant.auth()) for _ in range(2)))
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    # SM2 signatures are randomised: equal bytes mean one signature was made and kept
    assert first.content == second.content
    assert (await compliance.get(path, headers=tenant.auth())).content == first.content
    assert verify(first.content) == "sm2"
    altered = first.content.replace(b"<ceb:orderNo>", b"<ceb:orderNo>X", 1)
    with pytest.raises(AssertionError, match="digest"):
        verify(altered)


@pytest.mark.parametrize("backend", ["c", "pure python"])
async def test_sm2_signs_in_c_and_falls_back_to_pure_python_each_verifying_independently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """Tongsuo (C) signs and digests when it loads; gmssl (pure Python) only where it cannot. Either way the
    message verifies with gmssl's own SM2 and SM3 (tests/compliance/signers.py), an implementation other than the
    one that signed in the C case."""
    if backend == "pure python":
        monkeypatch.setattr(signing, "sm_ec", None)
        monkeypatch.setattr(signing, "sm_hashes", None)
    key, cert = sm2_files(tmp_path)
    signer = signing.FileSigner.from_files(key, cert)
    assert (signer._sm2_c is not None) is (backend == "c")
    message = b'<ceb:CEB603Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" guid="G" version="1.0">'
    root = etree.fromstring(message + b"<ceb:Inventory><ceb:copNo>X1</ceb:copNo></ceb:Inventory></ceb:CEB603Message>")
    signed = await signing.sign_message(root, signer)
    assert verify(etree.tostring(signed)) == "sm2"
    data = b"the same bytes, hashed by either implementation" * 50
    assert signing.digest("sm2", data).hex() == sm3.sm3_hash(list(data))
