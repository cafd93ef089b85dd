"""The export VAT-rebate summary chain: a month's released statisticsFlag-B lists summarised once in a CEB701 that
lists them (customs reads the list, not a time range), customs' CEB702 (sumNo) and CEB792 (declSeqNo, entryId)
kept on the summary and shown on each of its orders, and a refused summary's lists summarised again."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from lxml import etree
from sqlalchemy import func, select

from services.compliance.customs.models import CustomsReceipt
from shared.context import context_of
from tests.compliance.support import CEB_NS, CUSTOMS, EBP, answer, inventory_receipt, new_order_no, valid_unsigned
from tests.compliance.test_export_flow import Exporter, export_order, export_waybill, receipt_of_payment
from tests.support import assert_problem

NS = {"ceb": CEB_NS}
SAMPLES = CUSTOMS / "samples" / "export"
MONTH = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


def _invt_no() -> str:
    return "E" + uuid.uuid4().hex[:17].upper()


async def _declared(seller: Exporter, flag: str = "B") -> tuple[str, str, str]:
    """An export order declared: its number, its list's copNo and the invtNo customs gives it (accepted, 120)."""
    order_no = new_order_no()
    view = await seller.deliver(
        export_order(order_no, flag=flag), receipt_of_payment(order_no), export_waybill(order_no)
    )
    assert view["state"] == "declared", view["checks"]
    inventory = await seller.xml(view["declaration_id"])
    cop_no = inventory.findtext(".//ceb:copNo", namespaces=NS)
    invt_no = _invt_no()
    await seller.receipt(inventory_receipt(cop_no, 120, "20260101120000000", export=True, invt_no=invt_no,
                                           order_no=order_no))  # fmt: skip
    return order_no, cop_no, invt_no


async def _customs(seller: Exporter, order_no: str, cop_no: str, invt_no: str, *statuses: int) -> str:
    for i, status in enumerate(statuses):
        time = f"2026010113{i:02d}00000"
        await seller.receipt(inventory_receipt(cop_no, status, time, export=True, invt_no=invt_no, order_no=order_no))
    return str((await seller.order(order_no))["state"])


async def _released(seller: Exporter, flag: str = "B") -> tuple[str, str]:
    order_no, cop_no, invt_no = await _declared(seller, flag)
    assert await _customs(seller, order_no, cop_no, invt_no, 800) == "released"
    return order_no, invt_no


async def _summarise(seller: Exporter) -> tuple[dict[str, Any], etree._Element]:
    r = await seller.client.post("/v1/compliance/summaries", json={"month": MONTH}, headers=seller.tenant.auth())
    assert r.status_code == 201, r.text
    xml = await seller.client.get(r.headers["location"], headers=seller.tenant.auth())
    assert xml.status_code == 200
    tree = etree.fromstring(xml.content)
    ok, errors = valid_unsigned(tree, "export")
    assert ok, errors
    return r.json(), tree


def _listed(tree: etree._Element) -> set[str]:
    return {n.text or "" for n in tree.iterfind(".//ceb:SummaryApplyList/ceb:invtNo", NS)}


async def _summary(seller: Exporter, summary_id: str) -> dict[str, Any]:
    r = await seller.client.get(f"/v1/compliance/summaries/{summary_id}", headers=seller.tenant.auth("analyst"))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def summary_return(cop_no: str, sum_no: str, status: int, info: str, time: str = "20260201101112012") -> bytes:
    """CEB702 as the XSD describes it."""
    guid = str(uuid.uuid4()).upper()
    body = (f'<ceb:CEB702Message xmlns:ceb="{CEB_NS}" guid="{guid}" version="1.0"><ceb:SummaryReturn>'
            f"<ceb:guid>{guid}</ceb:guid><ceb:agentCode>1105910159</ceb:agentCode><ceb:ebcCode>{EBP}</ceb:ebcCode>"
            f"<ceb:copNo>{cop_no}</ceb:copNo><ceb:preNo>P20260201000000001</ceb:preNo><ceb:sumNo>{sum_no}</ceb:sumNo>"
            f"<ceb:msgSeqNo>1</ceb:msgSeqNo><ceb:returnStatus>{status}</ceb:returnStatus>"
            f"<ceb:returnTime>{time}</ceb:returnTime><ceb:returnInfo>{info}</ceb:returnInfo>"
            f"</ceb:SummaryReturn></ceb:CEB702Message>").encode()  # fmt: skip
    _valid(body)
    return body


