"""Company A's export flow end to end: a US buyer's USD order from signed senders, declared with CEB303, CEB403 and
CEB603 exactly as the spec's fields say, signed (RSA and SM2), answered by customs through to closed, and the
released revenue on its campaign in USD."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from lxml import etree
from sqlalchemy import select

from services.compliance.context import compliance_context
from services.compliance.customs.context import CustomsContext
from services.compliance.customs.signing import FileSigner, sign_message
from services.compliance.events import EVENTS
from services.compliance.settings import ComplianceSettings
from shared.context import context_of
from shared.events.outbox import derive_webhook_secret, envelope
from shared.events.relay import signed_headers
from tests.compliance.signers import rsa_files, sm2_files, verify
from tests.compliance.support import (
    CUSTOMS,
    EBP,
    ITEM,
    LOGISTICS,
    Seller,
    inventory_receipt,
    new_order_no,
    profile_of,
    schema,
    valid_unsigned,
)
from tests.security.support import campaigns_world
from tests.support import SERVICE_SECRET, assert_problem

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
    if mode == "9810":
        order["overseas_warehouse"] = "Company A Los Angeles warehouse"
    return order


def receipt_of_payment(order_no: str, currency: str = "USD") -> dict[str, Any]:
    return {
        "pay_code": CARD, "pay_transaction_id": "ch_" + order_no, "pay_name": "A Card Acquirer Ltd",
        "order_no": order_no, "ebp_code": EBP,
        "payer": {"name": "Jane Roe"}, "amount_paid": "2019.00", "currency": currency,
        "paid_at": "2026-11-11T03:00:00+00:00",
    }  # fmt: skip


async def within_the_list_limit(
    compliance: Any, tenant: Any, order: dict[str, Any], pay: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A B2B (9710/9810) order the inventory list may declare: USD 600, within ¥5,000 at the day's rate (above
    it, a customs declaration: tests/compliance/test_customs_declaration_route.py)."""
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    rate = {"rate": "7.1307", "source": "PBOC central parity"}
    r = await compliance.put(f"/v1/compliance/exchange-rates/USD/{day}", json=rate, headers=tenant.auth())
    assert r.status_code in (200, 201), r.text
    order = order | {"goods_value": "600.00", "actual_paid": "720.00",
                     "items": [{**order["items"][0], "price": "600.00", "total": "600.00"}]}  # fmt: skip
    return order, {**pay, "amount_paid": "720.00"}


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
    monkeypatch.setattr(compliance_context(compliance_app).customs, "signer", FileSigner.from_files(key, cert))
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
    async with context_of(compliance_app).sessionmaker() as session:
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


@pytest.mark.parametrize(("mode", "order_type"), [("9710", "B"), ("9810", "W"), ("1210", "E")])
async def test_the_trade_mode_names_the_order_type_and_the_list_mode(compliance, tenant, mode, order_type):
    seller = await Exporter(compliance, tenant).setup()
    if mode == "1210":  # a special-area export names the area's warehouse enterprise, its account book, each record
        special = profile_of(tenant, iac_code="4604W60002", iac_name="Haikou Bonded Logistics Ltd",
                             ems_no="T4604W000002")  # fmt: skip
        admin = tenant.auth()
        assert (await compliance.put("/v1/compliance/customs-profile", json=special, headers=admin)).status_code == 200
        record = {**ITEM, "item_record_no": "RN-SCARF-0001"}
        assert (await compliance.put("/v1/compliance/items/SCARF-1", json=record, headers=admin)).status_code == 200
    order_no = new_order_no()
    order, pay = await within_the_list_limit(compliance, tenant, export_order(order_no, mode=mode),
                                             receipt_of_payment(order_no))  # fmt: skip
    view = await seller.deliver(order, pay, export_waybill(order_no))
    assert view["state"] == "declared", view["checks"]
    order_message = await seller.xml(view["declaration_id"], "order-xml")
    ok, errors = valid_unsigned(order_message, "export")
    assert ok, errors
    assert order_message.findtext(".//ceb:orderType", namespaces=NS) == order_type
    inventory = await seller.xml(view["declaration_id"])
    assert inventory.findtext(".//ceb:tradeMode", namespaces=NS) == mode


async def test_the_profile_takes_the_export_modes_and_the_statistics_flag(compliance, tenant):
    from tests.compliance.support import profile

    PROFILE = profile(tenant)
    for mode in ("9710", "9810"):
        body = {**PROFILE, "trade_mode": mode, "statistics_flag": "B"}
        r = await compliance.put("/v1/compliance/customs-profile", json=body, headers=tenant.auth())
        assert r.status_code in (200, 201), r.text
        assert (r.json()["trade_mode"], r.json()["statistics_flag"]) == (mode, "B")
    bad = {**PROFILE, "trade_mode": "0110"}
    assert_problem(await compliance.put("/v1/compliance/customs-profile", json=bad, headers=tenant.auth()), 422)


