"""Every exception has a way back, end to end through HTTP: a mismatch for want of an item record is declared once
the record is added, with nothing sent again; a corrected Shopify version after a mismatch is declared; a list
customs refused (CEB604 / CEB622 ``100``) shows customs' reason, is corrected, declared again under its copNo as
a change (appType 2) and goes on to ``closed`` with both declarations in the order's history; ``/exceptions``
names each cause and the action that resolves it."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from lxml import etree
from sqlalchemy import func, select

from services.compliance.deliveries import PlatformDelivery
from services.compliance.events import EVENTS
from services.compliance.items.models import ItemRecord
from shared.context import context_of
from tests.compliance.platforms import deliver_shopify, shopify, with_buyer
from tests.compliance.support import (
    EBP,
    ITEM,
    Seller,
    buyer_id,
    canonical_order,
    new_order_no,
    payment,
    shopify_order,
    valid_unsigned,
    waybill,
)
from tests.compliance.test_export_flow import (
    NS,
    Exporter,
    export_order,
    export_waybill,
    order_receipt,
    receipt_of_payment,
)
from tests.support import assert_problem

CEB = "http://www.chinaport.gov.cn/ceb"


async def exceptions(seller: Seller) -> dict[str, dict[str, Any]]:
    r = await seller.client.get("/v1/compliance/exceptions?limit=200", headers=seller.tenant.auth("analyst"))
    assert r.status_code == 200, r.text
    return {e["order_no"]: e for e in r.json()["items"]}


async def xml(seller: Seller, declaration_id: str, which: str = "xml") -> etree._Element:
    r = await seller.client.get(f"/v1/compliance/declarations/{declaration_id}/{which}", headers=seller.tenant.auth())
    assert r.status_code == 200, r.text
    return etree.fromstring(r.content)


def head(doc: etree._Element, field: str) -> str | None:
    return doc.findtext(f".//ceb:{field}", namespaces=NS)


async def send_receipt(seller: Seller, body: bytes) -> dict[str, Any]:
    headers = {**seller.tenant.auth("integration"), "Content-Type": "application/xml"}
    r = await seller.client.post("/v1/compliance/messages", content=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def list_receipt(cop_no: str, status: int, time: str, info: str, *, export: bool, order_no: str,
                 invt_no: str | None = None) -> bytes:  # fmt: skip
    """CEB604 (export) or CEB622 (import) as customs sends it, with its reason in returnInfo."""
    numbers = f"<preNo>E2026111100000000{1 if export else 2}</preNo>" + (
        f"<invtNo>{invt_no}</invtNo>" if invt_no else ""
    )
    guid = str(uuid.uuid4()).upper()
    if export:
        name = "CEB604Message"
        body = (f"<guid>{guid}</guid><agentCode>1105980159</agentCode><copNo>{cop_no}</copNo>{numbers}"
                f"<ebcCode>{EBP}</ebcCode><ebpCode>{EBP}</ebpCode><orderNo>{order_no}</orderNo>"
                f"<statisticsFlag>A</statisticsFlag>")  # fmt: skip
    else:
        name = "CEB622Message"
        body = (f"<guid>{guid}</guid><customsCode>4604</customsCode><ebpCode>{EBP}</ebpCode><ebcCode>{EBP}</ebcCode>"
                f"<agentCode>1105980159</agentCode><copNo>{cop_no}</copNo>{numbers}")  # fmt: skip
    return (f'<?xml version="1.0" encoding="UTF-8"?><{name} xmlns="{CEB}" guid="{guid}" version="1.0">'
            f"<InventoryReturn>{body}<returnStatus>{status}</returnStatus><returnTime>{time}</returnTime>"
            f"<returnInfo>{info}</returnInfo></InventoryReturn></{name}>").encode()  # fmt: skip


async def delivery_count(app, org_id: str) -> int:  # type: ignore[no-untyped-def]
    async with context_of(app).sessionmaker() as session:
        stmt = select(func.count()).select_from(PlatformDelivery).where(PlatformDelivery.org_id == org_id)
        return int(await session.scalar(stmt) or 0)


async def mismatch_events(app, org_id: str, order_no: str) -> int:  # type: ignore[no-untyped-def]
    E = EVENTS.OutboxEvent
    async with context_of(app).sessionmaker() as session:
        rows = (await session.execute(select(E).where(E.org_id == org_id, E.type == "order.mismatch"))).scalars()
        return sum(e.payload["order_no"] == order_no for e in rows)


# --- mismatch → the setup it lacked appears → declared ------------------------------------------------------


async def test_a_mismatch_for_a_missing_item_record_is_declared_once_the_record_is_added(
    compliance, compliance_app, tenant
):  # type: ignore[no-untyped-def]
    seller = await Seller(compliance, tenant).setup()
    order_no, b = new_order_no(), buyer_id(900)
    view = await seller.deliver_all(order_no, buyer=b, order=shopify_order(order_no, buyer=b, sku="MITTENS-9"))
    assert view["state"] == "mismatch"
    assert [c["rule"] for c in view["checks"] if not c["passed"]] == ["item_records", "tax"]
    listed = (await exceptions(seller))[order_no]
    assert listed["reason"] == "mismatch" and "MITTENS-9" in listed["cause"]
    add = listed["actions"][0]
    assert (add["action"], add["item_no"], add["method"], add["path"], add["automatic"]) == (
        "add_item_record", "MITTENS-9", "PUT", "/v1/compliance/items/MITTENS-9", True
    )  # fmt: skip
    assert listed["actions"][-1]["action"] == "rematch"
    assert listed["actions"][-1]["path"] == f"/v1/compliance/orders/{EBP}/{order_no}/rematch"
    delivered = await delivery_count(compliance_app, tenant.org_id)

    r = await compliance.put(add["path"], json=ITEM, headers=tenant.auth("integration"))
    assert r.status_code == 201, r.text

    view = await seller.order(order_no)
    assert view["state"] == "declared" and all(c["passed"] for c in view["checks"]), view["checks"]
    assert (view["tax"], view["declaration_id"] is not None) == ("20.02", True)
    assert {m["message_type"]: (m["app_type"], m["round"]) for m in view["messages"]} == {
        "CEB311": ("1", 1), "CEB621": ("1", 1)
    }  # fmt: skip
    inventory = await xml(seller, view["declaration_id"])
    ok, errors = valid_unsigned(inventory)
    assert ok, errors
    assert head(inventory, "appType") == "1" and head(inventory, "gname") == ITEM["gname"]
    assert order_no not in await exceptions(seller)
    assert await delivery_count(compliance_app, tenant.org_id) == delivered  # nothing was sent again


async def test_a_payment_institution_registered_late_clears_the_orders_paid_through_it(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    order_no, other, b = new_order_no(), new_order_no(), buyer_id(901)
    late = "PAY0000077"
    order = shopify_order(order_no, buyer=b)
    order["note_attributes"] = [
        a if a["name"] != "pay_code" else {**a, "value": late} for a in order["note_attributes"]
    ]
    view = await seller.deliver_all(order_no, buyer=b, order=order, pay=payment(order_no, buyer=b, pay_code=late))
    assert view["state"] == "mismatch", view["checks"]
    # an order paid through another institution that is missing too stays where it is
    third = "PAY0000078"
    view2 = await seller.deliver_all(other, buyer=b, pay=payment(other, buyer=b, pay_code=third))
    assert view2["state"] == "mismatch"
    listed = (await exceptions(seller))[order_no]
    register = listed["actions"][0]
    assert (register["action"], register["pay_code"], register["method"], register["path"]) == (
        "register_payment_institution", late, "POST", "/v1/compliance/payment-institutions"
    )  # fmt: skip
    body = {"pay_code": late, "name": "Late Pay", "licence_no": "Z2000000000077", "scopes": ["internet_payment"]}
    r = await compliance.post(register["path"], json=body, headers=tenant.auth())
    assert r.status_code == 201, r.text
    assert (await seller.order(order_no))["state"] == "declared"
    assert (await seller.order(other))["state"] == "mismatch"


async def test_patch_corrects_a_mismatched_order_and_rematch_compares_on_demand(compliance, compliance_app, tenant):
    seller = await Seller(compliance, tenant).setup()
    order_no, b = new_order_no(), buyer_id(902)
    ship = waybill(order_no, phone="139 0000 0000")  # the carrier has another phone than the order
    view = await seller.deliver_all(order_no, buyer=b, ship=ship)
    assert view["state"] == "mismatch" and view["checks"][2]["rule"] == "consignee"
    listed = (await exceptions(seller))[order_no]
    assert {a["action"] for a in listed["actions"]} == {"correct_order", "correct_waybill", "rematch"}
    url, integration = f"/v1/compliance/orders/{EBP}/{order_no}", tenant.auth("integration")

    # compared again on demand with nothing fixed: still a mismatch, with its checks, and no second event
    r = await compliance.post(f"{url}/rematch", headers=integration)
    assert r.status_code == 200 and r.json()["state"] == "mismatch", r.text
    assert await mismatch_events(compliance_app, tenant.org_id, order_no) == 1
    r = await compliance.patch(url, json={"consignee": {"telephone": "13900000000"}}, headers=integration)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "declared" and r.json()["documents"]["order"]["consignee"]["telephone"] == "13900000000"
    assert_problem(await compliance.post(f"{url}/rematch", headers=integration), 409)  # declared: past comparison
    assert_problem(await compliance.patch(url, json={"freight": "1"}, headers=integration), 409)
    assert_problem(await compliance.post(f"/v1/compliance/orders/{EBP}/NOPE/rematch", headers=integration), 404)
    assert_problem(await compliance.post(f"{url}/rematch", headers=tenant.auth("analyst")), 403)

    # an item record loaded outside the API (a bulk import straight into the database): rematch finds it
    second, b2 = new_order_no(), buyer_id(903)
    view = await seller.deliver_all(second, buyer=b2, order=shopify_order(second, buyer=b2, sku="BULK-1"))
    assert view["state"] == "mismatch"
    async with context_of(compliance_app).sessionmaker() as session:
        session.add(ItemRecord(org_id=tenant.org_id, item_no="BULK-1", **ITEM))
        await session.commit()
    assert (await seller.order(second))["state"] == "mismatch"
    r = await compliance.post(f"/v1/compliance/orders/{EBP}/{second}/rematch", headers=integration)
    assert r.status_code == 200 and r.json()["state"] == "declared", r.text


async def test_a_corrected_document_after_a_mismatch_is_applied_never_dropped_as_a_duplicate(compliance, tenant):
    """Through the API: the order sent again with the right amounts, the payment sent again with the amount really
    paid, each is a correction (200 ``corrected``) and the order is compared again; an identical copy is still a
    duplicate."""
    seller = await Seller(compliance, tenant).setup()
    integration = tenant.auth("integration")
    order_no, b = new_order_no(), buyer_id(904)
    wrong = {**canonical_order(order_no, b), "tax_total": "30.00", "actual_paid": "250.00"}
    for path, body in (("orders", wrong), ("payments", payment(order_no, buyer=b, amount="250.00")),
                       ("waybills", waybill(order_no))):  # fmt: skip
        r = await compliance.post(f"/v1/compliance/{path}", json=body, headers=integration)
        assert r.status_code == 201, r.text
    assert (await seller.order(order_no))["state"] == "mismatch"
    again = await compliance.post("/v1/compliance/orders", json=wrong, headers=integration)
    assert (again.status_code, again.json()["status"], again.json()["state"]) == (200, "duplicate", "mismatch")

    r = await compliance.post("/v1/compliance/orders", json=canonical_order(order_no, b), headers=integration)
    assert (r.status_code, r.json()["status"], r.json()["state"]) == (200, "corrected", "mismatch"), r.text
    failing = [c["rule"] for c in (await seller.order(order_no))["checks"] if not c["passed"]]
    assert failing == ["amount_paid"]  # the order adds up now; the payment still says 250.00
    r = await compliance.post("/v1/compliance/payments", json=payment(order_no, buyer=b), headers=integration)
    assert (r.status_code, r.json()["status"], r.json()["state"]) == (200, "corrected", "declared"), r.text
    view = await seller.order(order_no)
    assert (
        view["documents"]["payment"]["amount_paid"] == "240.02" and view["documents"]["order"]["tax_total"] == "20.02"
    )


# --- a corrected Shopify version ----------------------------------------------------------------------------


def _hkd_order(phone: str, n: int) -> dict[str, Any]:
    """captured_hkd_line_discounts (no shipping address as captured) with the shipping address Shopify writes
    when the buyer gives one; ``n`` moves ``updated_at`` forward as each edit does."""
    order = with_buyer(shopify("captured_hkd_line_discounts"), buyer_id(905), "Chan Tai Man")
    order["shipping_address"] = {
        "first_name": "Tai Man", "last_name": "Chan", "name": "Chan Tai Man", "phone": phone,
        "address1": "1 Queen's Road Central", "address2": "", "city": "Central", "province": None, "zip": None,
        "country": "Hong Kong", "country_code": "HK", "company": None, "latitude": None, "longitude": None,
        "province_code": None, "country_code_v2": None,
    }  # fmt: skip
    order["updated_at"] = f"2025-01-23T23:{10 + n:02d}:16-05:00"
    return copy.deepcopy(order)


async def test_a_corrected_shopify_version_after_a_mismatch_is_declared(compliance, tenant):
    seller = await Exporter(compliance, tenant).setup()
    body = {"name": "HK store", "kind": "shopify", "role": "platform", "ebp_code": EBP, "trade_direction": "export"}
    r = await compliance.post("/v1/compliance/sources", json=body, headers=tenant.auth())
    assert r.status_code == 201, r.text
    shop = r.json()
    typo = _hkd_order("+852 5555 0110", 0)  # the buyer mistyped the phone at checkout
    r = await deliver_shopify(compliance, shop, typo)
    assert r.status_code == 200 and r.json()["state"] == "awaiting_documents", r.text
    view = await seller.order("1071")
    doc = view["documents"]["order"]
    integration = tenant.auth("integration")
    for item in doc["items"]:
        put = await compliance.put(f"/v1/compliance/items/{item['item_no']}", json=ITEM, headers=integration)
        assert put.status_code == 201, put.text
    paid = {**receipt_of_payment("1071", "HKD"), "amount_paid": doc["actual_paid"]}
    consignee = {"name": "Chan Tai Man", "telephone": "+852 5555 0101", "address": doc["consignee"]["address"]}
    ship = {**export_waybill("1071"), "consignee": consignee, "destination_country": "HK", "freight": doc["freight"]}
    for key, kind, data in (("pay", "payment", paid), ("ship", "waybill", ship)):
        assert (await seller.send_swh(key, kind, data)).status_code == 200
    view = await seller.order("1071")
    assert view["state"] == "mismatch"
    assert [c["detail"] for c in view["checks"] if not c["passed"]] == ["consignee telephone differ"]

    fixed = _hkd_order("+852 5555 0101", 1)  # the seller corrects it in Shopify: orders/updated
    r = await deliver_shopify(compliance, shop, fixed, topic="orders/updated")
    assert r.status_code == 200, r.text
    view = await seller.order("1071")
    assert view["state"] == "declared", [c for c in view["checks"] if not c["passed"]]
    assert view["documents"]["order"]["consignee"]["telephone"] == "+852 5555 0101"
    inventory = await xml(seller, view["declaration_id"])
    ok, errors = valid_unsigned(inventory, "export")
    assert ok, errors
    assert (head(inventory, "appType"), head(inventory, "country")) == ("1", "110")
    # the same correction delivered again (Shopify retries with another webhook id) changes nothing more
    r = await deliver_shopify(compliance, shop, fixed, topic="orders/updated")
    assert r.status_code == 200 and r.json()["state"] == "declared"


# --- refused by customs → corrected → declared again → closed ----------------------------------------------

REASON = "商品编码与申报规格不符 (the list's gmodel does not match the registered specification)"
T = [f"2026111110{i:02d}00000" for i in range(10)]


async def test_a_refused_export_list_is_corrected_declared_again_and_closed(compliance, tenant):
    seller = await Exporter(compliance, tenant).setup()
    order_no = new_order_no()
    view = await seller.deliver(export_order(order_no), receipt_of_payment(order_no), export_waybill(order_no))
    assert view["state"] == "declared", view["checks"]
    first = await xml(seller, view["declaration_id"])
    cop_no, first_guid = head(first, "copNo"), first.get("guid")
    assert head(first, "appType") == "1" and cop_no

    await send_receipt(seller, order_receipt(order_no, 120, T[1]))  # the order is on file at customs
    refused = await send_receipt(seller, list_receipt(cop_no, 100, T[2], REASON, export=True, order_no=order_no))
    assert refused["applied"] == 1
    view = await seller.order(order_no)
    assert view["state"] == "rejected"
    assert view["refusal"] == {"message": "CEB604", "status": 100, "info": REASON, "time": view["refusal"]["time"]}
    listed = (await exceptions(seller))[order_no]
    assert listed["reason"] == "rejected" and REASON in listed["cause"]
    assert listed["actions"][0]["action"] == "correct_and_redeclare"
    assert listed["actions"][0]["path"] == f"/v1/compliance/orders/{EBP}/{order_no}/rematch"

    # the seller corrects the item record customs named, then declares again
    corrected = {**ITEM, "gmodel": "Launch monitor, radar, 1 unit"}
    r = await compliance.put("/v1/compliance/items/SCARF-1", json=corrected, headers=tenant.auth("integration"))
    assert r.status_code == 200, r.text
    assert (await seller.order(order_no))["state"] == "rejected"  # a refused order waits for the seller's word
    r = await compliance.post(listed["actions"][0]["path"], headers=tenant.auth("integration"))
    assert r.status_code == 200 and r.json()["state"] == "declared", r.text
    view = r.json()
    assert view["refusal"] is None and order_no not in await exceptions(seller)

    again = await xml(seller, view["declaration_id"])
    ok, errors = valid_unsigned(again, "export")
    assert ok, errors
    assert (head(again, "copNo"), head(again, "appType"), head(again, "gmodel")) == (cop_no, "2", corrected["gmodel"])
    assert again.get("guid") != first_guid and head(again, "guid") == again.get("guid")
    order_message = await xml(seller, view["declaration_id"], "order-xml")
    assert head(order_message, "appType") == "2"  # customs holds the order (its CEB304 answered it)
    payment_message = await xml(seller, view["declaration_id"], "payment-xml")
    assert head(payment_message, "appType") == "1"  # no receipt ever said customs holds the payment receipt
    ok, errors = valid_unsigned(payment_message, "export")
    assert ok, errors

    steps = [(120, "accepted"), (399, "cleared"), (800, "released"), (899, "closed")]
    for i, (status, state) in enumerate(steps):
        body = list_receipt(
            cop_no, status, T[4 + i], "ok", export=True, order_no=order_no, invt_no="46042026E000000001"
        )
        assert (await send_receipt(seller, body))["applied"] == 1
        assert (await seller.order(order_no))["state"] == state

    view = await seller.order(order_no)
    rounds = view["declarations"]
    assert [(d["round"], d["app_type"], d["cop_no"]) for d in rounds] == [(1, "1", cop_no), (2, "2", cop_no)]
    assert [d["guid"] for d in rounds] == [first_guid, again.get("guid")]
    assert {m["message_type"] for m in rounds[0]["messages"]} == {"CEB303", "CEB403", "CEB603"}
    assert {(m["message_type"], m["app_type"]) for m in rounds[1]["messages"]} == {
        ("CEB303", "2"), ("CEB403", "1"), ("CEB603", "2")
    }  # fmt: skip
    assert [(r["message"], r["status"]) for r in rounds[0]["receipts"]] == [("CEB304", 120), ("CEB604", 100)]
    assert rounds[0]["receipts"][1]["info"] == REASON
    assert [(r["message"], r["status"]) for r in rounds[1]["receipts"]] == [
        ("CEB604", 120), ("CEB604", 399), ("CEB604", 800), ("CEB604", 899)
    ]  # fmt: skip
    # what round 1 had not yet sent was superseded; the e-port gets round 2 only
    assert all(m["status"] in ("acknowledged", "superseded") for m in rounds[0]["messages"])
    assert view["messages"] == rounds[0]["messages"] + rounds[1]["messages"]


async def test_a_refused_import_list_is_corrected_by_patch_and_declared_again(compliance, tenant):
    """CEB622 ``100`` ("payment not found"): PATCH corrects the order and declares it again at once; a late
    copy of the refusal changes nothing; the withdrawal of the list declared again names the same copNo."""
    seller = await Seller(compliance, tenant).setup()
    order_no, b = new_order_no(), buyer_id(906)
    view = await seller.deliver_all(order_no, buyer=b)
    assert view["state"] == "declared"
    cop_no = head(await xml(seller, view["declaration_id"]), "copNo")
    reason = "支付单不存在 (payment not found): buyer telephone differs from the payment's"
    await send_receipt(seller, list_receipt(cop_no, 100, T[2], reason, export=False, order_no=order_no))
    view = await seller.order(order_no)
    assert (view["state"], view["refusal"]["info"], view["refusal"]["message"]) == ("rejected", reason, "CEB622")

    url, integration = f"/v1/compliance/orders/{EBP}/{order_no}", tenant.auth("integration")
    r = await compliance.patch(url, json={"buyer": {"telephone": "13522652231"}}, headers=integration)
    assert r.status_code == 200 and r.json()["state"] == "declared", r.text
    again = await xml(seller, r.json()["declaration_id"])
    ok, errors = valid_unsigned(again)
    assert ok, errors
    assert (head(again, "copNo"), head(again, "appType")) == (cop_no, "2")
    assert head(await xml(seller, r.json()["declaration_id"], "order-xml"), "appType") == "1"  # no CEB312 came
    # the refusal again, late (its returnTime before what moved the order last): kept, moves nothing
    await send_receipt(seller, list_receipt(cop_no, 100, T[1], reason, export=False, order_no=order_no))
    assert (await seller.order(order_no))["state"] == "declared"
    await send_receipt(seller, list_receipt(cop_no, 120, T[3], "ok", export=False, order_no=order_no,
                                            invt_no="46042026I000000009"))  # fmt: skip
    view = await seller.order(order_no)
    assert view["state"] == "accepted" and [d["round"] for d in view["declarations"]] == [1, 2]


async def test_the_platforms_corrected_version_of_a_refused_order_is_declared_again(compliance, tenant):
    """A Shopify order customs refused: a newer version that changes nothing leaves it refused (nothing to
    declare again); the version that corrects it is applied and declared again under the same copNo."""
    seller = await Seller(compliance, tenant).setup()
    shop = seller.sources["shop"]
    order_no, b = new_order_no(), buyer_id(911)
    first = {**shopify_order(order_no, buyer=b), "updated_at": "2026-11-11T10:00:00+08:00"}
    view = await seller.deliver_all(order_no, buyer=b, order=first)
    assert view["state"] == "declared"
    cop_no = head(await xml(seller, view["declaration_id"]), "copNo")
    reason = "商品名称不规范 (the item name does not say what the goods are)"
    await send_receipt(seller, list_receipt(cop_no, 100, T[2], reason, export=False, order_no=order_no))
    assert (await seller.order(order_no))["state"] == "rejected"

    paid = {**first, "updated_at": "2026-11-11T11:00:00+08:00", "financial_status": "paid"}
    r = await deliver_shopify(compliance, shop, paid, topic="orders/updated")
    assert r.status_code == 200 and r.json()["state"] == "rejected", r.text
    line = {**first["line_items"][0], "title": "Wool scarf, 100% wool, 180x30cm"}
    fixed = {**first, "updated_at": "2026-11-11T12:00:00+08:00", "line_items": [line]}
    r = await deliver_shopify(compliance, shop, fixed, topic="orders/updated")
    assert r.status_code == 200 and r.json()["state"] == "declared", r.text
    view = await seller.order(order_no)
    again = await xml(seller, view["declaration_id"])
    ok, errors = valid_unsigned(again)
    assert ok, errors
    assert (head(again, "copNo"), head(again, "appType"), head(again, "itemName")) == (cop_no, "2", line["title"])
    assert [d["round"] for d in view["declarations"]] == [1, 2]
    assert not view["changed_after_declaration"]


async def test_a_declaration_customs_never_stored_is_declared_again_as_new(compliance, tenant):
    """A CEB900 processing error (negative status) refuses the list before the e-port stores it: declared again,
    the list is new (appType 1) under the same copNo, since a change of a list it does not hold is refused."""
    seller = await Seller(compliance, tenant).setup()
    order_no, b = new_order_no(), buyer_id(907)
    view = await seller.deliver_all(order_no, buyer=b)
    first = await xml(seller, view["declaration_id"])
    original = etree.tostring(first).decode()
    ceb900 = (
        f'<CEB900Message xmlns="{CEB}" guid="{str(uuid.uuid4()).upper()}" version="1.0"><MessageReturn>'
        f"<guid>{str(uuid.uuid4()).upper()}</guid><returnStatus>-621001</returnStatus>"
        f"<returnInfo>清单报文校验失败</returnInfo><returnTime>{T[1]}</returnTime><oriCopMsgId>X</oriCopMsgId>"
        f"<oriMessageType>CEB621Message</oriMessageType><oriBizMessage><![CDATA[{original}]]></oriBizMessage>"
        "</MessageReturn></CEB900Message>"
    ).encode()
    assert (await send_receipt(seller, ceb900))["applied"] == 1
    view = await seller.order(order_no)
    assert view["state"] == "rejected" and view["refusal"]["status"] == -621001
    r = await compliance.post(f"/v1/compliance/orders/{EBP}/{order_no}/rematch", headers=tenant.auth("integration"))
    assert r.status_code == 200 and r.json()["state"] == "declared", r.text
    again = await xml(seller, r.json()["declaration_id"])
    assert (head(again, "copNo"), head(again, "appType")) == (head(first, "copNo"), "1")
    # the same error about the first round's list, arriving late with a later time: kept, it refuses nothing now
    late = ceb900.replace(T[1].encode(), T[3].encode()).replace(b"-621001", b"-621004")
    assert (await send_receipt(seller, late))["applied"] == 1
    view = await seller.order(order_no)
    assert view["state"] == "declared"
    assert [(r["status"], r["return_time"]) for r in view["declarations"][1]["receipts"]] == [(-621004, T[3])]


# --- /exceptions: each cause with the action that resolves it -----------------------------------------------


async def test_every_exception_names_its_cause_and_the_action_that_resolves_it(compliance, tenant):
    seller = await Exporter(compliance, tenant).setup()
    incomplete = new_order_no()
    held = shopify_order(incomplete, buyer=buyer_id(908))
    held["note_attributes"] = [a for a in held["note_attributes"] if a["name"] != "buyer_id_number"]
    assert (await seller.send_order(held)).status_code == 200
    export = new_order_no()
    view = await seller.deliver(
        export_order(export), receipt_of_payment(export), {**export_waybill(export), "pod": None}
    )
    assert view["state"] == "mismatch"

    listed = await exceptions(seller)
    entry = listed[incomplete]
    assert entry["reason"] == "incomplete" and "buyer.id_number" in entry["cause"]
    complete = entry["actions"][0]
    assert (complete["action"], complete["method"], complete["fields"]) == (
        "complete_order",
        "PATCH",
        ["buyer.id_number"],
    )
    entry = listed[export]
    assert [(a["action"], a["fields"]) for a in entry["actions"]] == [("correct_waybill", ["pod"]), ("rematch", [])]
    assert "port of destination" in entry["cause"]
    # the waybill sent again with its port: a correction, and the order is declared
    r = await seller.send_waybill(export_waybill(export))
    assert r.status_code == 200 and r.json()["status"] == "corrected" and r.json()["state"] == "declared", r.text
    # the buyer's ID number given: matched as soon as the payment and waybill arrive
    r = await compliance.patch(complete["path"], json={"buyer": {"id_number": buyer_id(908)}},
                               headers=tenant.auth("integration"))  # fmt: skip
    assert r.status_code == 200 and r.json()["state"] == "awaiting_documents", r.text
    await seller.send_payment(payment(incomplete, buyer=buyer_id(908)))
    await seller.send_waybill(waybill(incomplete))
    assert (await seller.order(incomplete))["state"] == "declared"
    assert not {incomplete, export} & set(await exceptions(seller))


# --- the outbox and concurrent ways back --------------------------------------------------------------------


async def test_the_outbox_writes_the_declaration_again_and_never_the_superseded_round(
    compliance, compliance_app, tenant, tmp_path, monkeypatch
):  # type: ignore[no-untyped-def]
    from services.compliance.context import compliance_context
    from services.compliance.orders.outbox import send_pending

    outbox = tmp_path / "send"
    outbox.mkdir()
    ctx = compliance_context(compliance_app).customs
    monkeypatch.setattr(ctx, "outbox", outbox)
    sessions, pii = context_of(compliance_app).sessionmaker, compliance_context(compliance_app).pii
    seller = await Seller(compliance, tenant).setup()
    order_no, b = new_order_no(), buyer_id(909)
    view = await seller.deliver_all(order_no, buyer=b)
    cop_no = head(await xml(seller, view["declaration_id"]), "copNo")
    # refused before the outbox ran: what round 1 had not yet written is superseded by round 2
    await send_receipt(seller, list_receipt(cop_no, 100, T[2], "refused", export=False, order_no=order_no))
    r = await compliance.post(f"/v1/compliance/orders/{EBP}/{order_no}/rematch", headers=tenant.auth("integration"))
    assert r.json()["state"] == "declared", r.text
    assert await send_pending(sessions, ctx, pii, org_id=tenant.org_id) == 2
    assert await send_pending(sessions, ctx, pii, org_id=tenant.org_id) == 0
    rounds = (await seller.order(order_no))["declarations"]
    assert {m["status"] for m in rounds[0]["messages"]} == {"superseded", "acknowledged"}
    assert {m["message_type"]: m["status"] for m in rounds[1]["messages"]} == {"CEB311": "sent", "CEB621": "sent"}
    written = sorted(p.name for p in outbox.iterdir() if p.is_file())
    assert written == sorted(f"{m['message_type']}_{m['guid']}.xml" for m in rounds[1]["messages"])


async def test_a_rematch_racing_the_item_record_that_fixes_it_declares_once(compliance, tenant):
    """The record added and a rematch asked at the same moment: the order is declared once (one round, one set of
    messages), whichever comes first; run on PostgreSQL too."""
    import asyncio

    seller = await Seller(compliance, tenant).setup()
    integration = tenant.auth("integration")
    for n in range(3):
        order_no, b, sku = new_order_no(), buyer_id(910 + n), f"RACE-{n}"
        view = await seller.deliver_all(order_no, buyer=b, order=shopify_order(order_no, buyer=b, sku=sku))
        assert view["state"] == "mismatch"
        put, rematched = await asyncio.gather(
            compliance.put(f"/v1/compliance/items/{sku}", json=ITEM, headers=integration),
            compliance.post(f"/v1/compliance/orders/{EBP}/{order_no}/rematch", headers=integration),
        )
        assert put.status_code == 201, put.text
        assert rematched.status_code in (200, 409), rematched.text
        view = await seller.order(order_no)
        assert view["state"] == "declared"
        assert [d["round"] for d in view["declarations"]] == [1]
        assert sorted(m["message_type"] for m in view["messages"]) == ["CEB311", "CEB621"]


async def test_a_version_the_platform_sent_after_the_declaration_is_the_one_declared_again(compliance, tenant):
    """The seller fixed the order in Shopify after it was declared (kept beside it, flagged); customs then refused
    the list: rematch declares the platform's later version."""
    seller = await Seller(compliance, tenant).setup()
    shop = seller.sources["shop"]
    order_no, b = new_order_no(), buyer_id(912)
    first = {**shopify_order(order_no, buyer=b), "updated_at": "2026-11-11T10:00:00+08:00"}
    view = await seller.deliver_all(order_no, buyer=b, order=first)
    cop_no = head(await xml(seller, view["declaration_id"]), "copNo")
    line = {**first["line_items"][0], "title": "Wool scarf, 100% wool, 180x30cm"}
    later = {**first, "updated_at": "2026-11-11T11:00:00+08:00", "line_items": [line]}
    r = await deliver_shopify(compliance, shop, later, topic="orders/updated")
    assert r.status_code == 200, r.text
    assert (await seller.order(order_no))["changed_after_declaration"] is True
    await send_receipt(seller, list_receipt(cop_no, 100, T[2], "商品名称不规范", export=False, order_no=order_no))
    listed = (await exceptions(seller))[order_no]
    assert (listed["reason"], listed["actions"][0]["action"]) == ("rejected", "correct_and_redeclare")
    r = await compliance.post(listed["actions"][0]["path"], headers=tenant.auth("integration"))
    assert r.status_code == 200 and r.json()["state"] == "declared", r.text
    assert r.json()["changed_after_declaration"] is False and r.json()["later_version"] is None
    again = await xml(seller, r.json()["declaration_id"])
    assert (head(again, "copNo"), head(again, "appType"), head(again, "itemName")) == (cop_no, "2", line["title"])


