"""Company A's B2B exports (9710/9810) above ¥5,000, or of goods needing a licence or inspection, go to a customs
declaration (报关单) through a broker, not to the inventory list (GACC announcement 2020 No.75): held
``needs_customs_declaration`` with the broker's document and no CEB603, listed among the exceptions, and moved on
by recording the broker's declaration (``declared_elsewhere``) or by routing again. 9610 exports are still listed."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.compliance.customs.models import CustomsMessage
from services.compliance.events import EVENTS
from services.compliance.orders.models import Order
from shared.context import context_of
from tests.compliance.support import EBP, ITEM, new_order_no
from tests.compliance.test_export_flow import Exporter, export_order, export_waybill, receipt_of_payment
from tests.support import assert_problem

KIT = {**ITEM, "gname": "高尔夫模拟器套装 Golf simulator kit", "gmodel": "launch monitor, net, mat; brand A Golf",
       "hs_code": "9506390000", "origin_country": "142"}  # fmt: skip
PBOC = "PBOC central parity"


def today() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def b2b_order(order_no: str, *, qty: int = 5, price: str = "1526.00", sku: str = "GOLF-KIT", mode: str = "9710",
              currency: str = "USD") -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:  # fmt: skip
    """An Alibaba.com-style B2B order of ``qty`` kits, its receipt of payment and its waybill."""
    goods = Decimal(price) * qty
    order = export_order(order_no, mode=mode, currency=currency)
    order.update(goods_value=f"{goods:.2f}", freight="120.00", actual_paid=f"{goods + 120:.2f}",
                 items=[{"gnum": 1, "item_no": sku, "name": "Golf simulator kit", "qty": str(qty), "price": price,
                         "total": f"{goods:.2f}"}])  # fmt: skip
    pay = {**receipt_of_payment(order_no, currency), "amount_paid": order["actual_paid"]}
    return order, pay, export_waybill(order_no)


class B2BSeller(Exporter):
    async def item(self, sku: str = "GOLF-KIT", **flags: bool) -> dict[str, Any]:
        r = await self.client.put(f"/v1/compliance/items/{sku}", json={**KIT, **flags}, headers=self.tenant.auth())
        assert r.status_code in (200, 201), r.text
        return r.json()

    async def rate(self, rate: str = "7.1307", currency: str = "USD", day: str | None = None) -> Any:
        body = {"rate": rate, "source": PBOC}
        return await self.client.put(f"/v1/compliance/exchange-rates/{currency}/{day or today()}", json=body,
                                     headers=self.tenant.auth())  # fmt: skip

    async def post(self, order_no: str, tail: str, body: Any = None, **headers: str) -> Any:
        return await self.client.post(f"/v1/compliance/orders/{EBP}/{order_no}/{tail}", json=body,
                                      headers={**self.tenant.auth(), **headers})  # fmt: skip

    async def exceptions(self) -> list[dict[str, Any]]:
        r = await self.client.get("/v1/compliance/exceptions", headers=self.tenant.auth("analyst"))
        assert r.status_code == 200, r.text
        return list(r.json()["items"])


async def seller_with_rate(compliance: Any, tenant: Any) -> B2BSeller:
    seller = await B2BSeller(compliance, tenant).setup()
    await seller.item()
    r = await seller.rate()
    assert r.status_code == 201, r.text
    assert r.json() | {"rerouted": 0} == {"currency": "USD", "day": today(), "rate": "7.1307", "source": PBOC,
                                          "rerouted": 0}  # fmt: skip
    return seller


async def messages_of(compliance_app: Any, order_no: str) -> list[str]:
    async with context_of(compliance_app).sessionmaker() as session:
        order = (await session.execute(select(Order).where(Order.order_no == order_no))).scalar_one()
        stmt = select(CustomsMessage.message_type).where(CustomsMessage.order_id == order.id)
        return sorted((await session.execute(stmt)).scalars())


async def test_a_9710_order_of_five_kits_above_5000_is_held_with_its_broker_document_and_no_list(
    compliance, compliance_app, tenant
):  # type: ignore[no-untyped-def]
    seller = await seller_with_rate(compliance, tenant)
    order_no = new_order_no()
    view = await seller.deliver(*b2b_order(order_no))  # five kits at USD 1,526 = USD 7,630
    assert view["state"] == "needs_customs_declaration", view["checks"]
    assert view["declaration_id"] is None and view["messages"] == [] and view["declarations"] == []
    assert await messages_of(compliance_app, order_no) == []  # no CEB303/403/603 queued
    route = view["customs_declaration"]
    assert route["status"] == "held" and route["value_cny"] == "54407.24"  # 7,630 × 7.1307
    assert (route["goods_value"], route["currency"]) == ("7630.00", "USD")
    assert route["rate"] == {"currency": "USD", "rate": "7.1307", "day": today(), "source": PBOC}
    [reason] = route["reasons"]
    assert reason["code"] == "above_limit"
    assert "USD 7630.00 = CNY 54407.24" in reason["text"] and f"1 USD = 7.1307 CNY ({PBOC}, {today()})" in reason[
        "text"
    ]  # fmt: skip

    r = await compliance.get(f"/v1/compliance/orders/{EBP}/{order_no}/customs-declaration", headers=tenant.auth())
    assert r.status_code == 200, r.text
    doc = r.json()
    assert view["broker_document"] == doc
    assert doc["exporter"] == {"code": EBP, "name": "XBM Test Seller Ltd"}
    assert doc["declaring_agent"] == {"code": "1105980159", "name": "XBM Test Broker"}
    assert (doc["customs_code"], doc["port_code"], doc["trade_mode"]) == ("4604", "4604", "9710")
    assert doc["destination_country"] == {"iso": "US", "customs": "502"}
    assert doc["currency"] == {"iso": "USD", "customs": "502"}
    assert (doc["goods_value"], doc["freight"], doc["value_cny"]) == ("7630.00", "120.00", "54407.24")
    assert doc["rate"]["source"] == PBOC and doc["gross_weight_kg"] == "18.50" and doc["net_weight_kg"] is None
    assert doc["overseas_consignee"] == "Jane Roe" and doc["logistics_no"] == "1Z" + order_no
    [line] = doc["items"]
    assert {k: line[k] for k in ("hs_code", "name", "spec", "quantity", "unit", "legal_quantity", "legal_unit",
                                 "unit_price", "total", "total_cny", "origin_country", "destination_country")} == {
        "hs_code": "9506390000", "name": KIT["gname"], "spec": KIT["gmodel"], "quantity": "5.00", "unit": "011",
        "legal_quantity": "5.00", "legal_unit": "011", "unit_price": "1526.00", "total": "7630.00",
        "total_cny": "54407.24", "origin_country": "142", "destination_country": "502",
    }  # fmt: skip
    assert [x["code"] for x in doc["reasons"]] == ["above_limit"]

    [held] = [e for e in await seller.exceptions() if e["order_no"] == order_no]
    assert held["reason"] == "needs_customs_declaration" and held["state"] == "needs_customs_declaration"
    assert "54407.24" in held["cause"] and PBOC in held["cause"]
    actions = {a["action"]: a for a in held["actions"]}
    assert (
        actions["declare_by_customs_declaration"]["path"]
        == f"/v1/compliance/orders/{EBP}/{order_no}/customs-declaration"
    )
    assert actions["record_customs_declaration"]["path"].endswith("/customs-declaration/declared")
    assert "add_exchange_rate" not in actions

    r = await compliance.get("/v1/compliance/orders?state=needs_customs_declaration", headers=tenant.auth("analyst"))
    assert r.status_code == 200 and [o["order_no"] for o in r.json()["items"]] == [order_no]


async def test_a_9710_order_below_5000_is_listed_and_a_9610_order_above_it_still_is(compliance, compliance_app, tenant):  # type: ignore[no-untyped-def]
    seller = await seller_with_rate(compliance, tenant)
    below = new_order_no()
    view = await seller.deliver(*b2b_order(below, qty=1, price="650.00"))  # USD 650 = ¥4,634.96
    assert view["state"] == "declared", view["checks"]
    assert await messages_of(compliance_app, below) == ["CEB303", "CEB403", "CEB603"]
    assert view["customs_declaration"] is None and view["broker_document"] is None
    r = await compliance.get(f"/v1/compliance/orders/{EBP}/{below}/customs-declaration", headers=tenant.auth())
    assert_problem(r, 409)

    retail = new_order_no()
    view = await seller.deliver(*b2b_order(retail, mode="9610"))  # USD 7,630 of B2C retail export: listed
    assert view["state"] == "declared", view["checks"]
    assert await messages_of(compliance_app, retail) == ["CEB303", "CEB403", "CEB603"]
    assert view["customs_declaration"] is None


async def test_goods_needing_a_licence_or_inspection_are_held_even_below_5000(compliance, compliance_app, tenant):  # type: ignore[no-untyped-def]
    seller = await seller_with_rate(compliance, tenant)
    record = await seller.item("DRONE-1", licence_required=True, inspection_required=True)
    assert (record["licence_required"], record["inspection_required"]) == (True, True)
    r = await compliance.get("/v1/compliance/items/GOLF-KIT", headers=tenant.auth())
    assert (r.json()["licence_required"], r.json()["inspection_required"]) == (False, False)
    order_no = new_order_no()
    view = await seller.deliver(*b2b_order(order_no, qty=1, price="100.00", sku="DRONE-1", mode="9810"))
    assert view["state"] == "needs_customs_declaration", view["checks"]
    assert await messages_of(compliance_app, order_no) == []
    route = view["customs_declaration"]
    assert route["value_cny"] == "713.07"
    assert [(x["code"], x["item_no"]) for x in route["reasons"]] == [
        ("licence_required", "DRONE-1"), ("inspection_required", "DRONE-1")
    ]  # fmt: skip
    doc = view["broker_document"]
    assert doc["trade_mode"] == "9810" and doc["overseas_consignee"] == "Company A Los Angeles warehouse"
    assert (doc["items"][0]["licence_required"], doc["items"][0]["inspection_required"]) == (True, True)
    [held] = [e for e in await seller.exceptions() if e["order_no"] == order_no]
    assert "DRONE-1" in held["cause"] and "export licence" in held["cause"] and "inspection" in held["cause"]


async def test_recording_the_brokers_declaration_moves_the_order_on_and_bad_input_is_refused(
    compliance, compliance_app, tenant
):  # type: ignore[no-untyped-def]
    seller = await seller_with_rate(compliance, tenant)
    order_no = new_order_no()
    view = await seller.deliver(*b2b_order(order_no))
    assert view["state"] == "needs_customs_declaration"
    path = "customs-declaration/declared"
    good = {"entry_id": "460420261000123456", "declared_on": today(), "note": "via Shenzhen broker"}
    for bad in (
        {**good, "entry_id": "46042026100012345"},  # 17 digits
        {**good, "entry_id": "46042026100012345X"},
        {**good, "declared_on": "07/12/2026"},
        {**good, "declared_on": (datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=2)).isoformat()},
        {**good, "note": " "},
        {"declared_on": today()},
        {**good, "extra": 1},
    ):
        assert_problem(await seller.post(order_no, path, bad), 422)
    assert_problem(await seller.post(order_no, path, good, **{"If-Match": '"stale"'}), 412)
    assert_problem(await seller.post("NO-SUCH-ORDER", path, good), 404)
    assert (await seller.order(order_no))["state"] == "needs_customs_declaration"

    r = await compliance.get(f"/v1/compliance/orders/{EBP}/{order_no}", headers=tenant.auth())
    r = await seller.post(order_no, path, good, **{"If-Match": r.headers["ETag"]})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["state"] == "declared_elsewhere"
    route = out["customs_declaration"]
    assert (route["status"], route["entry_id"], route["declared_on"], route["note"]) == (
        "declared", "460420261000123456", today(), "via Shenzhen broker"
    )  # fmt: skip
    assert out["broker_document"]["value_cny"] == "54407.24"  # still there for the record
    assert order_no not in [e["order_no"] for e in await seller.exceptions()]

    again = await seller.post(order_no, "declared-elsewhere", good)  # the same number again: nothing changes
    assert again.status_code == 200 and again.json()["customs_declaration"] == route
    assert_problem(await seller.post(order_no, path, {**good, "entry_id": "460420261000999999"}), 409)
    assert_problem(await seller.post(order_no, "customs-declaration/reroute"), 409)
    assert_problem(await seller.post(order_no, "cancellation", {"reason": "changed my mind"}), 409)
    assert (await seller.order(order_no))["state"] == "declared_elsewhere"

    # XBM never sees the goods released under the broker's declaration: no order event claims it
    E = EVENTS.OutboxEvent
    async with context_of(compliance_app).sessionmaker() as session:
        rows = (await session.execute(select(E).where(E.org_id == tenant.org_id))).scalars()
        kinds = {e.type for e in rows if e.payload.get("order_no") == order_no}
    assert kinds == {"order.matched"}

    listed = new_order_no()
    await seller.deliver(*b2b_order(listed, qty=1, price="650.00"))
    assert_problem(await seller.post(listed, path, good), 409)  # declared by its list: nothing to record


async def test_an_order_without_the_days_rate_is_held_until_it_is_given(compliance, compliance_app, tenant):  # type: ignore[no-untyped-def]
    seller = await B2BSeller(compliance, tenant).setup()
    await seller.item()
    small, large = new_order_no(), new_order_no()
    assert (await seller.deliver(*b2b_order(small, qty=1, price="650.00")))["state"] == "needs_customs_declaration"
    view = await seller.deliver(*b2b_order(large))
    route = view["customs_declaration"]
    assert route["value_cny"] is None and route["rate"] is None
    assert [x["code"] for x in route["reasons"]] == ["no_rate"]
    assert f"no USD→CNY exchange rate for {today()}" in route["reasons"][0]["text"]
    [held] = [e for e in await seller.exceptions() if e["order_no"] == small]
    assert [a["action"] for a in held["actions"]] == ["add_exchange_rate", "reroute", "cancel"]
    assert held["actions"][0]["path"] == f"/v1/compliance/exchange-rates/USD/{today()}"
    assert await messages_of(compliance_app, small) == []

    r = await seller.rate(currency="502")  # the customs code of USD names the same currency
    assert r.status_code == 201 and r.json()["rerouted"] == 1 and r.json()["currency"] == "USD"
    assert (await seller.order(small))["state"] == "declared"
    assert await messages_of(compliance_app, small) == ["CEB303", "CEB403", "CEB603"]
    view = await seller.order(large)
    assert view["state"] == "needs_customs_declaration"
    assert [x["code"] for x in view["customs_declaration"]["reasons"]] == ["above_limit"]


async def test_a_corrected_rate_and_a_reroute_list_an_order_now_below_5000(compliance, compliance_app, tenant):  # type: ignore[no-untyped-def]
    seller = await B2BSeller(compliance, tenant).setup()
    await seller.item()
    assert (await seller.rate("71.307")).status_code == 201  # a slip of the decimal point
    order_no = new_order_no()
    view = await seller.deliver(*b2b_order(order_no, qty=1, price="650.00"))
    assert view["state"] == "needs_customs_declaration"
    assert view["customs_declaration"]["value_cny"] == "46349.55"
    r = await compliance.get(f"/v1/compliance/exchange-rates/USD/{today()}", headers=tenant.auth("analyst"))
    r = await compliance.put(f"/v1/compliance/exchange-rates/USD/{today()}", json={"rate": "7.1307", "source": PBOC},
                             headers={**tenant.auth(), "If-Match": r.headers["ETag"]})  # fmt: skip
    assert r.status_code == 200 and r.json()["rerouted"] == 0  # held above the limit, not for want of a rate
    assert (await seller.order(order_no))["state"] == "needs_customs_declaration"

    r = await seller.post(order_no, "customs-declaration/reroute")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "declared" and r.json()["customs_declaration"]["status"] == "listed"
    assert await messages_of(compliance_app, order_no) == ["CEB303", "CEB403", "CEB603"]
    assert_problem(await seller.post(order_no, "customs-declaration/reroute"), 409)


async def test_exchange_rates_refuse_bad_input(compliance, tenant):  # type: ignore[no-untyped-def]
    seller = await B2BSeller(compliance, tenant).setup()
    base = "/v1/compliance/exchange-rates"
    good = {"rate": "7.1307", "source": PBOC}
    for path, body in (
        (f"{base}/CNY/{today()}", good),
        (f"{base}/142/{today()}", good),
        (f"{base}/999/{today()}", good),
        (f"{base}/usd/{today()}", good),
        (f"{base}/USD/2026-13-01", good),
        (f"{base}/USD/{today()}", {**good, "rate": "0"}),
        (f"{base}/USD/{today()}", {**good, "rate": "-7"}),
        (f"{base}/USD/{today()}", {"rate": "7.1"}),
        (f"{base}/USD/{today()}", {**good, "source": "  "}),
    ):
        assert_problem(await compliance.put(path, json=body, headers=tenant.auth()), 422)
    assert_problem(await compliance.get(f"{base}/USD/{today()}", headers=tenant.auth()), 404)
    assert (await seller.rate("7.1307", "EUR")).status_code == 201
    r = await compliance.get(base, headers=tenant.auth("analyst"))
    assert [(x["currency"], x["rate"]) for x in r.json()["items"]] == [("EUR", "7.1307")]


async def test_a_held_order_can_be_cancelled(compliance, compliance_app, tenant):  # type: ignore[no-untyped-def]
    seller = await seller_with_rate(compliance, tenant)
    order_no = new_order_no()
    await seller.deliver(*b2b_order(order_no))
    r = await seller.post(order_no, "cancellation", {"reason": "the buyer cancelled"})
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert await messages_of(compliance_app, order_no) == []