async def test_unsigned_declarations_say_so_and_carry_no_empty_signature(compliance, tenant):
    seller = await Exporter(compliance, tenant).setup()
    order_no = new_order_no()
    view = await seller.deliver(export_order(order_no), receipt_of_payment(order_no), export_waybill(order_no))
    inventory = await seller.xml(view["declaration_id"])
    assert b"Signature" not in seller.last_xml
    ok, errors = valid_unsigned(inventory, "export")
    assert ok, errors
    messages = {m["message_type"]: m for m in (await seller.order(order_no))["messages"]}
    assert (messages["CEB603"]["signed"], messages["CEB603"]["validated"]) == (False, True)
    assert messages["CEB303"]["status"] == "pending"  # built when first fetched or written to the outbox


async def test_what_customs_cannot_take_is_a_422_never_a_default_nor_a_cut(compliance, tenant):
    seller = await Exporter(compliance, tenant).setup()
    integration = tenant.auth("integration")
    order_no = new_order_no()
    too_long = export_waybill(order_no, "1Z" + "9" * 31)  # 33 characters
    r = await compliance.post("/v1/compliance/waybills", json=too_long, headers=integration)
    assert "logistics_no" in assert_problem(r, 422)["detail"]
    unknown_currency = export_order(order_no, currency="XAU")
    assert_problem(await compliance.post("/v1/compliance/orders", json=unknown_currency, headers=integration), 422)
    unknown_country = export_order(order_no, country="ZZ")
    assert_problem(await compliance.post("/v1/compliance/orders", json=unknown_country, headers=integration), 422)
    an_import_in_an_export_mode = {**export_order(order_no, mode="9710"), "trade_direction": "import"}
    r = await compliance.post("/v1/compliance/orders", json=an_import_in_an_export_mode, headers=integration)
    assert_problem(r, 422)
    # a waybill without its port of destination: the comparison names it, nothing is declared
    view = await seller.deliver(
        export_order(order_no), receipt_of_payment(order_no), {**export_waybill(order_no), "pod": None}
    )
    assert view["state"] == "mismatch"
    assert [c["rule"] for c in view["checks"] if not c["passed"]] == ["pod"]


async def test_a_month_of_statistics_flag_b_lists_is_summarised_in_a_valid_ceb701(compliance, tenant):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    seller = await Exporter(compliance, tenant).setup()
    invt_nos = []
    for _ in range(2):
        order_no = new_order_no()
        view = await seller.deliver(
            export_order(order_no, flag="B"), receipt_of_payment(order_no), export_waybill(order_no)
        )
        inventory = await seller.xml(view["declaration_id"])
        assert inventory.findtext(".//ceb:statisticsFlag", namespaces=NS) == "B"
        cop_no = inventory.findtext(".//ceb:copNo", namespaces=NS)
        invt_nos.append("E" + uuid.uuid4().hex[:17].upper())
        await seller.receipt(inventory_receipt(cop_no, 120, export=True, invt_no=invt_nos[-1], order_no=order_no))
        # only lists customs released are summarised (tests/compliance/test_export_summaries.py)
        await seller.receipt(inventory_receipt(cop_no, 800, "20260101130000000", export=True, invt_no=invt_nos[-1],
                                               order_no=order_no))  # fmt: skip
    month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    r = await compliance.post("/v1/compliance/summaries", json={"month": month}, headers=tenant.auth())
    assert r.status_code == 201, r.text
    assert r.json()["inventories"] == 2 and r.json()["validated"] is True
    xml = await compliance.get(r.headers["location"], headers=tenant.auth())
    summary = etree.fromstring(xml.content)
    assert summary.tag == f"{{{CEB}}}CEB701Message"
    ok, errors = valid_unsigned(summary, "export")
    assert ok, errors
    assert [n.text for n in summary.iterfind(".//ceb:SummaryApplyList/ceb:invtNo", NS)] == invt_nos
    empty = await compliance.post("/v1/compliance/summaries", json={"month": "2019-01"}, headers=tenant.auth())
    assert_problem(empty, 409)


def test_the_signer_comes_from_the_key_files_or_the_agent(tmp_path: Path):
    key, cert = sm2_files(tmp_path)
    ctx = CustomsContext.build(ComplianceSettings(signing_key=key, signing_cert=cert, data_dir=tmp_path), None)
    assert ctx.signer is not None and ctx.signer.algorithm == "sm2"
    key, cert = rsa_files(tmp_path)
    ctx = CustomsContext.build(ComplianceSettings(signing_key=key, signing_cert=cert, data_dir=tmp_path), None)
    assert ctx.signer is not None and ctx.signer.algorithm == "rsa"
    assert CustomsContext.build(ComplianceSettings(data_dir=tmp_path), None).signer is None
    with pytest.raises(ValueError, match="go together"):
        ComplianceSettings(signing_key=key, data_dir=tmp_path)


