"""Building the official messages XBM sends (spec 202205): export CEB303 order, CEB403 receipt of payment, CEB603
inventory list, CEB605 withdrawal, CEB701 summary; import CEB311 order, CEB621 inventory list, CEB623 withdrawal,
CEB625 return. Pure: plain values in, an unsigned lxml tree out (``serialise`` makes bytes of it).

Over 400 lines on purpose: every message XBM sends customs is built here from the same private XML helpers,
each builder a list of fields in its XSD's order (the comment below says more)."""

# One module, over 400 lines: every message XBM sends customs is built here from the same private XML helpers
# (``_root``, ``_fill``, ``_times``, the parties and envelope), each builder a list of fields in its XSD's order.

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

from services.compliance.customs.codes import country_code, currency_code
from services.compliance.customs.fields import BUYER_ID_TYPE, MissingField, by_mode, net_weight, owner
from services.compliance.customs.parties import Parties
from shared.errors import Unprocessable

CEB = "http://www.chinaport.gov.cn/ceb"
CHINA = ZoneInfo("Asia/Shanghai")
CNY = "142"
CHINA_COUNTRY = "142"
NSMAP = {"ceb": CEB}
#: the spec's value for "no bar code" (barCode is required on the export inventory list)
NO_BAR_CODE = "无"
#: orderType on CEB303 by export mode: E B2C, B B2B (9710), W overseas warehouse (9810)
ORDER_TYPES = {"9610": "E", "1210": "E", "9710": "B", "9810": "W"}
EXPORT_LOGISTICS_NO = 32


@dataclass(frozen=True)
class Envelope:
    guid: str
    cop_no: str
    at: datetime
    #: appType: 1 new; 2 change, when a refused declaration is declared again (docs/redeclaration.md)
    app_type: str = "1"


def num(value: Any) -> str:
    """A customs decimal (N19,5): at most five places, no exponent."""
    d = Decimal(str(value)).quantize(Decimal("0.00001")).normalize()
    return format(d, "f")


def _add(parent: etree._Element, name: str, value: Any) -> etree._Element:
    node = etree.SubElement(parent, f"{{{CEB}}}{name}")
    if value is not None:
        node.text = str(value)
    return node


def _fill(parent: etree._Element, pairs: list[tuple[str, Any]]) -> None:
    for name, value in pairs:
        if value is not None:
            _add(parent, name, value)


def _base_transfer(root: etree._Element, p: Parties) -> None:
    bt = _add(root, "BaseTransfer", None)
    _fill(bt, [("copCode", p.cop_code), ("copName", p.cop_name), ("dxpMode", "DXP"), ("dxpId", p.dxp_id)])


def _root(message: str, env: Envelope) -> etree._Element:
    root = etree.Element(f"{{{CEB}}}{message}", nsmap=NSMAP)
    root.set("guid", env.guid)
    root.set("version", "1.0")
    return root


def serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _times(env: Envelope) -> tuple[str, str]:
    local = env.at.astimezone(CHINA)
    return local.strftime("%Y%m%d%H%M%S"), local.strftime("%Y%m%d")


def _text(value: str | None, limit: int) -> str | None:
    """Names customs bounds (e.g. ebpName C..100): XBM's own inputs are bounded to fit already."""
    return None if value is None else value[:limit]


def trade_mode(order: dict[str, Any], p: Parties) -> str:
    return str(order.get("trade_mode") or p.trade_mode)


def ebp_name(order: dict[str, Any], p: Parties) -> str | None:
    """The platform's name; for an overseas-warehouse order (9810) the spec asks the warehouse's name here."""
    if order.get("trade_direction") == "export" and trade_mode(order, p) == "9810" and order.get("overseas_warehouse"):
        return _text(order["overseas_warehouse"], 100)
    return _text(order.get("ebp_name") or p.ebc_name, 100)


def statistics_flag(order: dict[str, Any], p: Parties) -> str:
    return str(order.get("statistics_flag") or p.statistics_flag or "A")


