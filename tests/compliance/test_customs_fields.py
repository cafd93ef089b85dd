"""The customs fields that depend on the mode or come from the item records and the profile, checked field by field
against the specification's tables (202205: CEB311 table 3-3, CEB621 table 3-31, CEB303 table 2-3, CEB403
table 2-10, CEB603 table 2-38) on messages the service's builders make from documents read through the intake's
own schemas; every message built also satisfies the official XSD."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from services.compliance.customs import declarations as build
from services.compliance.customs.fields import MODE_FIELDS, MissingField
from services.compliance.customs.parties import Parties
from services.compliance.orders.declaration import RECORD_FIELDS
from services.compliance.orders.documents import OrderDoc, PaymentDoc, WaybillDoc
from services.compliance.setup.schemas import CustomsProfileIn
from tests.compliance.support import ITEM, PROFILE, buyer_id, canonical_order, new_order_no, valid_unsigned, waybill
from tests.compliance.test_export_flow import export_order, export_waybill, receipt_of_payment

NS = {"ceb": "http://www.chinaport.gov.cn/ceb"}
WAREHOUSE = "Company A Los Angeles warehouse"
#: a profile with every mode's registrations: each mode must carry only its own
FULL = {
    "ems_no": "T4604W000001", "area_code": "4604W60001", "area_name": "Haikou Comprehensive Bonded Zone",
    "iac_code": "4604W60002", "iac_name": "Haikou Bonded Logistics Ltd",
}  # fmt: skip
TRANSPORT = {"traf_no": "CA1234", "voyage_no": "CA1234", "bill_no": "999-12345675"}

#: the mode-bound fields, written out from the specification's tables (not read from the service's own data):
#: True the mode requires the field, False the mode leaves it out
SPEC: dict[tuple[str, str], dict[str, dict[str, bool]]] = {
    # CEB621: emsNo/areaCode/areaName "保税模式必填"; trafNo/voyageNo/billNo "直购进口必填 … 保税进口免填";
    # itemRecordNo "保税进口必填"
    ("import", "9610"): {
        "InventoryHead": {"emsNo": False, "areaCode": False, "areaName": False,
                          "trafNo": True, "voyageNo": True, "billNo": True},
        "InventoryList": {"itemRecordNo": False},
    },
    ("import", "1210"): {
        "InventoryHead": {"emsNo": True, "areaCode": True, "areaName": True,
                          "trafNo": False, "voyageNo": False, "billNo": False},
        "InventoryList": {"itemRecordNo": True},
    },
    # CEB603: iacCode/iacName "特殊区域出口模式必填"; emsNo "特殊区域出口模式必须填写具体账号";
    # itemRecordNo "保税出口模式必填"
    **{
        ("export", mode): {
            "InventoryHead": {"iacCode": mode == "1210", "iacName": mode == "1210", "emsNo": mode == "1210"},
            "InventoryList": {"itemRecordNo": mode == "1210"},
        }
        for mode in ("9610", "9710", "9810", "1210")
    },
}  # fmt: skip
#: orderType on CEB303 (table 2-3: "E-B2C 出口订单；B-B2B 出口订单；W-海外仓订仓单")
ORDER_TYPE = {"9610": "E", "1210": "E", "9710": "B", "9810": "W"}


def parties(**changes: Any) -> Parties:
    return Parties.model_validate(CustomsProfileIn.model_validate({**PROFILE, **changes}).model_dump())


def record(**changes: Any) -> dict[str, Any]:
    """An item record as the declaration reads it (its RECORD_FIELDS)."""
    full = {**ITEM, "bar_code": None, "customs_item_no": None, "item_record_no": "RN-SCARF-0001", **changes}
    return {f: full.get(f) for f in RECORD_FIELDS}


def env() -> build.Envelope:
    return build.Envelope(str(uuid.uuid4()).upper(), "XBM" + uuid.uuid4().hex[:17].upper(), datetime.now(UTC))


def import_docs(mode: str = "9610", **order: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    order_no = new_order_no()
    doc = OrderDoc.model_validate({**canonical_order(order_no, buyer_id(1)), "trade_mode": mode, **order})
    way = WaybillDoc.model_validate({**waybill(order_no), **TRANSPORT})
    return doc.model_dump(mode="json"), way.model_dump(mode="json")


def export_docs(mode: str, **pay: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    order_no = new_order_no()
    doc = OrderDoc.model_validate(export_order(order_no, mode=mode)).model_dump(mode="json")
    payment = PaymentDoc.model_validate({**receipt_of_payment(order_no), **pay}).model_dump(mode="json")
    way = WaybillDoc.model_validate({**export_waybill(order_no), **TRANSPORT}).model_dump(mode="json")
    return doc, payment, way


def messages(direction: str, mode: str, p: Parties, rec: dict[str, Any]) -> dict[str, etree._Element]:
    """Every message one order of ``mode`` sends, built and checked against the official XSD."""
    records = {"SCARF-1": rec}
    if direction == "import":
        order, way = import_docs(mode)
        built = {"CEB311": build.order_xml(env(), p, order, buyer_id(1), records),
                 "CEB621": build.inventory_xml(env(), p, order, buyer_id(1), way, records)}  # fmt: skip
    else:
        order, payment, way = export_docs(mode)
        built = {"CEB303": build.order_xml(env(), p, order, ""),
                 "CEB403": build.payment_receipt_xml(env(), p, order, payment),
                 "CEB603": build.inventory_xml(env(), p, order, "", way, records)}  # fmt: skip
    for kind, doc in built.items():
        ok, errors = valid_unsigned(doc, direction)
        assert ok, (kind, mode, errors)
    return built


def value(doc: etree._Element, path: str) -> str | None:
    return doc.findtext(path, namespaces=NS)


# --- every mode, field by field -------------------------------------------------------------------------------


@pytest.mark.parametrize(("direction", "mode"), list(SPEC))
def test_each_mode_carries_only_its_own_fields_as_the_specification_tables_say(direction, mode):
    p = parties(trade_mode=mode, **FULL)
    built = messages(direction, mode, p, record())
    inventory = built["CEB621" if direction == "import" else "CEB603"]
    for node, fields in SPEC[(direction, mode)].items():
        for field, required in fields.items():
            found = [e.text for e in inventory.iterfind(f".//ceb:{node}/ceb:{field}", NS)]
            if required:
                assert found and all(found), (mode, node, field, found)
            else:
                assert found == [], (mode, node, field, found)
    # the service's own rules are the same table
    rules = MODE_FIELDS[(direction, mode)]
    for node, fields in SPEC[(direction, mode)].items():
        assert rules[node].required == {f for f, required in fields.items() if required}, (mode, node)
        assert rules[node].absent == {f for f, required in fields.items() if not required}, (mode, node)
    assert value(inventory, ".//ceb:InventoryHead/ceb:tradeMode") == mode
    if direction == "import":
        # 起运国: "直购进口填写起始发出国家（地区）代码 …；保税进口填写代码“142”"
        assert value(inventory, ".//ceb:InventoryHead/ceb:country") == ("142" if mode == "1210" else "303")
        for doc in built.values():
            assert {e.text for e in doc.iterfind(".//ceb:buyerIdType", NS)} == {"1"}
        return
    assert value(built["CEB303"], ".//ceb:orderType") == ORDER_TYPE[mode]
    # ebpName "电商平台/海外仓名称": the overseas warehouse for 9810, the platform otherwise
    expected = WAREHOUSE if mode == "9810" else PROFILE["ebc_name"]
    for kind in ("CEB303", "CEB403", "CEB603"):
        assert value(built[kind], ".//ceb:ebpName") == expected, (kind, mode)


# --- rule by rule ---------------------------------------------------------------------------------------------


def test_the_bonded_account_is_declared_only_on_a_special_area_export_and_a_bonded_import():
    p = parties(ems_no="T4604W000001")
    assert value(messages("import", "9610", p, record())["CEB621"], ".//ceb:emsNo") is None
    assert value(messages("export", "9610", p, record())["CEB603"], ".//ceb:emsNo") is None
    special = messages("export", "1210", parties(trade_mode="1210", **FULL), record())["CEB603"]
    assert [value(special, f".//ceb:InventoryHead/ceb:{f}") for f in ("iacCode", "iacName", "emsNo")] == [
        "4604W60002", "Haikou Bonded Logistics Ltd", "T4604W000001"
    ]  # fmt: skip
    assert value(special, ".//ceb:InventoryList/ceb:itemRecordNo") == "RN-SCARF-0001"


@pytest.mark.parametrize("missing", ["iac_code", "iac_name", "ems_no"])
def test_a_special_area_export_without_its_warehouse_enterprise_or_account_is_not_built(missing):
    p = parties(trade_mode="1210", **{k: v for k, v in FULL.items() if k != missing})
    order, _, way = export_docs("1210")
    with pytest.raises(MissingField) as raised:
        build.inventory_xml(env(), p, order, "", way, {"SCARF-1": record()})
    assert f"customs profile's {missing}" in raised.value.detail


def test_a_special_area_export_line_needs_its_account_book_record_number():
    order, _, way = export_docs("1210")
    with pytest.raises(MissingField) as raised:
        build.inventory_xml(env(), parties(trade_mode="1210", **FULL), order, "", way,
                            {"SCARF-1": record(item_record_no=None)})  # fmt: skip
    assert "itemRecordNo" in raised.value.detail and "item_record_no" in raised.value.detail


def test_a_direct_import_declares_its_flight_voyage_and_bill_and_a_bonded_one_none():
    direct = messages("import", "9610", parties(), record())["CEB621"]
    assert [value(direct, f".//ceb:{f}") for f in ("trafNo", "voyageNo", "billNo")] == [
        "CA1234", "CA1234", "999-12345675"
    ]  # fmt: skip
    bonded = messages("import", "1210", parties(trade_mode="1210", **FULL), record())["CEB621"]
    assert [value(bonded, f".//ceb:{f}") for f in ("trafNo", "voyageNo", "billNo")] == [None, None, None]


@pytest.mark.parametrize("missing", ["traf_no", "voyage_no", "bill_no"])
def test_a_direct_import_without_its_transport_is_not_built_and_says_what_the_waybill_lacks(missing):
    order, way = import_docs("9610")
    del way[missing]
    with pytest.raises(MissingField) as raised:
        build.inventory_xml(env(), parties(), order, buyer_id(1), way, {"SCARF-1": record()})
    assert f"the waybill's {missing}" in raised.value.detail


def test_an_import_orders_lines_carry_the_goods_origin_and_specification_from_the_item_record():
    rec = record(origin_country="609", gmodel="Whole milk powder, 900 g tin, brand Kiwi Dairy")
    doc = messages("import", "9610", parties(), rec)["CEB311"]
    assert value(doc, ".//ceb:OrderList/ceb:country") == "609"
    assert value(doc, ".//ceb:OrderList/ceb:gmodel") == "Whole milk powder, 900 g tin, brand Kiwi Dairy"
    assert value(doc, ".//ceb:OrderList/ceb:itemName") == "Wool scarf"  # the name stays the name


def test_an_import_buyer_is_declared_with_an_id_card_whatever_the_order_says():
    order, way = import_docs("9610", buyer={**canonical_order("X", buyer_id(1))["buyer"], "id_type": "2"})
    assert order["buyer"]["id_type"] == "2"
    records = {"SCARF-1": record()}
    listed = build.OnFile(order, buyer_id(1), way, build.Declared("C1", None, "46042026I000000001"))
    for doc in (
        build.order_xml(env(), parties(), order, buyer_id(1), records),
        build.inventory_xml(env(), parties(), order, buyer_id(1), way, records),
        build.withdrawal_xml(env(), parties(), listed, "cancelled"),
        build.return_xml(env(), parties(), listed, [(1, Decimal(1))], records, "returned"),
    ):
        assert valid_unsigned(doc, "import")[0]
        assert value(doc, ".//ceb:buyerIdType") == "1"


def test_the_receipt_of_payment_names_the_payment_institution_not_its_code():
    order, payment, _ = export_docs("9610")
    doc = build.payment_receipt_xml(env(), parties(), order, payment)
    assert value(doc, ".//ceb:payName") == "A Card Acquirer Ltd"  # the payment document's
    del payment["pay_name"]
    doc = build.payment_receipt_xml(env(), parties(), order, payment, "XBM Card Services")
    assert (value(doc, ".//ceb:payName"), value(doc, ".//ceb:payCode")) == ("XBM Card Services", "CARD000001")
    with pytest.raises(MissingField) as raised:
        build.payment_receipt_xml(env(), parties(), order, payment)
    assert "CARD000001" in raised.value.detail


def test_an_overseas_warehouse_receipt_of_payment_names_the_warehouse():
    order, payment, _ = export_docs("9810")
    doc = build.payment_receipt_xml(env(), parties(trade_mode="9810"), order, payment)
    assert value(doc, ".//ceb:ebpName") == WAREHOUSE
    assert valid_unsigned(doc, "export")[0]


@pytest.mark.parametrize("direction", ["import", "export"])
def test_the_net_weight_is_the_goods_own_from_the_item_records_not_the_parcels(direction):
    rec = record(net_weight_kg="0.15")
    kind = "CEB621" if direction == "import" else "CEB603"
    doc = messages(direction, "9610", parties(), rec)[kind]
    qty = 2 if direction == "import" else 1
    gross = "0.4" if direction == "import" else "18.5"
    assert value(doc, ".//ceb:grossWeight") == gross
    assert value(doc, ".//ceb:netWeight") == str(round(0.15 * qty, 2))


def test_a_record_in_kilograms_gives_its_net_weight_and_one_without_stops_the_list_naming_it():
    by_kg = record(net_weight_kg=None, unit1="035", qty1_per_unit="0.9")
    doc = messages("import", "9610", parties(), by_kg)["CEB621"]
    assert value(doc, ".//ceb:netWeight") == "1.8"  # 2 tins of 0.9 kg
    order, way = import_docs("9610")
    with pytest.raises(MissingField) as raised:
        build.inventory_xml(env(), parties(), order, buyer_id(1), way, {"SCARF-1": record(net_weight_kg=None)})
    assert "net_weight_kg" in raised.value.detail and "SCARF-1" in raised.value.detail


def test_the_owner_is_the_producer_or_no_never_the_seller_code():
    doc = messages("export", "9610", parties(), record())["CEB603"]
    assert (value(doc, ".//ceb:ownerCode"), value(doc, ".//ceb:ownerName")) == ("NO", PROFILE["ebc_name"])
    p = parties(owner_code="3302960123", owner_name="Ningbo Golf Works Ltd")
    doc = messages("export", "9610", p, record())["CEB603"]
    assert (value(doc, ".//ceb:ownerCode"), value(doc, ".//ceb:ownerName")) == ("3302960123", "Ningbo Golf Works Ltd")


def test_the_lists_specification_is_the_item_records_not_the_goods_name():
    rec = record(gmodel="Radar launch monitor, model LM-2, 1 unit")
    for direction, kind in (("import", "CEB621"), ("export", "CEB603"), ("import", "CEB311")):
        doc = messages(direction, "9610", parties(), rec)[kind]
        assert value(doc, ".//ceb:gmodel") == "Radar launch monitor, model LM-2, 1 unit", kind
