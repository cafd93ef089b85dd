"""The customs fields by mode through the whole service: the item record's and the profile's new fields over HTTP,
a direct import held until its waybill names its transport, a list waiting for its net weight, the receipt of
payment naming the registered institution (test_customs_fields.py checks the builders field by field)."""

from __future__ import annotations

from lxml import etree

from services.compliance.context import compliance_context
from services.compliance.orders.outbox import send_pending
from shared.context import context_of
from tests.compliance.support import (
    EBP,
    ITEM,
    PAY,
    Seller,
    buyer_id,
    new_order_no,
    profile_of,
    shopify_order,
    valid_unsigned,
    waybill,
)
from tests.compliance.test_export_flow import (
    Exporter,
    export_order,
    export_waybill,
    receipt_of_payment,
    within_the_list_limit,
)
from tests.compliance.test_outbox import outbox_of, written
from tests.support import assert_problem

NS = {"ceb": "http://www.chinaport.gov.cn/ceb"}
TRANSPORT = ("traf_no", "voyage_no", "bill_no")


def text(doc: etree._Element, path: str) -> str | None:
    return doc.findtext(path, namespaces=NS)


async def xml(client, tenant, declaration_id: str, which: str = "xml") -> etree._Element:  # type: ignore[no-untyped-def]
    r = await client.get(f"/v1/compliance/declarations/{declaration_id}/{which}", headers=tenant.auth())
    assert r.status_code == 200, r.text
    return etree.fromstring(r.content)