def destination(order: dict[str, Any], waybill: dict[str, Any] | None = None) -> str | None:
    """The ISO country an export goes to: the order's, else the consignee's or the buyer's, else the waybill's."""
    waybill = waybill or {}
    for value in (
        order.get("destination_country"),
        (order.get("consignee") or {}).get("country"),
        waybill.get("destination_country"),
        (order.get("buyer") or {}).get("country"),
    ):
        if value:
            return str(value)
    return None


def _destination_code(order: dict[str, Any], waybill: dict[str, Any] | None) -> str:
    if order.get("country"):
        return str(order["country"])
    iso = destination(order, waybill)
    if iso is None:
        raise Unprocessable("destination_country: an export order needs the country it goes to", loc=["destination"])
    return country_code(iso, "destination_country")


def _export_logistics_no(waybill: dict[str, Any]) -> str:
    number = str(waybill["logistics_no"])
    if len(number) > EXPORT_LOGISTICS_NO:
        raise Unprocessable(
            f"logistics_no: {len(number)} characters; the export inventory list takes at most {EXPORT_LOGISTICS_NO} "
            "and a waybill number is never cut",
            loc=["logistics_no"],
        )
    return number


# --- orders ---------------------------------------------------------------------------------------------------


def order_xml(
    env: Envelope,
    p: Parties,
    order: dict[str, Any],
    buyer_id_number: str,
    records: dict[str, dict[str, Any]] | None = None,
) -> etree._Element:
    """CEB311 (import) or CEB303 (export) for one order; an import's lines take their specification (gmodel) and
    country of origin from ``records``, the item records by item_no."""
    export = order["trade_direction"] == "export"
    root = _root("CEB303Message" if export else "CEB311Message", env)
    node = _add(root, "Order", None)
    head = _add(node, "OrderHead", None)
    app_time, _ = _times(env)
    platform = ebp_name(order, p)
    ebc_name = _text(order.get("ebc_name") or p.ebc_name, 100)
    currency = currency_code(order["currency"]) if export else CNY
    order_type = ORDER_TYPES[trade_mode(order, p)] if export else "I"
    pairs: list[tuple[str, Any]] = [
        ("guid", env.guid), ("appType", env.app_type), ("appTime", app_time), ("appStatus", "2"),
        ("orderType", order_type), ("orderNo", order["order_no"]), ("ebpCode", order["ebp_code"]),
        ("ebpName", platform), ("ebcCode", order["ebc_code"]), ("ebcName", ebc_name),
        ("goodsValue", num(order["goods_value"])), ("freight", num(order["freight"])),
    ]  # fmt: skip
    if export:
        pairs.append(("currency", currency))
    else:
        buyer, consignee = order["buyer"], order["consignee"]
        pairs += [
            ("discount", num(order["discount"])), ("taxTotal", num(order["tax_total"])),
            ("acturalPaid", num(order["actual_paid"])), ("currency", CNY), ("buyerRegNo", buyer["reg_no"]),
            ("buyerName", buyer["name"]), ("buyerTelephone", buyer["telephone"]),
            ("buyerIdType", BUYER_ID_TYPE), ("buyerIdNumber", buyer_id_number),
            ("payCode", order.get("pay_code")), ("payTransactionId", order.get("pay_transaction_id")),
            ("consignee", consignee["name"]), ("consigneeTelephone", consignee["telephone"]),
            ("consigneeAddress", consignee["address"]),
        ]  # fmt: skip
    _fill(head, pairs)
    for item in order["items"]:
        line = _add(node, "OrderList", None)
        if export:
            _fill(line, [
                ("gnum", item["gnum"]), ("itemNo", customs_item_no(item)), ("itemName", item["name"][:250]),
                ("barCode", item.get("bar_code")), ("unit", item.get("unit", "011")), ("currency", currency),
                ("qty", num(item["qty"])), ("price", num(item["price"])), ("totalPrice", num(item["total"])),
            ])  # fmt: skip
        else:
            record = _record(records, item)
            _fill(line, [
                ("gnum", item["gnum"]), ("itemNo", customs_item_no(item)), ("itemName", item["name"][:250]),
                ("gmodel", record["gmodel"]), ("unit", item.get("unit", "011")), ("qty", num(item["qty"])),
                ("price", num(item["price"])), ("totalPrice", num(item["total"])), ("currency", CNY),
                ("country", record["origin_country"]),
            ])  # fmt: skip
    _base_transfer(root, p)
    return root


