"""The whole customs code tables: an export to every ISO 3166 country customs has a code for, in every ISO 4217
currency customs lists, declares with XSD-valid messages carrying those codes; an ISO code customs has no entry for
is a 422 naming it. The full walk goes through the same document schemas and message builders the service uses
(no HTTP per country); a sample, the issue's own countries among them, goes through HTTP end to end."""

from __future__ import annotations

import csv
import itertools
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from services.compliance.customs import declarations as build
from services.compliance.customs.codes import alpha3, countries, country_code, currencies, currency_code
from services.compliance.orders.documents import OrderDoc, PaymentDoc, WaybillDoc
from services.compliance.setup.schemas import CustomsProfileIn
from shared.errors import Unprocessable
from tests.compliance.platforms import deliver_shopify
from tests.compliance.support import EBP, ITEM, PROFILE, new_order_no, shopify_order, valid_unsigned
from tests.compliance.test_export_flow import Exporter, export_order, export_waybill, receipt_of_payment
from tests.support import assert_problem

CEB = "http://www.chinaport.gov.cn/ceb"
NS = {"ceb": CEB}
DATA = Path(__file__).parents[2] / "services" / "compliance" / "customs" / "data"
#: ISO 3166-1 entries customs lists no country (region) for (data/SOURCE.md)
NO_CUSTOMS_ENTRY = "AI AQ AS AX BL BQ BV CC CX FK GG GS GU HM IM IO JE MP NU PN SH SJ TF TK UM VI".split()


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def test_the_tables_hold_every_country_and_region_and_every_currency_customs_lists():
    country_rows, currency_rows = _rows("jgs20-country.csv"), _rows("jgs20-currency.csv")
    # ISO 3166-1 has 249 entries: 223 have a customs code, 26 have none
    assert len(country_rows) == 223 and len(countries()) == 223
    assert not set(NO_CUSTOMS_ENTRY) & set(countries())
    assert len({r["alpha3"] for r in country_rows}) == 223
    # every code is three digits in a continent's range; two ISO entries share one only for Saint Martin's halves
    assert all(r["customs"].isdigit() and r["customs"][0] in "123456" for r in country_rows)
    shared = [c for c, n in itertools.groupby(sorted(r["customs"] for r in country_rows)) if len(list(n)) > 1]
    assert shared == ["438"]
    # the countries orders were held for, by their customs codes
    assert {k: countries()[k] for k in ("MX", "BR", "AE", "PL", "RU", "CH", "BB", "CN", "US", "GB")} == {
        "MX": "429", "BR": "410", "AE": "138", "PL": "327", "RU": "344", "CH": "331", "BB": "405",
        "CN": "142", "US": "502", "GB": "303",
    }  # fmt: skip
    assert {alpha3()[k] for k in ("MEX", "BRA", "ARE")} == {"MX", "BR", "AE"}
    assert len(currency_rows) == 22 and len(set(currencies().values())) == 22
    assert {k: currencies()[k] for k in ("CNY", "USD", "EUR", "GBP", "CHF", "SEK", "MYR")} == {
        "CNY": "142", "USD": "502", "EUR": "300", "GBP": "303", "CHF": "331", "SEK": "330", "MYR": "122"
    }  # fmt: skip


def test_an_iso_code_customs_has_no_entry_for_is_refused_naming_it():
    for iso in ("GU", "VI", "ZZ"):
        with pytest.raises(Unprocessable, match=repr(iso)):
            country_code(iso, "destination_country")
    for iso in ("KRW", "RUB", "MXN", "XAU"):
        with pytest.raises(Unprocessable, match=repr(iso)):
            currency_code(iso)
    assert country_code("MEX") == country_code("MX") == "429"


def _parties() -> build.Parties:
    return build.Parties.model_validate(CustomsProfileIn.model_validate(PROFILE).model_dump())


def _messages(country: str, currency: str) -> dict[str, etree._Element]:
    """The three export messages of one order to ``country`` in ``currency``, from documents read through the
    same schemas the HTTP intake uses and built by the service's builders."""
    order_no = new_order_no()
    order = OrderDoc.model_validate(export_order(order_no, currency=currency, country=country)).model_dump(mode="json")
    payment = PaymentDoc.model_validate(receipt_of_payment(order_no, currency)).model_dump(mode="json")
    waybill = WaybillDoc.model_validate({**export_waybill(order_no), "destination_country": country}).model_dump(
        mode="json"
    )
    env = build.Envelope(str(uuid.uuid4()).upper(), "E" + uuid.uuid4().hex[:19].upper(), datetime.now(UTC))
    p = _parties()
    record = {**ITEM, "bar_code": None}
    return {
        "CEB303": build.order_xml(env, p, order, ""),
        "CEB403": build.payment_receipt_xml(env, p, order, payment),
        "CEB603": build.inventory_xml(env, p, order, "", waybill, {"SCARF-1": record}),
    }