def summary_result(guid: str, sum_no: str, decl_seq_no: str, entry_id: str, invt_nos: list[str]) -> bytes:
    """A later CEB792 as the XSD describes it, with the customs declaration's number (entryId)."""
    lines = "".join(
        f"<ceb:SummaryResultList><ceb:invtNo>{n}</ceb:invtNo><ceb:logisticsNo>L{i}</ceb:logisticsNo>"
        f"<ceb:gseqno>{i + 1}</ceb:gseqno><ceb:gnum>1</ceb:gnum><ceb:gcode>8541401000</ceb:gcode>"
        "</ceb:SummaryResultList>"
        for i, n in enumerate(invt_nos)
    )
    body = (f'<ceb:CEB792Message xmlns:ceb="{CEB_NS}" guid="{str(uuid.uuid4()).upper()}" version="1.0">'
            f"<ceb:SummaryResult><ceb:SummaryResultHead><ceb:guid>{guid}</ceb:guid><ceb:customsCode>1501</ceb:customsCode>"
            f"<ceb:sumNo>{sum_no}</ceb:sumNo><ceb:opDate>20260205101112012</ceb:opDate>"
            f"<ceb:declSeqNo>{decl_seq_no}</ceb:declSeqNo><ceb:entryId>{entry_id}</ceb:entryId>"
            "<ceb:decState>A</ceb:decState><ceb:agentCode>1105910159</ceb:agentCode><ceb:agentName>A</ceb:agentName>"
            f"<ceb:ebcCode>{EBP}</ceb:ebcCode><ceb:ebcName>A Golf</ceb:ebcName>"
            "<ceb:declAgentCode>1105910159</ceb:declAgentCode><ceb:declAgentName>A</ceb:declAgentName>"
            "<ceb:grossWeight>37.00000</ceb:grossWeight><ceb:netWeight>35.50000</ceb:netWeight>"
            f"<ceb:msgCount>1</ceb:msgCount><ceb:msgSeqNo>1</ceb:msgSeqNo></ceb:SummaryResultHead>{lines}"
            "</ceb:SummaryResult></ceb:CEB792Message>").encode()  # fmt: skip
    _valid(body)
    return body


def _valid(body: bytes) -> None:
    from tests.compliance.support import schema

    validator = schema("export")
    assert validator.validate(etree.fromstring(body)), validator.error_log


async def test_a_month_summarises_exactly_its_released_flag_b_lists_once(compliance, tenant):  # type: ignore[no-untyped-def]
    seller = await Exporter(compliance, tenant).setup()
    released = [await _released(seller) for _ in range(2)]
    closed_no, closed_cop, closed_invt = await _declared(seller)
    assert await _customs(seller, closed_no, closed_cop, closed_invt, 800, 899) == "closed"
    # withdrawn: customs numbered the list, then agreed to its withdrawal (CEB606 399)
    withdrawn_no, withdrawn_cop, withdrawn_invt = await _declared(seller)
    r = await compliance.post(f"/v1/compliance/orders/{EBP}/{withdrawn_no}/cancellation",
                              json={"reason": "buyer cancelled"}, headers=tenant.auth())  # fmt: skip
    assert r.json()["state"] == "cancel_requested", r.text
    await seller.receipt(answer("CEB606Message", "InvtCancelReturn", withdrawn_cop, 399, invt_no=withdrawn_invt))
    assert (await seller.order(withdrawn_no))["state"] == "cancelled"
    refused_no, refused_cop, refused_invt = await _declared(seller)
    assert await _customs(seller, refused_no, refused_cop, refused_invt, 100) == "rejected"
    cleared_no, cleared_cop, cleared_invt = await _declared(seller)  # cleared, not released yet
    assert await _customs(seller, cleared_no, cleared_cop, cleared_invt, 399) == "cleared"
    await _released(seller, flag="A")  # released, but simply declared (statisticsFlag A): never summarised

    out, tree = await _summarise(seller)
    expected = {invt for _, invt in released} | {closed_invt}
    assert _listed(tree) == expected
    assert tree.find(".//ceb:startTime", NS) is None and tree.find(".//ceb:endTime", NS) is None
    assert out["inventories"] == 3 and out["validated"] is True and out["status"] == "declared"
    detail = await _summary(seller, out["id"])
    assert detail["month"] == MONTH and detail["status"] == "declared" and detail["cop_no"] == out["cop_no"]
    assert {line["invt_no"] for line in detail["lists"]} == expected
    assert {line["order_no"] for line in detail["lists"]} == {n for n, _ in released} | {closed_no}
    assert detail["totals"] == [{"currency": "USD", "orders": 3, "actual_paid": "6057.00"}]
    # a list already in a standing summary is not summarised twice: the month has nothing left, until one more
    again = await compliance.post("/v1/compliance/summaries", json={"month": MONTH}, headers=tenant.auth())
    assert_problem(again, 409)
    assert await _customs(seller, cleared_no, cleared_cop, cleared_invt, 800) == "released"
    _, later = await _summarise(seller)
    assert _listed(later) == {cleared_invt}