def payment_receipt_xml(
    env: Envelope, p: Parties, order: dict[str, Any], payment: dict[str, Any], institution: str | None = None
) -> etree._Element:
    """CEB403: the seller's receipt of the buyer's payment for an export order, in the amounts' own currency.
    payName is the payment institution's name: the payment document's, else ``institution`` (the registered
    payment institution's name)."""
    pay_name = payment.get("pay_name") or institution
    if not pay_name:
        raise MissingField(
            f"payName: the payment names no payment institution's name and {payment['pay_code']} is not registered; "
            "register it (payment institutions) or send pay_name on the payment",
            loc=["payment", "pay_name"],
        )
    root = _root("CEB403Message", env)
    node = _add(root, "Receipts", None)
    app_time, _ = _times(env)
    paid_at = datetime.fromisoformat(str(payment["paid_at"]).replace("Z", "+00:00")).astimezone(CHINA)
    _fill(node, [
        ("guid", env.guid), ("appType", env.app_type), ("appTime", app_time), ("appStatus", "2"),
        ("ebpCode", order["ebp_code"]), ("ebpName", ebp_name(order, p)),
        ("ebcCode", order["ebc_code"]), ("ebcName", _text(order.get("ebc_name") or p.ebc_name, 100)),
        ("orderNo", order["order_no"]), ("payCode", payment["pay_code"]), ("payName", _text(pay_name, 100)),
        ("payNo", payment["pay_transaction_id"]), ("charge", num(payment["amount_paid"])),
        ("currency", currency_code(payment["currency"])), ("accountingDate", paid_at.strftime("%Y%m%d%H%M%S")),
    ])  # fmt: skip
    _base_transfer(root, p)
    return root


# --- inventory lists ------------------------------------------------------------------------------------------


def customs_item_no(item: dict[str, Any]) -> str:
    """The customs item number a line declares under (its item record's), else its SKU."""
    return str(item.get("customs_item_no") or item["item_no"])


def _record(records: dict[str, dict[str, Any]] | None, item: dict[str, Any]) -> dict[str, Any]:
    record = (records or {}).get(item["item_no"])
    if record is None:
        raise MissingField(f"item {item['item_no']} has no item record", loc=["items", str(item["item_no"])])
    return record


def _bar_code(item: dict[str, Any], record: dict[str, Any]) -> str:
    return str(item.get("bar_code") or record.get("bar_code") or NO_BAR_CODE)


