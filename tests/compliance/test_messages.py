"""Customs XML in: the official samples, receipts moving orders forward only, hostile XML refused."""

from __future__ import annotations

import pytest
from lxml import etree

from shared.context import context_of
from tests.compliance.support import CUSTOMS, EBP, Seller, buyer_id, inventory_receipt, new_order_no, schema
from tests.support import assert_problem

CEB = "http://www.chinaport.gov.cn/ceb"
DECLARATIONS_AND_RECEIPTS = sorted(p.name for p in (CUSTOMS / "samples" / "import").glob("CEB*.xml"))


def xml_headers(tenant, role: str = "integration") -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {**tenant.auth(role), "Content-Type": "application/xml"}


@pytest.mark.parametrize("name", DECLARATIONS_AND_RECEIPTS)
async def test_every_official_import_sample_is_accepted(compliance, tenant, name):
    body = (CUSTOMS / "samples" / "import" / name).read_bytes()
    r = await compliance.post("/v1/compliance/messages", content=body, headers=xml_headers(tenant))
    assert r.status_code == 200, r.text
    assert r.json()["message_type"] == name.removesuffix(".xml")


async def test_sample_documents_are_stored_once_and_matched(compliance, tenant):
    for name in ("CEB311Message.xml", "CEB411Message.xml", "CEB511Message.xml"):
        body = (CUSTOMS / "samples" / "import" / name).read_bytes()
        r = await compliance.post("/v1/compliance/messages", content=body, headers=xml_headers(tenant))
        assert r.status_code == 200, r.text
    result = r.json()
    assert result["documents"] >= 1
    r = await compliance.get("/v1/compliance/orders/1105910159/order20160321116421002", headers=tenant.auth())
    assert r.status_code == 200
    view = r.json()
    # the sample order's repeated copies are one order; its buyer's ID number is masked
    assert view["documents"]["order"]["buyer"]["id_number"] == "1306**********3332"
    assert view["documents"]["order"]["currency"] == "CNY"


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ceb:CEB622Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" guid="X" version="1.0">&xxe;</ceb:CEB622Message>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<ceb:CEB622Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" guid="X" version="1.0">&lol3;</ceb:CEB622Message>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd"><x/>"""


@pytest.mark.parametrize("payload", [XXE, LAUGHS, EXTERNAL_DTD, b"<not xml", b"\xff\xfe garbage"])
async def test_hostile_or_malformed_xml_is_a_4xx(compliance, tenant, payload):
    r = await compliance.post("/v1/compliance/messages", content=payload, headers=xml_headers(tenant))
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_messages_need_xml_an_ingesting_role_and_a_bounded_body(compliance, tenant):
    body = (CUSTOMS / "samples" / "import" / "CEB622Message.xml").read_bytes()
    text = {**tenant.auth("integration"), "Content-Type": "text/plain"}
    assert_problem(await compliance.post("/v1/compliance/messages", content=body, headers=text), 415)
    assert_problem(
        await compliance.post("/v1/compliance/messages", content=body, headers=xml_headers(tenant, "analyst")), 403
    )
    big = b"<a>" + b"x" * 1_100_000 + b"</a>"
    assert_problem(await compliance.post("/v1/compliance/messages", content=big, headers=xml_headers(tenant)), 413)

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"x" * 100_000

    r = await compliance.post("/v1/compliance/messages", content=chunks(), headers=xml_headers(tenant))
    assert_problem(r, 413)
    seller = await Seller(compliance, tenant).setup()
    r = await compliance.post(seller.sources["pay"]["webhook_path"], content=b"{" + b" " * 1_100_000 + b"}")
    assert_problem(r, 413)


def receipt_622(cop_no: str, status: int, time: str = "20260101120000000") -> bytes:
    return inventory_receipt(cop_no, status, time)


async def declared_order(compliance, tenant, n: int = 30) -> tuple[Seller, str, str]:  # type: ignore[no-untyped-def]
    seller = await Seller(compliance, tenant).setup()
    order_no = new_order_no()
    view = await seller.deliver_all(order_no, buyer=buyer_id(n))
    assert view["state"] == "declared"
    xml = await compliance.get(f"/v1/compliance/declarations/{view['declaration_id']}/xml", headers=tenant.auth())
    cop_no = etree.fromstring(xml.content).findtext(f".//{{{CEB}}}copNo")
    return seller, order_no, cop_no


async def send(compliance, tenant, body: bytes) -> dict:  # type: ignore[no-untyped-def]
    r = await compliance.post("/v1/compliance/messages", content=body, headers=xml_headers(tenant))
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_refused_declaration_is_rejected(compliance, tenant):
    seller, order_no, cop_no = await declared_order(compliance, tenant, 31)
    await send(compliance, tenant, receipt_622(cop_no, 100))
    assert (await seller.order(order_no))["state"] == "rejected"


async def test_declaration_xml_is_for_admin_and_integration_only(compliance, tenant, other_tenant):
    seller, order_no, _ = await declared_order(compliance, tenant, 32)
    view = await seller.order(order_no)
    path = f"/v1/compliance/declarations/{view['declaration_id']}/xml"
    for role in ("analyst", "executive", "specialist", "supervisor"):
        assert_problem(await compliance.get(path, headers=tenant.auth(role)), 403)
    assert_problem(await compliance.get(path, headers=other_tenant.auth()), 404)
    assert_problem(await compliance.get(f"/v1/compliance/orders/{EBP}/{order_no}", headers=other_tenant.auth()), 404)
    order_xml = await compliance.get(path.replace("/xml", "/order-xml"), headers=tenant.auth("integration"))
    assert order_xml.status_code == 200
    validator = schema("import")
    assert validator.validate(etree.fromstring(order_xml.content)), validator.error_log


async def test_with_no_setting_every_message_an_order_lists_is_validated_against_the_bundled_xsd(
    compliance, compliance_app, tenant
):
    # the suite's compliance app runs with the default settings: no XSD folder configured
    ctx = context_of(compliance_app)
    assert ctx.settings.xsd_dir is None  # type: ignore[attr-defined]
    seller = await Seller(compliance, tenant).setup()
    order_no = new_order_no()
    view = await seller.deliver_all(order_no, buyer=buyer_id(7))
    assert view["state"] == "declared", view
    # each message is built (validated, stored) the first time it is read
    for which in ("order-xml", "xml"):
        r = await compliance.get(f"/v1/compliance/declarations/{view['declaration_id']}/{which}", headers=tenant.auth())
        assert r.status_code == 200, r.text
    messages = (await seller.order(order_no))["messages"]
    assert {m["message_type"] for m in messages} == {"CEB311", "CEB621"}
    assert all(m["validated"] is True for m in messages), messages
