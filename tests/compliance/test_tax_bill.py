"""Customs' tax bill (CEB816) against XBM's tax: a fen of rounding per line and per tax type levied, compared line
by line where the bill itemises; a bill that disagrees is listed in the exceptions with both figures until the
seller accepts customs' figure or XBM's tax, computed again on corrected item records, agrees."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from lxml import etree

from services.compliance.orders import rules, tax
from tests.compliance.support import (
    EBP,
    ITEM,
    Seller,
    buyer_id,
    canonical_order,
    inventory_receipt,
    new_order_no,
    payment,
    schema,
    waybill,
)
from tests.support import assert_problem

CEB = "http://www.chinaport.gov.cn/ceb"
T1, T2, T3, T4 = (f"2026111110{i:02d}00000" for i in range(1, 5))
# two lines of serum (VAT 13 %, consumption tax 15 %), 300 and 100, freight 20: value 420 shared 315 / 105.
# Line 1: VAT 0.7 × 315 × 0.13 / 0.85 = 33.7235… → 33.72, consumption 0.7 × 315 × 0.15 / 0.85 = 38.9117… → 38.91;
# line 2: VAT 11.2411… → 11.24, consumption 12.9705… → 12.97; in all 96.84.
XBM = {1: ("0", "33.72", "38.91"), 2: ("0", "11.24", "12.97")}
SERUM = {**ITEM, "gname": "Face serum", "hs_code": "3304990099", "consumption_tax_rate": "0.15"}


def ceb816(invt_no: str, lines: dict[int, tuple[str, str, str]], when: str = T2) -> bytes:
    """customs' tax bill: the head's totals and, per line, customs duty, VAT and consumption tax."""
    head = [sum((Decimal(line[i]) for line in lines.values()), Decimal(0)) for i in range(3)]
    body = "".join(
        f"<TaxListRd><gnum>{gnum}</gnum><gcode>3304990099</gcode><taxPrice>100</taxPrice><customsTax>{d}</customsTax>"
        f"<valueAddedTax>{v}</valueAddedTax><consumptionTax>{c}</consumptionTax></TaxListRd>"
        for gnum, (d, v, c) in lines.items()
    )
    return (
        f'<CEB816Message xmlns="{CEB}" guid="{str(uuid.uuid4()).upper()}" version="1.0"><Tax><TaxHeadRd>'
        f"<guid>{str(uuid.uuid4()).upper()}</guid><returnTime>{when}</returnTime><invtNo>{invt_no}</invtNo>"
        f"<taxNo>TAX{invt_no}</taxNo><customsTax>{head[0]}</customsTax><valueAddedTax>{head[1]}</valueAddedTax>"
        f"<consumptionTax>{head[2]}</consumptionTax><status>1</status><ebcCode>{EBP}</ebcCode></TaxHeadRd>"
        f"{body}</Tax></CEB816Message>"
    ).encode()


async def _send(client, tenant, body: bytes) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    headers = {**tenant.auth("integration"), "Content-Type": "application/xml"}
    r = await client.post("/v1/compliance/messages", content=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def _two_lines(
    client, tenant, n: int, consumption: str = "0.15", tax_total: str = "96.84"
) -> tuple[Seller, str, str]:  # type: ignore[no-untyped-def]
    """A declared two-line serum order, accepted by customs under a fresh invtNo: (seller, order_no, invt_no)."""
    seller = await Seller(client, tenant).setup()
    admin, integration = tenant.auth(), tenant.auth("integration")
    for sku in ("SERUM-A", "SERUM-B"):
        r = await client.put(f"/v1/compliance/items/{sku}", json={**SERUM, "consumption_tax_rate": consumption},
                             headers=admin)  # fmt: skip
        assert r.status_code == 201, r.text
    order_no, b = new_order_no(), buyer_id(n)
    paid = f"{Decimal('420.00') + Decimal(tax_total):.2f}"
    order = {**canonical_order(order_no, b), "goods_value": "400.00", "tax_total": tax_total, "actual_paid": paid,
             "items": [{"gnum": 1, "item_no": "SERUM-A", "name": "Face serum", "qty": "1", "unit": "011",
                        "price": "300", "total": "300"},
                       {"gnum": 2, "item_no": "SERUM-B", "name": "Face serum", "qty": "1", "unit": "011",
                        "price": "100", "total": "100"}]}  # fmt: skip
    for path, body in (("orders", order), ("payments", payment(order_no, buyer=b, amount=paid)),
                       ("waybills", waybill(order_no))):  # fmt: skip
        r = await client.post(f"/v1/compliance/{path}", json=body, headers=integration)
        assert r.status_code in (200, 201), r.text
    view = await seller.order(order_no)
    assert view["state"] == "declared", view["checks"]
    xml = await client.get(f"/v1/compliance/declarations/{view['declaration_id']}/xml", headers=admin)
    cop_no = etree.fromstring(xml.content).findtext(f".//{{{CEB}}}copNo") or ""
    invt_no = "4604" + uuid.uuid4().hex[:14].upper()
    await _send(client, tenant, inventory_receipt(cop_no, 120, T1, invt_no=invt_no))
    return seller, order_no, invt_no


def _check(view: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in view["checks"] if c["rule"] == "customs_tax")


async def _listed(client, tenant) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    r = await client.get("/v1/compliance/exceptions", headers=tenant.auth("analyst"))
    assert r.status_code == 200, r.text
    return r.json()["tax_disagreements"]  # type: ignore[no-any-return]


# --- the tolerance, pure --------------------------------------------------------------------------------------


def test_the_tolerance_is_a_fen_per_line_and_tax_type_levied():
    both = rules.TaxLine(Decimal(100), Decimal("0.13"), Decimal("0.15"), Decimal("0.1"))
    vat_only = rules.TaxLine(Decimal(100), Decimal("0.13"), Decimal(0), Decimal("0.1"))
    assert rules.rounding_tolerance([both, both]) == Decimal("0.04")
    assert rules.rounding_tolerance([vat_only]) == Decimal("0.01")
    assert rules.rounding_tolerance([vat_only, both]) == Decimal("0.03")
    # the full-tax path levies customs duty as well, where its rate is above 0
    assert rules.rounding_tolerance([both], full=True) == Decimal("0.03")


def test_a_bill_without_line_figures_is_compared_on_the_total_within_the_summed_tolerance():
    both, vat = ["vat", "consumption_tax"], ["vat"]
    ours = [{"gnum": 1, "customs_duty": "0.00", "vat": "33.72", "consumption_tax": "38.91", "levied": both},
            {"gnum": 2, "customs_duty": "0.00", "vat": "11.24", "consumption_tax": "0.00", "levied": vat}]  # fmt: skip
    total = Decimal("83.87")
    assert tax.compare(ours, total, Decimal("83.90"), {})["agrees"] is True  # ±0.03: three amounts rounded
    review = tax.compare(ours, total, Decimal("83.91"), {})
    assert (review["agrees"], review["by"], review["tolerance"]) == (False, "total", "0.03")


def test_a_type_not_levied_on_a_line_allows_no_difference():
    ours = [{"gnum": 1, "customs_duty": "0.00", "vat": "20.02", "consumption_tax": "0.00", "levied": ["vat"]}]
    bill = {"1": {"customs_duty": "0.00", "vat": "20.02", "consumption_tax": "0.01"}}
    review = tax.compare(ours, Decimal("20.02"), Decimal("20.03"), bill)
    assert review["agrees"] is False
    assert review["lines"] == [{"gnum": 1, "tax_type": "consumption_tax", "customs": "0.01", "xbm": "0.00",
                                "difference": "0.01", "tolerance": "0.00", "within": False}]  # fmt: skip


# --- through the API ------------------------------------------------------------------------------------------


async def test_a_fen_per_line_and_type_passes(compliance, tenant):
    seller, order_no, invt_no = await _two_lines(compliance, tenant, 201)
    view = await seller.order(order_no)
    assert view["tax"] == "96.84"
    off_by_one = {1: ("0", "33.73", "38.90"), 2: ("0", "11.25", "12.98")}
    assert schema("import").validate(etree.fromstring(ceb816(invt_no, off_by_one)))
    await _send(compliance, tenant, ceb816(invt_no, off_by_one))
    view = await seller.order(order_no)
    assert view["customs_tax"] == "96.86"
    assert _check(view)["passed"] is True, _check(view)
    assert await _listed(compliance, tenant) == []


async def test_two_fen_on_one_line_and_type_fails_and_is_listed_until_customs_figure_is_accepted(compliance, tenant):
    seller, order_no, invt_no = await _two_lines(compliance, tenant, 202)
    bill = {1: ("0", "33.74", "38.91"), 2: XBM[2]}
    await _send(compliance, tenant, ceb816(invt_no, bill))
    view = await seller.order(order_no)
    check = _check(view)
    assert check["passed"] is False and "line 1 vat: customs 33.74, XBM 33.72" in check["detail"], check
    assert view["state"] == "accepted"  # customs' clearance goes on: the difference is the seller's to settle

    [listed] = await _listed(compliance, tenant)
    assert (listed["ebp_code"], listed["order_no"], listed["compared_by"]) == (EBP, order_no, "line")
    assert (listed["customs_total"], listed["xbm_total"], listed["difference"]) == ("96.86", "96.84", "0.02")
    assert listed["tolerance"] == "0.04"
    assert listed["lines"] == [{"gnum": 1, "tax_type": "vat", "customs": "33.74", "xbm": "33.72",
                                "difference": "0.02", "tolerance": "0.01"}]  # fmt: skip
    actions = {a["action"]: a for a in listed["actions"]}
    accept = actions["accept_customs_tax"]
    assert (accept["method"], accept["path"]) == ("POST", f"/v1/compliance/orders/{EBP}/{order_no}/tax/accept")

    r = await compliance.post(accept["path"], json={"note": "  "}, headers=tenant.auth())
    assert_problem(r, 422)
    r = await compliance.post(accept["path"], json={"note": "x"}, headers=tenant.auth("analyst"))
    assert_problem(r, 403)
    r = await compliance.post(accept["path"], json={"note": "customs rounds the serum's VAT up"},
                              headers=tenant.auth())  # fmt: skip
    assert r.status_code == 200, r.text
    check = _check(r.json())
    assert check["passed"] is True and "96.86 accepted" in check["detail"] and "rounds the serum" in check["detail"]
    assert await _listed(compliance, tenant) == []
    assert_problem(await compliance.post(accept["path"], json={"note": "again"}, headers=tenant.auth()), 409)
    # the same bill sent again (a new message, the same figures) stays accepted; other figures are compared anew
    await _send(compliance, tenant, ceb816(invt_no, bill, when=T3))
    assert _check(await seller.order(order_no))["passed"] is True and await _listed(compliance, tenant) == []
    await _send(compliance, tenant, ceb816(invt_no, {1: XBM[1], 2: ("0", "11.24", "13.00")}, when=T4))
    assert [x["order_no"] for x in await _listed(compliance, tenant)] == [order_no]


async def test_a_bill_that_disagrees_for_a_wrong_rate_ends_when_xbm_computes_again_on_the_corrected_record(
    compliance, tenant
):
    # the item records say no consumption tax: XBM computes VAT alone (0.7 × 315 × 0.13 = 28.67, 0.7 × 105 × 0.13
    # = 9.56), the order agrees, and it is declared; customs levies consumption tax on serum
    _, order_no, invt_no = await _two_lines(compliance, tenant, 203, consumption="0", tax_total="38.23")
    await _send(compliance, tenant, ceb816(invt_no, XBM))
    [listed] = await _listed(compliance, tenant)
    assert (listed["customs_total"], listed["xbm_total"]) == ("96.84", "38.23")
    assert {(x["gnum"], x["tax_type"]) for x in listed["lines"]} == {
        (1, "vat"),
        (1, "consumption_tax"),
        (2, "vat"),
        (2, "consumption_tax"),
    }
    recompute = next(a for a in listed["actions"] if a["action"] == "recompute_tax")
    assert recompute["path"] == f"/v1/compliance/orders/{EBP}/{order_no}/tax/recompute"

    r = await compliance.post(recompute["path"], headers=tenant.auth("integration"))  # nothing corrected yet
    assert r.status_code == 200 and _check(r.json())["passed"] is False
    assert len(await _listed(compliance, tenant)) == 1
    for sku in ("SERUM-A", "SERUM-B"):
        r = await compliance.put(f"/v1/compliance/items/{sku}", json=SERUM, headers=tenant.auth())
        assert r.status_code == 200, r.text
    r = await compliance.post(recompute["path"], headers=tenant.auth("integration"))
    assert r.status_code == 200, r.text
    assert r.json()["tax"] == "96.84" and _check(r.json())["passed"] is True
    assert await _listed(compliance, tenant) == []
    assert_problem(await compliance.post(recompute["path"], headers=tenant.auth("integration")), 409)


async def test_a_line_with_vat_only_allows_a_fen(compliance, tenant):
    """The seller's scarf (VAT only, one line): 20.02 computed; customs' 20.03 passes, 20.04 does not."""
    seller = await Seller(compliance, tenant).setup()
    order_no = new_order_no()
    view = await seller.deliver_all(order_no, buyer=buyer_id(204))
    assert (view["state"], view["tax"]) == ("declared", "20.02")
    xml = await compliance.get(f"/v1/compliance/declarations/{view['declaration_id']}/xml", headers=tenant.auth())
    cop_no = etree.fromstring(xml.content).findtext(f".//{{{CEB}}}copNo") or ""
    invt_no = "4604" + uuid.uuid4().hex[:14].upper()
    await _send(compliance, tenant, inventory_receipt(cop_no, 120, T1, invt_no=invt_no))
    await _send(compliance, tenant, ceb816(invt_no, {1: ("0", "20.03", "0")}))
    assert _check(await seller.order(order_no))["passed"] is True
    await _send(compliance, tenant, ceb816(invt_no, {1: ("0", "20.04", "0")}, when=T3))
    assert _check(await seller.order(order_no))["passed"] is False
    assert [x["order_no"] for x in await _listed(compliance, tenant)] == [order_no]