def inventory_xml(
    env: Envelope,
    p: Parties,
    order: dict[str, Any],
    buyer_id_number: str,
    waybill: dict[str, Any],
    records: dict[str, dict[str, Any]],
) -> etree._Element:
    """CEB621 (import) or CEB603 (export) for one order; ``records`` are the item records by item_no."""
    export = order["trade_direction"] == "export"
    mode = trade_mode(order, p)
    root = _root("CEB603Message" if export else "CEB621Message", env)
    inventory = _add(root, "Inventory", None)
    head = _add(inventory, "InventoryHead", None)
    app_time, day = _times(env)
    weight, net = num(waybill["weight_kg"]), num(net_weight(order["items"], records))
    platform = ebp_name(order, p)
    ebc_name = _text(order.get("ebc_name") or p.ebc_name, 100)
    logistics_name = _text(waybill.get("logistics_name") or waybill["logistics_code"], 100)
    buyer = order["buyer"]
    if export:
        currency = currency_code(order["currency"])
        country = _destination_code(order, waybill)
        pod = waybill.get("pod")
        if not pod:
            raise Unprocessable("pod: an export waybill needs the port of destination", loc=["waybill", "pod"])
        owner_code, owner_name = owner(p.owner_code, p.owner_name, ebc_name)
        _fill(head, by_mode("export", mode, "InventoryHead", [
            ("guid", env.guid), ("appType", env.app_type), ("appTime", app_time), ("appStatus", "2"),
            ("customsCode", p.customs_code), ("ebpCode", order["ebp_code"]), ("ebpName", platform),
            ("orderNo", order["order_no"]), ("logisticsCode", waybill["logistics_code"]),
            ("logisticsName", logistics_name), ("logisticsNo", _export_logistics_no(waybill)),
            ("copNo", env.cop_no), ("ieFlag", "E"), ("portCode", p.port_code), ("ieDate", day),
            ("statisticsFlag", statistics_flag(order, p)), ("agentCode", p.agent_code), ("agentName", p.agent_name),
            ("ebcCode", order["ebc_code"]), ("ebcName", ebc_name), ("ownerCode", owner_code),
            ("ownerName", owner_name), ("iacCode", p.iac_code), ("iacName", p.iac_name), ("emsNo", p.ems_no),
            ("tradeMode", mode), ("trafMode", p.traf_mode),
            ("trafName", _text(waybill.get("traf_no"), 100)), ("voyageNo", waybill.get("voyage_no")),
            ("billNo", waybill.get("bill_no")), ("country", country), ("POD", pod),
            ("freight", num(order["freight"])), ("fCurrency", currency),
            ("fFlag", "3"), ("insuredFee", num(waybill["insured_fee"])), ("iCurrency", currency), ("iFlag", "3"),
            ("wrapType", "2"), ("packNo", "1"), ("grossWeight", weight), ("netWeight", net),
        ]))  # fmt: skip
    else:
        first = records[order["items"][0]["item_no"]]
        country = CHINA_COUNTRY if mode == "1210" else order.get("country") or first["origin_country"]
        _fill(head, by_mode("import", mode, "InventoryHead", [
            ("guid", env.guid), ("appType", env.app_type), ("appTime", app_time), ("appStatus", "2"),
            ("orderNo", order["order_no"]), ("ebpCode", order["ebp_code"]), ("ebpName", platform),
            ("ebcCode", order["ebc_code"]), ("ebcName", ebc_name), ("logisticsNo", waybill["logistics_no"]),
            ("logisticsCode", waybill["logistics_code"]), ("logisticsName", logistics_name), ("copNo", env.cop_no),
            ("assureCode", p.assure_code), ("emsNo", p.ems_no), ("ieFlag", "I"), ("declTime", day),
            ("customsCode", p.customs_code), ("portCode", p.port_code), ("ieDate", day),
            ("buyerIdType", BUYER_ID_TYPE), ("buyerIdNumber", buyer_id_number),
            ("buyerName", buyer["name"]), ("buyerTelephone", buyer["telephone"]),
            ("consigneeAddress", order["consignee"]["address"]), ("agentCode", p.agent_code),
            ("agentName", p.agent_name), ("areaCode", p.area_code), ("areaName", p.area_name), ("tradeMode", mode),
            ("trafMode", p.traf_mode), ("trafNo", _text(waybill.get("traf_no"), 100)),
            ("voyageNo", waybill.get("voyage_no")), ("billNo", waybill.get("bill_no")), ("country", country),
            ("freight", num(order["freight"])),
            ("insuredFee", num(waybill["insured_fee"])), ("currency", CNY), ("packNo", "1"),
            ("grossWeight", weight), ("netWeight", net),
        ]))  # fmt: skip
    direction = "export" if export else "import"
    for item in order["items"]:
        record = records[item["item_no"]]
        line = _add(inventory, "InventoryList", None)
        qty1 = Decimal(str(item["qty"])) * Decimal(str(record["qty1_per_unit"]))
        at = f" line {item['gnum']} ({item['item_no']})"
        if export:
            _fill(line, by_mode(direction, mode, "InventoryList", [
                ("gnum", item["gnum"]), ("itemNo", customs_item_no(item)),
                ("itemRecordNo", record.get("item_record_no")), ("itemName", item["name"][:250]),
                ("gcode", record["hs_code"]), ("gname", record["gname"]), ("gmodel", record["gmodel"]),
                ("barCode", _bar_code(item, record)), ("country", country), ("currency", currency),
                ("qty", num(item["qty"])), ("qty1", num(qty1)), ("unit", record["unit"]), ("unit1", record["unit1"]),
                ("price", num(item["price"])), ("totalPrice", num(item["total"])),
            ], at))  # fmt: skip
        else:
            _fill(line, by_mode(direction, mode, "InventoryList", [
                ("gnum", item["gnum"]), ("itemRecordNo", record.get("item_record_no")),
                ("itemNo", customs_item_no(item)), ("itemName", item["name"][:250]),
                ("gcode", record["hs_code"]), ("gname", record["gname"]), ("gmodel", record["gmodel"]),
                ("barCode", record.get("bar_code")), ("country", record["origin_country"]), ("currency", CNY),
                ("qty", num(item["qty"])), ("unit", record["unit"]), ("qty1", num(qty1)), ("unit1", record["unit1"]),
                ("price", num(item["price"])), ("totalPrice", num(item["total"])),
            ], at))  # fmt: skip
    _base_transfer(root, p)
    return root