@pytest.mark.parametrize("x_prefix", ["04", "40"])
async def test_an_sm2_key_whose_public_x_begins_with_04_signs_a_valid_message(tmp_path: Path, x_prefix: str):
    """One SM2 key in 256 has a public X beginning "04"; such keys once produced no signature at all."""
    key, cert = sm2_files(tmp_path, x_prefix)
    root = etree.fromstring(b'<ceb:CEB303Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" guid="g"/>')
    signed = await sign_message(root, FileSigner.from_files(key, cert))
    assert verify(etree.tostring(signed)) == "sm2"


async def test_an_external_signing_agent_signs_what_xbm_canonicalised(tmp_path: Path):
    import base64
    import json

    import httpx
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    from services.compliance.customs.signing import AgentSigner, sign_message

    key_path, cert_path = rsa_files(tmp_path)
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    cert_der = _pem_body(cert_path.read_bytes())
    seen: list[dict[str, Any]] = []

    def agent(request: httpx.Request) -> httpx.Response:  # the card's signing service
        body = json.loads(request.content)
        seen.append(body)
        data = base64.b64decode(body["data"])
        value = key.sign(data, padding.PKCS1v15(), hashes.SHA1())  # type: ignore[union-attr,call-arg]
        signed = {"signature_value": base64.b64encode(value).decode(), "key_name": "card-1"}
        return httpx.Response(200, json={**signed, "certificate": base64.b64encode(cert_der).decode()})

    async with httpx.AsyncClient(transport=httpx.MockTransport(agent)) as http:
        signer = AgentSigner("http://agent.local/sign", http, "rsa")
        root = etree.fromstring((CUSTOMS / "samples" / "export" / "CEB604Message.xml").read_bytes())
        signed = await sign_message(root, signer)
    assert seen[0]["algorithm"] == "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    assert verify(etree.tostring(signed)) == "rsa"


def _pem_body(pem: bytes) -> bytes:
    import base64

    return base64.b64decode("".join(line for line in pem.decode().splitlines() if not line.startswith("-----")))


def test_the_customs_code_tables_hold_the_codes_the_rules_list():
    from services.compliance.customs.codes import countries, currencies

    assert {k: currencies()[k] for k in ("CNY", "USD", "EUR", "GBP", "HKD", "JPY", "CAD", "AUD")} == {
        "CNY": "142", "USD": "502", "EUR": "300", "GBP": "303", "HKD": "110", "JPY": "116", "CAD": "501", "AUD": "601"
    }  # fmt: skip
    assert {k: countries()[k] for k in ("US", "GB", "DE", "FR", "JP", "CA", "AU", "HK")} == {
        "US": "502", "GB": "303", "DE": "304", "FR": "305", "JP": "116", "CA": "501", "AU": "601", "HK": "110"
    }  # fmt: skip


async def test_lists_that_left_on_one_master_bill_are_linked_by_a_valid_signed_ceb607(
    compliance, tenant, other_tenant, signer
):  # type: ignore[no-untyped-def]
    seller = await Exporter(compliance, tenant).setup()
    declarations, numbers = [], []
    for _ in range(2):
        order_no = new_order_no()
        view = await seller.deliver(export_order(order_no), receipt_of_payment(order_no), export_waybill(order_no))
        cop_no = (await seller.xml(view["declaration_id"])).findtext(".//ceb:copNo", namespaces=NS)
        numbers.append("E" + uuid.uuid4().hex[:17].upper())
        await seller.receipt(inventory_receipt(cop_no, 120, export=True, invt_no=numbers[-1], order_no=order_no))
        declarations.append(view["declaration_id"])
    body = {"logistics_code": LOGISTICS, "bill_no": "999-12345675", "traf_name": "Air China CA983",
            "voyage_no": "CA983", "declaration_ids": declarations}  # fmt: skip
    r = await compliance.post("/v1/compliance/master-bills", json=body, headers=tenant.auth("integration"))
    assert r.status_code == 201, r.text
    xml = await compliance.get(r.headers["location"], headers=tenant.auth())
    doc = etree.fromstring(xml.content)
    assert schema("export").validate(doc), schema("export").error_log
    assert verify(xml.content) == signer
    assert [n.text for n in doc.iterfind(".//ceb:WayBillList/ceb:invtNo", NS)] == numbers
    assert doc.findtext(".//ceb:billNo", namespaces=NS) == "999-12345675"
    # another organisation cannot name these lists
    r = await compliance.post("/v1/compliance/master-bills", json=body, headers=other_tenant.auth())
    assert_problem(r, 422)