async def test_customs_answers_give_the_summary_and_its_orders_their_numbers(compliance, compliance_app, tenant):  # type: ignore[no-untyped-def]
    seller = await Exporter(compliance, tenant).setup()
    released = [await _released(seller) for _ in range(2)]
    out, _ = await _summarise(seller)
    sum_no = "S" + uuid.uuid4().hex[:17].upper()
    # customs' answer (the official CEB702 sample, for this summary's copNo) gives the summary its sumNo
    ceb702 = (SAMPLES / "CEB702Message.xml").read_text("utf-8-sig")
    ceb702 = ceb702.replace("C201805080001", out["cop_no"]).replace("S20180507000000001", sum_no)
    answered = await seller.receipt(ceb702.encode())
    assert answered["receipts"] >= 1 and answered["unmatched"] == 0
    # the summary's result (the official CEB792 sample, by that sumNo; its decState "A" is a letter, not a status)
    ceb792 = (SAMPLES / "CEB792Message.xml").read_text("utf-8-sig").replace("S20180507000000001", sum_no)
    result = await seller.receipt(ceb792.encode())
    assert result["receipts"] >= 1 and result["unmatched"] == 0
    detail = await _summary(seller, out["id"])
    assert detail["status"] == "summarised"
    assert (detail["sum_no"], detail["pre_no"]) == (sum_no, "P20180507000000001")
    assert (detail["decl_seq_no"], detail["dec_state"]) == ("S20180508000000001", "A")
    assert detail["entry_id"] is None  # customs gives the declaration's number in a later result
    entry_id = "5301" + uuid.uuid4().hex[:14].upper()
    later = summary_result(out["guid"], sum_no, "S20180508000000001", entry_id, [invt for _, invt in released])
    assert (await seller.receipt(later))["unmatched"] == 0
    detail = await _summary(seller, out["id"])
    assert (detail["entry_id"], detail["gross_weight"], detail["net_weight"]) == (entry_id, "37.00000", "35.50000")
    assert [(r["message"], r["status"]) for r in detail["receipts"]] == [("CEB702", 2), ("CEB792", 0), ("CEB792", 0)]
    assert detail["receipts"][0]["info"].startswith("新增申报成功") and detail["receipts"][1]["dec_state"] == "A"
    async with context_of(compliance_app).sessionmaker() as session:
        stmt = select(func.count()).where(CustomsReceipt.org_id == tenant.org_id,
                                          CustomsReceipt.message_type.in_(["CEB702Me", "CEB792Me"]))  # fmt: skip
        assert await session.scalar(stmt) == 3  # each kept once (the samples repeat one receipt many times)
    for order_no, _ in released:
        view = await seller.order(order_no)
        assert view["summary"] == {"id": out["id"], "month": MONTH, "status": "summarised", "sum_no": sum_no,
                                   "decl_seq_no": "S20180508000000001", "entry_id": entry_id}  # fmt: skip
    listed = await compliance.get(f"/v1/compliance/summaries?month={MONTH}&status=summarised", headers=tenant.auth())
    assert [s["id"] for s in listed.json()["items"]] == [out["id"]]
    assert listed.json()["items"][0]["entry_id"] == entry_id
    # an older CEB702 arriving late moves nothing back
    await seller.receipt(summary_return(out["cop_no"], sum_no, 3, "sent", time="20260101000000000"))
    assert (await _summary(seller, out["id"]))["status"] == "summarised"