# --- withdrawal, return, summary ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Declared:
    """What customs answered about a declared list: its numbers (the withdrawal and the return name them)."""

    cop_no: str
    pre_no: str | None
    invt_no: str | None


class NotNumbered(Unprocessable):
    """The message names the inventory list by customs' number, and customs has not given it yet: it waits for
    the receipt that does (not an error of the seller's)."""


def _invt_no(declared: Declared) -> str:
    if not declared.invt_no:
        raise NotNumbered(
            "customs has not yet given this inventory list its number (invtNo); withdraw it once a receipt has",
            loc=["invt_no"],
        )
    return declared.invt_no


@dataclass(frozen=True)
class OnFile:
    """A declared list as its withdrawal and its return name it: the order and waybill as stored, the buyer's ID
    number in the clear, and customs' numbers for the list."""

    order: dict[str, Any]
    buyer_id_number: str
    waybill: dict[str, Any]
    declared: Declared


def withdrawal_xml(env: Envelope, p: Parties, listed: OnFile, reason: str) -> etree._Element:
    """CEB605 (export) or CEB623 (import): withdraw a declared inventory list."""
    order, declared = listed.order, listed.declared
    export = order["trade_direction"] == "export"
    root = _root("CEB605Message" if export else "CEB623Message", env)
    node = _add(root, "InvtCancel", None)
    if export:
        app_time, _ = _times(env)
        ebc_name = _text(order.get("ebc_name") or p.ebc_name, 100)
        _fill(node, [
            ("guid", env.guid), ("appType", "1"), ("appTime", app_time), ("appStatus", "2"),
            ("customsCode", p.customs_code), ("copNo", declared.cop_no), ("preNo", declared.pre_no),
            ("invtNo", _invt_no(declared)), ("reason", reason[:1000]), ("agentCode", p.agent_code),
            ("agentName", p.agent_name), ("ebcCode", order["ebc_code"]), ("ebcName", ebc_name),
        ])  # fmt: skip
    else:
        _fill(node, _import_head(env, p, listed, declared.cop_no, reason))
    _base_transfer(root, p)
    return root


def _import_head(env: Envelope, p: Parties, listed: OnFile, cop_no: str, reason: str) -> list[tuple[str, Any]]:
    """The head an import withdrawal (CEB623 InvtCancel) and a return (CEB625 InvtRefundHead) share, in the
    XSD's order: the declared list's parties and numbers, the buyer, the agent and the reason. ``cop_no`` is
    the list's own for a withdrawal and the return's for a return."""
    app_time, _ = _times(env)
    order, waybill, declared, buyer_id_number = listed.order, listed.waybill, listed.declared, listed.buyer_id_number
    buyer = order["buyer"]
    return [
        ("guid", env.guid), ("appType", "1"), ("appTime", app_time), ("appStatus", "2"),
        ("customsCode", p.customs_code), ("orderNo", order["order_no"]), ("ebpCode", order["ebp_code"]),
        ("ebpName", _text(order.get("ebp_name") or p.ebc_name, 100)), ("ebcCode", order["ebc_code"]),
        ("ebcName", _text(order.get("ebc_name") or p.ebc_name, 100)), ("logisticsNo", waybill["logistics_no"]),
        ("logisticsCode", waybill["logistics_code"]),
        ("logisticsName", _text(waybill.get("logistics_name") or waybill["logistics_code"], 100)),
        ("copNo", cop_no), ("preNo", declared.pre_no), ("invtNo", _invt_no(declared)),
        ("buyerIdType", BUYER_ID_TYPE), ("buyerIdNumber", buyer_id_number),
        ("buyerName", buyer["name"]), ("buyerTelephone", buyer["telephone"]), ("agentCode", p.agent_code),
        ("agentName", p.agent_name), ("reason", reason[:1000]),
    ]  # fmt: skip