def test_every_country_with_a_customs_code_in_every_currency_customs_lists_builds_valid_export_messages():
    iso_countries = sorted(countries())
    iso_currencies = sorted(currencies())
    # every country at least once, every currency at least ten times
    pairs = list(zip(iso_countries, itertools.cycle(iso_currencies), strict=False))
    assert {c for _, c in pairs} == set(iso_currencies)
    for country, currency in pairs:
        messages = _messages(country, currency)
        for kind, doc in messages.items():
            ok, errors = valid_unsigned(doc, "export")
            assert ok, (kind, country, currency, errors)
        inventory = messages["CEB603"]
        head = inventory.find(".//ceb:InventoryHead", NS)
        assert head is not None
        codes = {f: head.findtext(f"ceb:{f}", namespaces=NS) for f in ("country", "fCurrency", "iCurrency")}
        assert codes == {"country": countries()[country], "fCurrency": currencies()[currency],
                         "iCurrency": currencies()[currency]}, (country, currency)  # fmt: skip
        line = inventory.find(".//ceb:InventoryList", NS)
        assert line is not None
        assert (line.findtext("ceb:country", namespaces=NS), line.findtext("ceb:currency", namespaces=NS)) == (
            countries()[country],
            currencies()[currency],
        )
        assert {n.text for n in messages["CEB303"].iterfind(".//ceb:currency", NS)} == {currencies()[currency]}
        assert messages["CEB403"].findtext(".//ceb:currency", namespaces=NS) == currencies()[currency]


def test_an_alpha3_country_is_taken_as_its_alpha2_and_an_unlisted_one_is_refused_naming_it():
    order = OrderDoc.model_validate(export_order(new_order_no(), country="MEX"))
    assert order.destination_country == "MX" and order.consignee.country == "MX"
    with pytest.raises(ValueError, match="'GUM'"):
        OrderDoc.model_validate(export_order(new_order_no(), country="GUM"))


# --- through HTTP: a sample, the countries orders were held for among them ------------------------------------

SAMPLE = [("MX", "USD"), ("BR", "EUR"), ("AE", "GBP"), ("PL", "CHF"), ("RU", "SEK"), ("CH", "CHF"),
          ("BB", "MYR"), ("TW", "TWD"), ("SS", "NZD"), ("MEX", "DKK")]  # fmt: skip


async def test_orders_to_the_countries_once_held_are_declared_with_their_customs_codes(compliance, tenant):
    seller = await Exporter(compliance, tenant).setup()
    for country, currency in SAMPLE:
        order_no = new_order_no()
        waybill = {**export_waybill(order_no), "destination_country": country}
        view = await seller.deliver(
            export_order(order_no, currency=currency, country=country), receipt_of_payment(order_no, currency), waybill
        )
        assert view["state"] == "declared", (country, currency, view["checks"])
        inventory = await seller.xml(view["declaration_id"])
        ok, errors = valid_unsigned(inventory, "export")
        assert ok, (country, errors)
        head = inventory.find(".//ceb:InventoryHead", NS)
        assert head is not None
        assert (head.findtext("ceb:country", namespaces=NS), head.findtext("ceb:fCurrency", namespaces=NS)) == (
            country_code(country),
            currencies()[currency],
        )
        assert view["documents"]["order"]["destination_country"] == (country if len(country) == 2 else "MX")


async def test_an_unlisted_country_or_currency_is_a_422_naming_it_and_a_held_order_completes_with_a_listed_one(
    compliance, tenant
):
    seller = await Exporter(compliance, tenant).setup()
    integration = tenant.auth("integration")
    for field, order in (
        ("GU", export_order(new_order_no(), country="GU")),
        ("KRW", export_order(new_order_no(), currency="KRW")),
        ("RUB", export_order(new_order_no(), currency="RUB")),
    ):
        problem = assert_problem(await compliance.post("/v1/compliance/orders", json=order, headers=integration), 422)
        assert field in json.dumps(problem), problem

    # an export order Shopify sent for Guam is held incomplete, naming the country; completing it with an
    # unlisted country is a 422 naming that; with Mexico it is complete and waits for its payment and waybill
    order_no = new_order_no()
    order = shopify_order(order_no, buyer="")
    order["currency"] = "USD"
    order["shipping_address"]["country_code"] = "GU"
    order["note_attributes"] = [{"name": "trade_direction", "value": "export"},
                                {"name": "buyer_name", "value": "Jane Roe"}]  # fmt: skip
    r = await deliver_shopify(compliance, seller.sources["shop"], order)
    assert r.status_code == 200, r.text
    view = await seller.order(order_no)
    assert view["state"] == "incomplete", view
    assert "'GU'" in json.dumps(view["missing"]), view["missing"]
    path = f"/v1/compliance/orders/{EBP}/{order_no}"
    r = await compliance.patch(path, json={"consignee": {"country": "VI"}}, headers=integration)
    assert "'VI'" in json.dumps(assert_problem(r, 422))
    r = await compliance.patch(path, json={"consignee": {"country": "MX"}}, headers=integration)
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["state"] == "awaiting_documents", (view["state"], view.get("missing"))
    assert view["documents"]["order"]["consignee"]["country"] == "MX"