async def test_a_direct_import_is_held_until_its_waybill_names_the_transport_it_arrives_on(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    order_no = new_order_no()
    bare = {k: v for k, v in waybill(order_no).items() if k not in TRANSPORT}
    view = await seller.deliver_all(order_no, buyer=buyer_id(41), ship=bare)
    assert view["state"] == "mismatch", view["checks"]
    failing = [c for c in view["checks"] if not c["passed"]]
    assert [c["rule"] for c in failing] == ["transport"]
    assert all(key in failing[0]["detail"] for key in TRANSPORT), failing
    r = await compliance.get("/v1/compliance/exceptions?rule=transport", headers=tenant.auth("analyst"))
    listed = {e["order_no"]: e for e in r.json()["items"]}[order_no]
    fix = listed["actions"][0]
    assert (fix["action"], fix["fields"], fix["automatic"]) == ("correct_waybill", list(TRANSPORT), True)
    # the way back: the carrier sends the waybill again with the flight, voyage and master bill
    r = await seller.send_waybill(waybill(order_no))
    assert r.status_code in (200, 201), r.text
    view = await seller.order(order_no)
    assert view["state"] == "declared", view["checks"]
    inventory = await xml(compliance, tenant, view["declaration_id"])
    assert valid_unsigned(inventory, "import")[0]
    assert [text(inventory, f".//ceb:{f}") for f in ("trafNo", "voyageNo", "billNo")] == [
        "CA1234", "CA1234", "999-12345675"
    ]  # fmt: skip
    assert text(inventory, ".//ceb:emsNo") is None


async def test_the_import_order_declares_the_item_records_origin_and_specification(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    milk = {**ITEM, "gname": "Milk powder", "gmodel": "Whole milk powder, 900 g tin, brand Kiwi Dairy",
            "origin_country": "609", "net_weight_kg": "0.9", "item_record_no": "RN-MILK-0001"}  # fmt: skip
    r = await compliance.put("/v1/compliance/items/SCARF-1", json=milk, headers=tenant.auth())
    assert r.status_code == 200, r.text
    assert (r.json()["net_weight_kg"], r.json()["item_record_no"]) == ("0.90", "RN-MILK-0001")  # canonical decimal text
    order_no = new_order_no()
    view = await seller.deliver_all(order_no, buyer=buyer_id(42))
    assert view["state"] == "declared", view["checks"]
    order = await xml(compliance, tenant, view["declaration_id"], "order-xml")
    assert valid_unsigned(order, "import")[0]
    assert (text(order, ".//ceb:OrderList/ceb:country"), text(order, ".//ceb:OrderList/ceb:gmodel")) == (
        "609", "Whole milk powder, 900 g tin, brand Kiwi Dairy"
    )  # fmt: skip
    assert text(order, ".//ceb:buyerIdType") == "1"
    inventory = await xml(compliance, tenant, view["declaration_id"])
    assert (text(inventory, ".//ceb:netWeight"), text(inventory, ".//ceb:grossWeight")) == ("1.8", "0.4")
    assert text(inventory, ".//ceb:itemRecordNo") is None  # a 9610 line names no account-book record


async def test_a_list_waits_for_its_item_records_net_weight_and_goes_once_given(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    admin = tenant.auth()
    unweighed = {k: v for k, v in ITEM.items() if k != "net_weight_kg"}
    r = await compliance.put("/v1/compliance/items/SCARF-1", json=unweighed, headers=admin)
    assert r.status_code == 200 and r.json()["net_weight_kg"] is None, r.text
    order_no = new_order_no()
    view = await seller.deliver_all(order_no, buyer=buyer_id(43), order=shopify_order(order_no, buyer=buyer_id(43)))
    assert view["state"] == "declared", view["checks"]
    path = f"/v1/compliance/declarations/{view['declaration_id']}/xml"
    body = assert_problem(await compliance.get(path, headers=admin), 422)
    assert "net_weight_kg" in str(body) and "SCARF-1" in str(body)
    # the way back: the seller gives the net weight per unit; the list is built with it
    r = await compliance.put("/v1/compliance/items/SCARF-1", json={**unweighed, "net_weight_kg": "0.17"}, headers=admin)
    assert r.status_code == 200, r.text
    inventory = await xml(compliance, tenant, view["declaration_id"])
    assert valid_unsigned(inventory, "import")[0]
    assert (text(inventory, ".//ceb:netWeight"), text(inventory, ".//ceb:grossWeight")) == ("0.34", "0.4")


async def test_an_export_names_the_registered_payment_institution_the_producer_and_the_warehouse(compliance, tenant):
    seller = await Exporter(compliance, tenant).setup(profile=False)
    producer = profile_of(tenant, owner_code="3302960123", owner_name="Ningbo Golf Works Ltd")
    r = await compliance.put("/v1/compliance/customs-profile", json=producer, headers=tenant.auth())
    assert r.status_code == 201, r.text
    assert (r.json()["owner_code"], r.json()["owner_name"], r.json()["iac_code"]) == (
        "3302960123", "Ningbo Golf Works Ltd", None
    )  # fmt: skip
    order_no = new_order_no()
    # paid through the registered institution PAY0000001 ("XBM Pay"); the payment names no institution's name
    pay = {**receipt_of_payment(order_no), "pay_code": PAY}
    del pay["pay_name"]
    order, pay = await within_the_list_limit(compliance, tenant, export_order(order_no, mode="9810"), pay)
    view = await seller.deliver(order, pay, export_waybill(order_no))
    assert view["state"] == "declared", view["checks"]
    receipt = await xml(compliance, tenant, view["declaration_id"], "payment-xml")
    assert valid_unsigned(receipt, "export")[0]
    assert (text(receipt, ".//ceb:payCode"), text(receipt, ".//ceb:payName")) == (PAY, "XBM Pay")
    assert text(receipt, ".//ceb:ebpName") == "Company A Los Angeles warehouse"
    inventory = await xml(compliance, tenant, view["declaration_id"])
    assert valid_unsigned(inventory, "export")[0]
    assert (text(inventory, ".//ceb:ownerCode"), text(inventory, ".//ceb:ownerName")) == (
        "3302960123", "Ningbo Golf Works Ltd"
    )  # fmt: skip
    assert text(inventory, ".//ceb:ebcCode") == EBP
    assert text(inventory, ".//ceb:emsNo") is None and text(inventory, ".//ceb:netWeight") == "0.15"


async def test_the_outbox_holds_a_list_without_its_net_weight_and_sends_it_as_soon_as_the_record_has_one(
    compliance, compliance_app, tenant, tmp_path, monkeypatch
):  # type: ignore[no-untyped-def]
    ctx, outbox = outbox_of(compliance_app, tmp_path, monkeypatch)
    sessions, pii = context_of(compliance_app).sessionmaker, compliance_context(compliance_app).pii
    seller = await Exporter(compliance, tenant).setup()
    unweighed = {k: v for k, v in ITEM.items() if k != "net_weight_kg"}
    assert (await compliance.put("/v1/compliance/items/SCARF-1", json=unweighed, headers=tenant.auth())).is_success
    order_no = new_order_no()
    view = await seller.deliver(export_order(order_no), receipt_of_payment(order_no), export_waybill(order_no))
    assert view["state"] == "declared", view["checks"]
    assert await send_pending(sessions, ctx, pii, org_id=tenant.org_id) == 2  # the order and the receipt go
    held = {m["message_type"]: m for m in (await seller.order(order_no))["messages"]}["CEB603"]
    assert held["status"] == "failed", held
    # the way back: the record's net weight; no clock moved, the list is tried at once and goes
    r = await compliance.put("/v1/compliance/items/SCARF-1", json={**unweighed, "net_weight_kg": "2.4"},
                             headers=tenant.auth())  # fmt: skip
    assert r.status_code == 200, r.text
    assert await send_pending(sessions, ctx, pii, org_id=tenant.org_id) == 1
    assert {m["status"] for m in (await seller.order(order_no))["messages"]} == {"sent"}
    assert len(written(outbox)) == 3