async def test_a_refused_summary_says_why_and_its_lists_are_summarised_again(compliance, tenant):  # type: ignore[no-untyped-def]
    seller = await Exporter(compliance, tenant).setup()
    released = [await _released(seller) for _ in range(2)]
    first, tree = await _summarise(seller)
    sum_no = "S" + uuid.uuid4().hex[:17].upper()
    reason = "declAgentCode 与备案不符"
    await seller.receipt(summary_return(first["cop_no"], sum_no, 100, reason))
    refused = await _summary(seller, first["id"])
    assert refused["status"] == "refused"
    assert refused["refusal"]["status"] == 100 and refused["refusal"]["info"] == reason
    assert {line["invt_no"] for line in refused["lists"]} == _listed(tree)  # it still shows what it held
    view = await seller.order(released[0][0])
    assert view["summary"]["id"] == first["id"] and view["summary"]["status"] == "refused"
    r = await compliance.get("/v1/compliance/summaries?status=refused", headers=tenant.auth())
    assert [s["id"] for s in r.json()["items"]] == [first["id"]]
    assert r.json()["items"][0]["refusal"]["info"] == reason
    # the way back: the month is summarised again, with the same lists
    second, again = await _summarise(seller)
    assert second["id"] != first["id"] and _listed(again) == _listed(tree) == {i for _, i in released}
    view = await seller.order(released[0][0])
    assert view["summary"]["id"] == second["id"] and view["summary"]["status"] == "declared"
    await seller.receipt(summary_return(second["cop_no"], "S" + uuid.uuid4().hex[:17].upper(), 399, "审结"))
    assert (await _summary(seller, second["id"]))["status"] == "accepted"
    assert (await _summary(seller, first["id"]))["status"] == "refused"
    assert_problem(await compliance.post("/v1/compliance/summaries", json={"month": MONTH}, headers=tenant.auth()), 409)


async def test_answers_for_no_summary_of_ours_are_kept_unmatched(compliance, compliance_app, tenant):  # type: ignore[no-untyped-def]
    seller = await Exporter(compliance, tenant).setup()
    out = await seller.receipt(summary_return("XBMNOSUCHSUMMARY", "S" + "0" * 17, 100, "no"))
    assert (out["receipts"], out["unmatched"]) == (1, 1)
    out = await seller.receipt(summary_result(str(uuid.uuid4()).upper(), "S" + "1" * 17, "S" + "2" * 17,
                                              "5" * 18, [_invt_no()]))  # fmt: skip
    assert (out["receipts"], out["unmatched"]) == (1, 1)
    async with context_of(compliance_app).sessionmaker() as session:
        stmt = select(func.count()).where(CustomsReceipt.org_id == tenant.org_id,
                                          CustomsReceipt.message_type.in_(["CEB702Me", "CEB792Me"]))  # fmt: skip
        assert await session.scalar(stmt) == 2


async def test_the_summary_list_pages_and_filters(compliance, tenant, other_tenant):  # type: ignore[no-untyped-def]
    seller = await Exporter(compliance, tenant).setup()
    ids = []
    for _ in range(2):
        await _released(seller)
        ids.append((await _summarise(seller))[0]["id"])
    r = await compliance.get("/v1/compliance/summaries?limit=1", headers=tenant.auth("analyst"))
    assert r.status_code == 200 and [s["id"] for s in r.json()["items"]] == ids[:1]
    cursor = r.json()["next_cursor"]
    r = await compliance.get(f"/v1/compliance/summaries?limit=1&cursor={cursor}", headers=tenant.auth())
    assert [s["id"] for s in r.json()["items"]] == ids[1:]
    r = await compliance.get("/v1/compliance/summaries?month=2019-01", headers=tenant.auth())
    assert r.json()["items"] == []
    assert_problem(await compliance.get("/v1/compliance/summaries?month=2026-13", headers=tenant.auth()), 422)
    assert_problem(await compliance.get("/v1/compliance/summaries?status=lost", headers=tenant.auth()), 422)
    # another organisation sees none of them
    assert (await compliance.get("/v1/compliance/summaries", headers=other_tenant.auth())).json()["items"] == []
    assert_problem(await compliance.get(f"/v1/compliance/summaries/{ids[0]}", headers=other_tenant.auth()), 404)


async def test_two_summaries_asked_at_once_hold_each_list_once(compliance, tenant):  # type: ignore[no-untyped-def]
    seller = await Exporter(compliance, tenant).setup()
    released = {invt for _, invt in [await _released(seller) for _ in range(3)]}

    async def ask() -> httpx.Response:
        for _ in range(20):
            r = await compliance.post("/v1/compliance/summaries", json={"month": MONTH}, headers=tenant.auth())
            if r.status_code != 503:  # the database was busy (SQLite): asked again, as a client does
                return r
            await asyncio.sleep(0.05)
        raise AssertionError("still busy after 20 attempts")

    answers = await asyncio.gather(ask(), ask())
    # the second finds nothing left, or (SQLite, which lets both read first) is told to ask again: never a 500
    assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
    made = next(r for r in answers if r.status_code == 201).json()
    assert {line["invt_no"] for line in (await _summary(seller, made["id"]))["lists"]} == released
