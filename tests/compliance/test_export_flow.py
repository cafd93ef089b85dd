"""Company A's export flow end to end: a US buyer's USD order from signed senders, declared with CEB303, CEB403 and
CEB603 exactly as the spec's fields say, signed (RSA and SM2), answered by customs through to closed, and the
released revenue on its campaign in USD."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select

from services.compliance.customs.signing import FileSigner
from services.compliance.events import EVENTS
from shared.events import derive_webhook_secret, envelope
from shared.relay import signed_headers
from tests.compliance.signers import rsa_files, sm2_files, verify
from tests.compliance.support import (
    EBP,
    LOGISTICS,
    Seller,
    inventory_receipt,
    new_order_no,
    schema,
)
from tests.security.world import campaigns_world
from tests.support import SERVICE_SECRET

CEB = "http://www.chinaport.gov.cn/ceb"
NS = {"ceb": CEB}
CARD = "CARD000001"  # the card acquirer that collected the payment: no PBOC licence is asked of it on export


def export_order(order_no: str, *, mode: str = "9610", currency: str = "USD", utm: str | None = None,
                 country: str = "US", flag: str | None = None) -> dict[str, Any]:  # fmt: skip
    consignee = {
        "name": "Jane Roe",
        "telephone": "+1 555 0100",
        "address": "1 Main St, Springfield IL",
        "country": country,
    }
    order = {
        "order_no": order_no, "ebp_code": EBP, "ebc_code": EBP, "trade_direction": "export", "trade_mode": mode,
        "goods_value": "1899.00", "freight": "120.00", "discount": "0", "tax_total": "0", "actual_paid": "2019.00",
        "currency": currency, "destination_country": country, "utm_campaign": utm,
        "buyer": {"name": "Jane Roe", "telephone": "+1 555 0100", "country": country}, "consignee": consignee,
        "items": [{"gnum": 1, "item_no": "SCARF-1", "name": "Golf simulator launch monitor", "qty": "1",
                   "price": "1899.00", "total": "1899.00"}],
    }  # fmt: skip
    if flag:
        order["statistics_flag"] = flag
    return order


def receipt_of_payment(order_no: str, currency: str = "USD") -> dict[str, Any]:
    return {
        "pay_code": CARD, "pay_transaction_id": "ch_" + order_no, "order_no": order_no, "ebp_code": EBP,
        "payer": {"name": "Jane Roe"}, "amount_paid": "2019.00", "currency": currency,
        "paid_at": "2026-11-11T03:00:00+00:00",
    }  # fmt: skip


def export_waybill(order_no: str, number: str | None = None, pod: str = "002") -> dict[str, Any]:
    consignee = {"name": "Jane Roe", "telephone": "+1 555 0100", "address": "1 Main St,  Springfield IL"}
    return {
        "logistics_code": LOGISTICS, "logistics_name": "XBM Express", "logistics_no": number or "1Z" + order_no,
        "order_no": order_no, "freight": "120.00", "insured_fee": "5.00", "weight_kg": "18.5",
        "consignee": consignee, "destination_country": "US", "pod": pod,
    }  # fmt: skip


class Exporter(Seller):
    """The seller with a standard_webhooks platform (its independent site) and a card acquirer's receipts."""

    async def setup(self, profile: bool = True) -> Exporter:
        await super().setup(profile)
        site = {"name": "Site", "kind": "standard_webhooks", "role": "platform", "ebp_code": EBP, "ebp_name": "A Golf"}
        r = await self.client.post("/v1/compliance/sources", json=site, headers=self.tenant.auth())
        assert r.status_code == 201, r.text
        self.sources["site"] = r.json()
        return self

    async def deliver(self, order: dict[str, Any], pay: dict[str, Any], ship: dict[str, Any]) -> dict[str, Any]:
        for key, kind, data in (("site", "order", order), ("pay", "payment", pay), ("ship", "waybill", ship)):
            r = await self.send_swh(key, kind, data)
            assert r.status_code in (200, 201), r.text
        return await self.order(order["order_no"])

    async def xml(self, declaration_id: str, which: str = "xml") -> etree._Element:
        r = await self.client.get(f"/v1/compliance/declarations/{declaration_id}/{which}", headers=self.tenant.auth())
        assert r.status_code == 200, r.text
        self.last_xml = r.content
        return etree.fromstring(r.content)

    async def receipt(self, body: bytes) -> dict[str, Any]:
        headers = {**self.tenant.auth("integration"), "Content-Type": "application/xml"}
        r = await self.client.post("/v1/compliance/messages", content=body, headers=headers)
        assert r.status_code == 200, r.text
        return r.json()


def order_receipt(order_no: str, status: int, time: str) -> bytes:
    return (f'<CEB304Message xmlns="{CEB}" guid="{str(uuid.uuid4()).upper()}" version="1.0"><OrderReturn>'
            f"<guid>{str(uuid.uuid4()).upper()}</guid><ebpCode>{EBP}</ebpCode><ebcCode>{EBP}</ebcCode>"
            f"<orderNo>{order_no}</orderNo><returnStatus>{status}</returnStatus><returnTime>{time}</returnTime>"
            f"<returnInfo>ok</returnInfo></OrderReturn></CEB304Message>").encode()  # fmt: skip


