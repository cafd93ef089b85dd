"""Returns by customs' clock (GACC 2020 No.45): the 30 days to apply and the 45 days for the goods to be back
count from the release receipt's returnTime; export returns (CEB213 → CEB214, CEB215 → CEB216) as the 202205
specification provides them; the logistics answers (CEB508, CEB510, CEB608) shown on their orders and master bill."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from lxml import etree
from sqlalchemy import update

from services.compliance.orders.models import Order
from shared.context import context_of
from tests.compliance.signers import verify
from tests.compliance.support import (
    CEB_NS,
    LOGISTICS,
    Seller,
    answer,
    buyer_id,
    inventory_receipt,
    new_order_no,
    recent,
    schema,
)
from tests.compliance.test_export_flow import Exporter, export_order, export_waybill, receipt_of_payment
from tests.support import assert_problem

NS = {"ceb": CEB_NS}
CHINA = ZoneInfo("Asia/Shanghai")


async def _post(seller: Seller, body: bytes) -> dict:  # type: ignore[type-arg]
    headers = {**seller.tenant.auth("integration"), "Content-Type": "application/xml"}
    r = await seller.client.post("/v1/compliance/messages", content=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def _released_import(seller: Seller, n: int, released: str) -> tuple[dict, str]:  # type: ignore[type-arg]
    order_no = new_order_no()
    view = await seller.deliver_all(order_no, buyer=buyer_id(n))
    assert view["state"] == "declared", view["checks"]
    xml = await seller.client.get(
        f"/v1/compliance/declarations/{view['declaration_id']}/xml", headers=seller.tenant.auth()
    )
    cop_no = etree.fromstring(xml.content).findtext(".//ceb:copNo", namespaces=NS)
    await _post(seller, inventory_receipt(cop_no, 800, released, invt_no="I" + order_no[:17]))
    return await seller.order(order_no), order_no


def _instant(return_time: str) -> datetime:
    return datetime.strptime(return_time[:14], "%Y%m%d%H%M%S").replace(tzinfo=CHINA)


async def test_the_return_window_counts_from_customs_release_time_not_from_when_xbm_heard_of_it(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    # released by customs 29 days ago, the receipt processed only now: the window is open for one more day
    at = recent(29)
    view, order_no = await _released_import(seller, 81, at)
    assert view["state"] == "released"
    assert datetime.fromisoformat(view["customs_released_at"]) == _instant(at)
    path = f"/v1/compliance/orders/{view['ebp_code']}/{order_no}/returns"
    r = await compliance.post(path, json={"reason": "wrong size"}, headers=tenant.auth())
    assert r.status_code == 201, r.text
    shown = (await compliance.get(f"/v1/compliance/returns/{r.json()['id']}", headers=tenant.auth())).json()
    assert datetime.fromisoformat(shown["released_at"]) == _instant(at)
    assert datetime.fromisoformat(shown["goods_back_by"]) == _instant(at) + timedelta(days=45)
    assert shown["overdue"] is False

    # released 31 days ago by customs' clock, though XBM processes the receipt just now: too late
    view, order_no = await _released_import(seller, 82, recent(31))
    assert view["state"] == "released" and view["released_at"] is not None
    r = await compliance.post(f"/v1/compliance/orders/{view['ebp_code']}/{order_no}/returns", headers=tenant.auth())
    problem = assert_problem(r, 409)
    assert "30 days" in problem["detail"]
    # the window is exact: 30 days and two minutes after customs' release it is closed
    view, order_no = await _released_import(seller, 86, recent(30 + 2 / 1440))
    r = await compliance.post(f"/v1/compliance/orders/{view['ebp_code']}/{order_no}/returns", headers=tenant.auth())
    assert_problem(r, 409)


async def test_a_later_release_receipt_does_not_move_the_release_and_an_earlier_one_does(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()
    first, later = recent(3), recent(1)
    view, order_no = await _released_import(seller, 83, first)
    xml = await compliance.get(f"/v1/compliance/declarations/{view['declaration_id']}/xml", headers=tenant.auth())
    cop_no = etree.fromstring(xml.content).findtext(".//ceb:copNo", namespaces=NS)
    await _post(seller, inventory_receipt(cop_no, 899, later, invt_no="I" + order_no[:17]))
    view = await seller.order(order_no)
    assert view["state"] == "closed"
    assert datetime.fromisoformat(view["customs_released_at"]) == _instant(first)


async def test_a_return_whose_goods_are_not_back_45_days_after_release_is_listed_until_recorded_back(
    compliance, compliance_app, tenant
):
    seller = await Seller(compliance, tenant).setup()
    view, order_no = await _released_import(seller, 84, recent(2))
    path = f"/v1/compliance/orders/{view['ebp_code']}/{order_no}/returns"
    r = await compliance.post(path, json={"lines": [{"gnum": 1, "qty": "1"}]}, headers=tenant.auth())
    assert r.status_code == 201, r.text
    ret = r.json()
    exceptions = (await compliance.get("/v1/compliance/exceptions", headers=tenant.auth())).json()
    assert [x["return_id"] for x in exceptions["returns_overdue"]] == []
    # the other scarf: refused by customs, so no goods are expected back for it
    r = await compliance.post(path, json={"lines": [{"gnum": 1, "qty": "1"}]}, headers=tenant.auth())
    assert r.status_code == 201, r.text
    await _post(seller, answer("CEB626Message", "InvtRefundReturn", r.json()["cop_no"], 100))
    refused = f"/v1/compliance/returns/{r.json()['id']}/goods-back"

    # customs released it 46 days ago (as if the return had been declared on day 29 and the goods never came)
    released = datetime.now(UTC).replace(microsecond=0) - timedelta(days=46)
    async with context_of(compliance_app).sessionmaker() as session:
        await session.execute(update(Order).where(Order.id == view["id"]).values(customs_released_at=released))
        await session.commit()
    exceptions = (await compliance.get("/v1/compliance/exceptions", headers=tenant.auth())).json()
    (listed,) = [x for x in exceptions["returns_overdue"] if x["return_id"] == ret["id"]]
    assert (listed["order_no"], listed["state"]) == (order_no, "requested")
    assert datetime.fromisoformat(listed["deadline"]) == released + timedelta(days=45)
    assert (await compliance.get(f"/v1/compliance/returns/{ret['id']}", headers=tenant.auth())).json()["overdue"]

    back = f"/v1/compliance/returns/{ret['id']}/goods-back"
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    assert_problem(await compliance.post(back, json={"arrived_at": future}, headers=tenant.auth()), 422)
    early = (released - timedelta(days=1)).isoformat()
    assert_problem(await compliance.post(back, json={"arrived_at": early}, headers=tenant.auth()), 422)
    assert_problem(await compliance.post(back, json={"arrived_at": "yesterday"}, headers=tenant.auth()), 422)
    arrived = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    r = await compliance.post(back, json={"arrived_at": arrived.isoformat()}, headers=tenant.auth())
    assert r.status_code == 200, r.text
    assert datetime.fromisoformat(r.json()["goods_back_at"]) == arrived and r.json()["overdue"] is False
    exceptions = (await compliance.get("/v1/compliance/exceptions", headers=tenant.auth())).json()
    assert [x for x in exceptions["returns_overdue"] if x["return_id"] == ret["id"]] == []

    assert_problem(await compliance.post(refused, json={"arrived_at": arrived.isoformat()}, headers=tenant.auth()), 409)


# --- export returns ---------------------------------------------------------------------------------------------


async def _released_export(seller: Exporter) -> tuple[dict, str, str]:  # type: ignore[type-arg]
    order_no = new_order_no()
    view = await seller.deliver(export_order(order_no), receipt_of_payment(order_no), export_waybill(order_no))
    assert view["state"] == "declared", view["checks"]
    cop_no = (await seller.xml(view["declaration_id"])).findtext(".//ceb:copNo", namespaces=NS)
    invt_no = "E" + uuid.uuid4().hex[:17].upper()
    await seller.receipt(inventory_receipt(cop_no, 800, recent(), export=True, invt_no=invt_no, order_no=order_no))
    return await seller.order(order_no), order_no, invt_no


def _refund_return(message: str, node: str, number: str, status: int, time: str, info: str = "ok") -> bytes:
    keys = (
        "<agentCode>1105910159</agentCode><coElNo>{n}</coElNo><invtNo>X</invtNo>"
        if message == "CEB214Message"
        else "<operatorCode>A000080003</operatorCode><logisticsCode>L</logisticsCode><logisticsNo>1</logisticsNo>"
        "<coElNo>{n}</coElNo>"
    ).format(n=number)
    return (
        f'<{message} xmlns="{CEB_NS}" guid="{str(uuid.uuid4()).upper()}" version="1.0"><{node}>'
        f"<guid>{str(uuid.uuid4()).upper()}</guid>{keys}<returnStatus>{status}</returnStatus>"
        f"<returnTime>{time}</returnTime><returnInfo>{info}</returnInfo></{node}></{message}>"
    ).encode()


RETURN_BODY = {"reason": "the buyer refused delivery", "traf_name": "CA984", "voyage_no": "CA984"}


async def test_an_export_return_is_declared_with_a_valid_signed_ceb213_and_customs_release_returns_the_order(
    compliance, tenant, sm2_signer
):
    seller = await Exporter(compliance, tenant).setup()
    view, order_no, invt_no = await _released_export(seller)
    path = f"/v1/compliance/orders/{view['ebp_code']}/{order_no}/export-returns"
    assert_problem(await compliance.post(path, json={**RETURN_BODY, "lines": [{"gnum": 2, "qty": "1"}]},
                                         headers=tenant.auth()), 422)  # fmt: skip
    r = await compliance.post(path, json=RETURN_BODY, headers=tenant.auth("integration"))
    assert r.status_code == 201, r.text
    ret = r.json()
    assert (ret["state"], ret["lines"], ret["tally_state"]) == ("requested", [{"gnum": "1", "qty": "1"}], "none")
    body = (await compliance.get(r.headers["location"], headers=tenant.auth())).content
    doc = etree.fromstring(body)
    assert doc.tag == f"{{{CEB_NS}}}CEB213Message"
    assert schema("export").validate(doc), schema("export").error_log
    assert verify(body) == "sm2"
    head = {etree.QName(n).localname: n.text for n in doc.find(".//ceb:InvtRefundHead", NS)}
    assert head["coElNo"] == ret["cop_no"] and head["invtNo"] == invt_no
    assert (head["ieFlag"], head["tradeMode"], head["country"]) == ("I", "9661", "502")
    assert head["logisticsNo"] == "1Z" + order_no and head["billNo"] == "1Z" + order_no  # no master bill: the waybill
    assert head["reason"] == "the buyer refused delivery" and head["voyageNo"] == "CA984"
    assert doc.findtext(".//ceb:InvtRefundList/ceb:qty", namespaces=NS) == "1"
    # everything is being returned already
    assert_problem(await compliance.post(path, json=RETURN_BODY, headers=tenant.auth()), 409)

    # the goods tallied back at the site (CEB215), accepted by customs (CEB216 399)
    tally = {"operator_code": "4604980001", "operator_name": "Haikou Bonded Logistics", "location": "A-12"}
    r = await compliance.post(f"/v1/compliance/export-returns/{ret['id']}/tally", json=tally, headers=tenant.auth())
    assert r.status_code == 201, r.text
    assert r.json()["tally_state"] == "declared"
    tally_cop_no = r.json()["tally_cop_no"]
    body = (await compliance.get(r.headers["location"], headers=tenant.auth())).content
    doc = etree.fromstring(body)
    assert doc.tag == f"{{{CEB_NS}}}CEB215Message"
    assert schema("export").validate(doc), schema("export").error_log
    assert verify(body) == "sm2"
    assert doc.findtext(".//ceb:coElNo", namespaces=NS) == tally_cop_no
    assert doc.findtext(".//ceb:operatorCode", namespaces=NS) == "4604980001"
    assert (doc.findtext(".//ceb:ieFlag", namespaces=NS), doc.findtext(".//ceb:invtNo", namespaces=NS)) == (
        "I",
        invt_no,
    )
    again = await compliance.post(f"/v1/compliance/export-returns/{ret['id']}/tally", json=tally, headers=tenant.auth())
    assert_problem(again, 409)
    await _post(seller, _refund_return("CEB216Message", "InvtRefundDetailReturn", tally_cop_no, 399, recent(0.5)))

    # customs takes the application (120), then releases the goods back (800): the order is returned
    await _post(seller, _refund_return("CEB214Message", "RefundReturn", ret["cop_no"], 120, recent(0.4), "stored"))
    shown = (await compliance.get(f"/v1/compliance/export-returns/{ret['id']}", headers=tenant.auth())).json()
    assert (shown["state"], shown["customs_status"], shown["customs_note"]) == ("accepted", 120, "stored")
    assert shown["tally_state"] == "accepted"
    assert (await seller.order(order_no))["state"] == "released"
    await _post(seller, _refund_return("CEB214Message", "RefundReturn", ret["cop_no"], 800, recent(0.3), "released"))
    shown = (await compliance.get(f"/v1/compliance/export-returns/{ret['id']}", headers=tenant.auth())).json()
    assert (shown["state"], shown["customs_note"]) == ("approved", "released")
    order = await seller.order(order_no)
    assert order["state"] == "returned"
    assert {m["message_type"]: m["status"] for m in order["messages"]}["CEB213"] == "acknowledged"
    # a late, older answer changes nothing
    await _post(seller, _refund_return("CEB214Message", "RefundReturn", ret["cop_no"], 100, recent(0.35), "late"))
    assert (await compliance.get(f"/v1/compliance/export-returns/{ret['id']}", headers=tenant.auth())).json()[
        "state"
    ] == "approved"


async def test_a_refused_export_return_keeps_customs_reason_and_the_order_released(compliance, tenant):
    seller = await Exporter(compliance, tenant).setup()
    view, order_no, _ = await _released_export(seller)
    imported, import_no = await _released_import(seller, 85, recent())
    assert_problem(
        await compliance.post(f"/v1/compliance/orders/{imported['ebp_code']}/{import_no}/export-returns",
                              json=RETURN_BODY, headers=tenant.auth()), 409,
    )  # fmt: skip
    path = f"/v1/compliance/orders/{view['ebp_code']}/{order_no}/export-returns"
    assert_problem(await compliance.post(path, json={"reason": "no transport given"}, headers=tenant.auth()), 422)
    r = await compliance.post(path, json={**RETURN_BODY, "trade_mode": "1261"}, headers=tenant.auth())
    assert r.status_code == 201, r.text
    ret = r.json()
    doc = etree.fromstring((await compliance.get(r.headers["location"], headers=tenant.auth())).content)
    assert doc.findtext(".//ceb:tradeMode", namespaces=NS) == "1261"
    await _post(seller, _refund_return("CEB214Message", "RefundReturn", ret["cop_no"], 100, recent(0.5), "单证不符"))
    shown = (await compliance.get(f"/v1/compliance/export-returns/{ret['id']}", headers=tenant.auth())).json()
    assert (shown["state"], shown["customs_status"], shown["customs_note"]) == ("refused", 100, "单证不符")
    assert (await seller.order(order_no))["state"] == "released"
    tally = {"operator_code": "4604980001", "operator_name": "Haikou Bonded Logistics"}
    r = await compliance.post(f"/v1/compliance/export-returns/{ret['id']}/tally", json=tally, headers=tenant.auth())
    assert_problem(r, 409)
    # refused: the lines can be returned again
    assert (await compliance.post(path, json=RETURN_BODY, headers=tenant.auth())).status_code == 201


# --- logistics answers: CEB508, CEB510, CEB608 ------------------------------------------------------------------


def _logistics_answer(message: str, node: str, cop_no: str, status: int, time: str, bill_no: str = "") -> bytes:
    bill = f"<billNo>{bill_no}</billNo>" if bill_no else ""
    operator = "<operatorCode>1105910159</operatorCode>" if message == "CEB508Message" else ""
    agent = "<agentCode>1105910159</agentCode>" if message == "CEB608Message" else ""
    return (
        f'<{message} xmlns="{CEB_NS}" guid="{str(uuid.uuid4()).upper()}" version="1.0"><{node}>'
        f"<guid>{str(uuid.uuid4()).upper()}</guid>{agent}{operator}<logisticsCode>{LOGISTICS}</logisticsCode>"
        f"<copNo>{cop_no}</copNo><preNo>P20180507000000001</preNo>{bill}<msgSeqNo>1</msgSeqNo>"
        f"<returnStatus>{status}</returnStatus><returnTime>{time}</returnTime>"
        f"<returnInfo>status {status}</returnInfo></{node}></{message}>"
    ).encode()


def _listing(message: str, node: str, cop_no: str, logistics_nos: list[str]) -> bytes:
    lines = "".join(
        f"<{node}List><gnum>{i}</gnum><logisticsNo>{n}</logisticsNo></{node}List>"
        for i, n in enumerate(logistics_nos, start=1)
    )
    return (
        f'<{message} xmlns="{CEB_NS}" guid="{str(uuid.uuid4()).upper()}" version="1.0"><{node}><{node}Head>'
        f"<guid>{str(uuid.uuid4()).upper()}</guid><copNo>{cop_no}</copNo><logisticsCode>{LOGISTICS}</logisticsCode>"
        f"</{node}Head>{lines}</{node}></{message}>"
    ).encode()


async def test_arrival_departure_and_master_bill_answers_are_shown_on_their_orders_and_bill(
    compliance, tenant, other_tenant
):
    seller = await Exporter(compliance, tenant).setup()
    view, order_no, invt_no = await _released_export(seller)
    assert view["logistics_events"] == []

    # the site's arrival (a copy of its CEB507) lists our waybill; customs' CEB508 names only its copNo
    await _post(seller, _listing("CEB507Message", "Arrival", "ARR-1", ["1Z" + order_no, "SOMEONE-ELSES"]))
    result = await _post(seller, _logistics_answer("CEB508Message", "ArrivalReturn", "ARR-1", 399, recent(0.9)))
    assert result["applied"] == 1
    # a departure answered before its listing reached XBM waits for it
    result = await _post(seller, _logistics_answer("CEB510Message", "DepartureReturn", "DEP-1", 399, recent(0.8)))
    assert result["applied"] == 0
    assert [e["kind"] for e in (await seller.order(order_no))["logistics_events"]] == ["arrival"]
    await _post(seller, _listing("CEB509Message", "Departure", "DEP-1", ["1Z" + order_no]))

    # the master bill it left on (CEB607) and customs' answer to it (CEB608)
    body = {"logistics_code": LOGISTICS, "bill_no": "999-12345675", "traf_name": "Air China CA983",
            "voyage_no": "CA983", "declaration_ids": [view["declaration_id"]]}  # fmt: skip
    r = await compliance.post("/v1/compliance/master-bills", json=body, headers=tenant.auth("integration"))
    assert r.status_code == 201, r.text
    link = r.json()
    bill = (await compliance.get(f"/v1/compliance/master-bills/{link['id']}", headers=tenant.auth())).json()
    assert (bill["bill_no"], bill["voyage"], bill["cop_no"], bill["answers"]) == (
        "999-12345675",
        "CA983",
        link["cop_no"],
        [],
    )
    assert bill["lists"] == [{"declaration_id": view["declaration_id"], "order_id": view["id"], "invt_no": invt_no,
                              "logistics_no": "1Z" + order_no}]  # fmt: skip
    answer_608 = _logistics_answer("CEB608Message", "WayBillReturn", link["cop_no"], 120, recent(0.7), "999-12345675")
    assert (await _post(seller, answer_608))["applied"] == 1
    await _post(seller, answer_608)  # a repeat is kept once
    bill = (await compliance.get(f"/v1/compliance/master-bills/{link['id']}", headers=tenant.auth())).json()
    assert [(a["kind"], a["status"], a["note"]) for a in bill["answers"]] == [("master_bill", 120, "status 120")]

    events = (await seller.order(order_no))["logistics_events"]
    assert [(e["kind"], e["status"]) for e in events] == [("arrival", 399), ("departure", 399), ("master_bill", 120)]
    assert all(e["note"] == f"status {e['status']}" and e["time"] for e in events)
    # another organisation sees neither the bill nor the events
    assert_problem(await compliance.get(f"/v1/compliance/master-bills/{link['id']}", headers=other_tenant.auth()), 404)
    assert_problem(await compliance.get(f"/v1/compliance/master-bills/{uuid.uuid4()}", headers=tenant.auth()), 404)
