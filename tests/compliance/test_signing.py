"""Signed messages are signed once: what is fetched (or written to the e-port) is always the same bytes, even when
two requests build a message at the same moment; a signature over altered content does not verify."""

from __future__ import annotations

import asyncio

import pytest

from tests.compliance.signers import verify
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