@pytest.fixture(params=["rsa", "sm2"])
def signer(request, compliance_app, tmp_path: Path, monkeypatch):  # type: ignore[no-untyped-def]
    key, cert = (rsa_files if request.param == "rsa" else sm2_files)(tmp_path)
    monkeypatch.setattr(compliance_app.state.customs, "signer", FileSigner.from_files(key, cert))
    return request.param


async def test_a_us_buyers_usd_order_is_declared_signed_and_closed_with_its_revenue_in_usd(
    compliance, compliance_app, campaigns, clients, apps, tenant, signer
):  # type: ignore[no-untyped-def]
    seller = await Exporter(compliance, tenant).setup()
    order_no = new_order_no()
    number = ("1Z" + order_no + "0" * 32)[:32]  # 32 characters: the most the export list takes, sent uncut
    view = await seller.deliver(
        export_order(order_no, utm="golf-usd"), receipt_of_payment(order_no), export_waybill(order_no, number)
    )
    assert view["state"] == "declared", view["checks"]
    rules = {c["rule"] for c in view["checks"]}
    assert all(c["passed"] for c in view["checks"])
    assert not rules & {"payer_identity", "payment_institution", "single_limit", "annual_limit", "tax"}
    assert view["quota"] is None and view["documents"]["order"]["buyer"]["id_number"] is None
    export = schema("export")

    inventory = await seller.xml(view["declaration_id"])
    assert export.validate(inventory), export.error_log
    assert verify(seller.last_xml) == signer
    head = inventory.find(".//ceb:InventoryHead", NS)
    assert head is not None
    assert {f: head.findtext(f"ceb:{f}", namespaces=NS) for f in ("fCurrency", "iCurrency", "country", "POD")} == {
        "fCurrency": "502", "iCurrency": "502", "country": "502", "POD": "002"
    }  # fmt: skip
    assert head.findtext("ceb:logisticsNo", namespaces=NS) == number
    assert head.findtext("ceb:tradeMode", namespaces=NS) == "9610"
    assert head.findtext("ceb:statisticsFlag", namespaces=NS) == "A"
    line = inventory.find(".//ceb:InventoryList", NS)
    assert line is not None
    assert [line.findtext(f"ceb:{f}", namespaces=NS) for f in ("barCode", "country", "currency", "totalPrice")] == [
        "无", "502", "502", "1899"
    ]  # fmt: skip

    order_message = await seller.xml(view["declaration_id"], "order-xml")
    assert export.validate(order_message), export.error_log
    assert verify(seller.last_xml) == signer
    assert order_message.findtext(".//ceb:orderType", namespaces=NS) == "E"
    assert {n.text for n in order_message.iterfind(".//ceb:currency", NS)} == {"502"}
    receipts_message = await seller.xml(view["declaration_id"], "payment-xml")
    assert export.validate(receipts_message), export.error_log
    assert receipts_message.findtext(".//ceb:charge", namespaces=NS) == "2019"
    assert receipts_message.findtext(".//ceb:currency", namespaces=NS) == "502"

    view = await seller.order(order_no)
    sent = {m["message_type"]: m for m in view["messages"]}
    assert set(sent) == {"CEB303", "CEB403", "CEB603"}
    assert all(m["signed"] and m["validated"] and m["status"] == "queued" for m in sent.values())

    cop_no = head.findtext("ceb:copNo", namespaces=NS)
    assert cop_no
    await seller.receipt(order_receipt(order_no, 120, "20261111100000000"))
    assert (await seller.order(order_no))["state"] == "declared"  # the order accepted; the list not yet
    steps = [(120, "accepted"), (399, "cleared"), (800, "released"), (899, "closed")]
    for i, (status, state) in enumerate(steps):
        body = inventory_receipt(cop_no, status, f"2026111110{i + 1:02d}00000", export=True, order_no=order_no)
        assert (await seller.receipt(body))["applied"] == 1
        assert (await seller.order(order_no))["state"] == state
    view = await seller.order(order_no)
    acknowledged = {m["message_type"] for m in view["messages"] if m["status"] == "acknowledged"}
    assert acknowledged == {"CEB303", "CEB603"}

    # order.released carries the USD amount; campaigns attributes it to the campaign its utm_campaign names
    E = EVENTS.OutboxEvent
    async with compliance_app.state.sessionmaker() as session:
        rows = (await session.execute(select(E).where(E.org_id == tenant.org_id, E.type == "order.released"))).scalars()
        event = next(e for e in rows if e.payload["order_no"] == order_no)
    assert (event.payload["amount"], event.payload["currency"]) == ("2019.00", "USD")
    world = await campaigns_world(clients, apps, tenant)
    body = {**world.bodies[("POST", "/v1/campaigns")], "utm_campaign": "golf-usd", "name": "Golf USD " + signer}
    created = await campaigns.post("/v1/campaigns", json=body, headers=tenant.auth("specialist"))
    assert created.status_code == 201, created.text
    payload = envelope(event)
    secret = derive_webhook_secret(SERVICE_SECRET, "compliance->campaigns")
    r = await campaigns.post(
        "/internal/events/compliance", content=payload, headers=signed_headers(secret, event.id, payload)
    )
    assert r.json() == {"status": "attributed"}, r.text
    performance = await campaigns.get(f"/v1/campaigns/{created.json()['id']}/performance", headers=tenant.auth())
    totals = performance.json()["totals"]
    assert totals["attributed_orders"] == 1
    assert totals["attributed_revenue"] == {"amount": "2019.00", "currency": "USD"}