def return_xml(
    env: Envelope,
    p: Parties,
    listed: OnFile,
    lines: list[tuple[int, Decimal]],
    records: dict[str, dict[str, Any]],
    reason: str,
) -> etree._Element:
    """CEB625: an import return by line (gnum) and quantity."""
    root = _root("CEB625Message", env)
    node = _add(root, "InvtRefund", None)
    head = _add(node, "InvtRefundHead", None)
    _fill(head, _import_head(env, p, listed, env.cop_no, reason))
    by_gnum = {int(item["gnum"]): item for item in listed.order["items"]}
    for gnum, qty in lines:
        item = by_gnum[gnum]
        record = records[item["item_no"]]
        line = _add(node, "InvtRefundList", None)
        _fill(line, [("gnum", gnum), ("gcode", record["hs_code"]), ("gname", record["gname"]), ("qty", num(qty)),
                     ("unit", record["unit"])])  # fmt: skip
    _base_transfer(root, p)
    return root


def summary_xml(env: Envelope, p: Parties, invt_nos: list[str]) -> etree._Element:
    """CEB701: a month's released statisticsFlag-B export inventory lists, summarised into one export declaration.
    The lists go in the body and no startTime/endTime is sent: with a time range customs ignores the body and
    summarises every list of the range, withdrawn and refused ones too."""
    root = _root("CEB701Message", env)
    node = _add(root, "SummaryApply", None)
    head = _add(node, "SummaryApplyHead", None)
    app_time, _ = _times(env)
    _fill(head, [
        ("guid", env.guid), ("appType", "1"), ("appTime", app_time), ("appStatus", "2"),
        ("customsCode", p.customs_code), ("copNo", env.cop_no), ("agentCode", p.agent_code),
        ("agentName", p.agent_name), ("ebcCode", p.ebc_code), ("ebcName", p.ebc_name),
        ("declAgentCode", p.agent_code), ("declAgentName", p.agent_name),
        ("summaryFlag", "1"), ("itemNameFlag", "1"), ("msgCount", "1"), ("msgSeqNo", "1"),
    ])  # fmt: skip
    for invt_no in invt_nos:
        _add(_add(node, "SummaryApplyList", None), "invtNo", invt_no)
    _base_transfer(root, p)
    return root


@dataclass(frozen=True)
class Listed:
    """One declared export list a master bill carries: its waybill number, customs' list number, its weight."""

    logistics_no: str
    invt_no: str
    weight_kg: Decimal


def waybill_link_xml(
    env: Envelope,
    p: Parties,
    logistics_code: str,
    logistics_name: str,
    bill_no: str,
    traf_name: str,
    voyage_no: str,
    lists: list[Listed],
) -> etree._Element:
    """CEB607: the export lists that left on one master bill and voyage, when the lists did not name them."""
    root = _root("CEB607Message", env)
    node = _add(root, "WayBill", None)
    head = _add(node, "WayBillHead", None)
    app_time, _ = _times(env)
    weight = sum((item.weight_kg for item in lists), Decimal(0))
    _fill(head, [
        ("guid", env.guid), ("appType", "1"), ("appTime", app_time), ("appStatus", "2"),
        ("customsCode", p.customs_code), ("copNo", env.cop_no), ("agentCode", p.agent_code),
        ("agentName", p.agent_name), ("trafMode", p.traf_mode), ("trafName", traf_name[:100]),
        ("voyageNo", voyage_no[:32]), ("billNo", bill_no[:37]), ("grossWeight", num(weight)),
        ("logisticsCode", logistics_code), ("logisticsName", logistics_name[:100]), ("msgCount", "1"),
        ("msgSeqNo", "1"),
    ])  # fmt: skip
    for gnum, item in enumerate(lists, start=1):
        line = _add(node, "WayBillList", None)
        _fill(line, [("gnum", gnum), ("totalPackageNo", "1"), ("logisticsNo", item.logistics_no),
                     ("invtNo", item.invt_no)])  # fmt: skip
    _base_transfer(root, p)
    return root