async def test_an_incomplete_order_is_validated_again_on_demand_once_the_code_table_knows_its_country(
    compliance, tenant
):  # type: ignore[no-untyped-def]
    """The country table of a deployment that does not know Hong Kong yet holds the order incomplete; after an
    upgrade that adds it, rematch validates the order again and it waits for its documents."""
    import pytest

    from services.compliance.customs.codes import countries

    seller = await Exporter(compliance, tenant).setup()
    body = {"name": "HK store", "kind": "shopify", "role": "platform", "ebp_code": EBP, "trade_direction": "export"}
    shop = (await compliance.post("/v1/compliance/sources", json=body, headers=tenant.auth())).json()
    url = f"/v1/compliance/orders/{EBP}/1071/rematch"
    with pytest.MonkeyPatch.context() as mp:
        mp.delitem(countries(), "HK")
        r = await deliver_shopify(compliance, shop, _hkd_order("+852 5555 0101", 0))
        assert r.status_code == 200 and r.json()["state"] == "incomplete", r.text
        r = await compliance.post(url, headers=tenant.auth("integration"))
        assert r.status_code == 200 and r.json()["state"] == "incomplete"  # still unknown: still held
        held = [m["field"] for m in r.json()["missing"]]
        assert held == ["consignee.country"], held
        listed = (await exceptions(seller))["1071"]
        assert [a["action"] for a in listed["actions"]] == ["complete_order", "rematch"]
    r = await compliance.post(url, headers=tenant.auth("integration"))
    assert r.status_code == 200 and r.json()["state"] == "awaiting_documents", r.text
    assert r.json()["missing"] == [] and "1071" not in await exceptions(seller)


async def test_a_platform_correction_under_the_same_version_is_applied_not_taken_for_a_copy(compliance, tenant):
    """A Shopify order in mismatch delivered again corrected under the same ``updated_at`` (here: none, as a
    store app writing the order without it sends it) replaces the one stored; a copy of it changes nothing."""
    seller = await Seller(compliance, tenant).setup()
    order_no, b = new_order_no(), buyer_id(913)
    wrong = shopify_order(order_no, buyer=b, consignee_phone="+86 139-0000-0000")
    view = await seller.deliver_all(order_no, buyer=b, order=wrong)
    assert view["state"] == "mismatch"
    r = await seller.send_order(wrong)  # the same body again, another webhook id
    assert r.status_code == 200 and (r.json()["status"], r.json()["state"]) == ("duplicate", "mismatch"), r.text
    r = await seller.send_order(shopify_order(order_no, buyer=b))
    assert r.status_code == 200 and r.json()["state"] == "declared", r.text
