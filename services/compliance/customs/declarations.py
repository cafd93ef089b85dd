"""Building the official messages XBM declares: the inventory list (CEB621 import / CEB603 export) and the
order (CEB311 import / CEB303 export). Pure: plain values in, XML bytes out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

CEB = "http://www.chinaport.gov.cn/ceb"
DS = "http://www.w3.org/2000/09/xmldsig#"
CHINA = ZoneInfo("Asia/Shanghai")
CNY = "142"
NSMAP = {"ceb": CEB}


@dataclass(frozen=True)
class Parties:
    """The customs profile, as the declaration needs it."""

    ebc_code: str
    ebc_name: str
    agent_code: str
    agent_name: str
    assure_code: str
    customs_code: str
    port_code: str
    trade_mode: str
    cop_code: str
    cop_name: str
    dxp_id: str
    traf_mode: str = "5"
    ems_no: str | None = None
    area_code: str | None = None


@dataclass(frozen=True)
class Envelope:
    guid: str
    cop_no: str
    at: datetime


def num(value: Any) -> str:
    """A customs decimal (N19,5): at most five places, no exponent."""
    d = Decimal(str(value)).quantize(Decimal("0.00001")).normalize()
    return format(d, "f")


def _add(parent: etree._Element, name: str, value: Any, ns: str = CEB) -> etree._Element:
    node = etree.SubElement(parent, f"{{{ns}}}{name}")
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


def _signature_slot(root: etree._Element) -> None:
    """The enveloped XML-DSig the customs client signs with the enterprise's SM2 key: XBM leaves the digest and
    signature values for that signer to fill."""
    sig = etree.SubElement(root, f"{{{DS}}}Signature", nsmap={"ds": DS})
    info = _add(sig, "SignedInfo", None, DS)
    _add(info, "CanonicalizationMethod", None, DS).set("Algorithm", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315")
    _add(info, "SignatureMethod", None, DS).set("Algorithm", "http://www.chinaport.gov.cn/2022/04/xmldsig#sm2-sm3")
    ref = _add(info, "Reference", None, DS)
    ref.set("URI", "")
    transforms = _add(ref, "Transforms", None, DS)
    _add(transforms, "Transform", None, DS).set("Algorithm", "http://www.w3.org/2000/09/xmldsig#enveloped-signature")
    _add(ref, "DigestMethod", None, DS).set("Algorithm", "http://www.chinaport.gov.cn/2022/04/xmldsig#sm3")
    _add(ref, "DigestValue", "", DS)
    _add(sig, "SignatureValue", "", DS)


def _root(message: str, env: Envelope) -> etree._Element:
    root = etree.Element(f"{{{CEB}}}{message}", nsmap=NSMAP)
    root.set("guid", env.guid)
    root.set("version", "1.0")
    return root


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _times(env: Envelope) -> tuple[str, str]:
    local = env.at.astimezone(CHINA)
    return local.strftime("%Y%m%d%H%M%S"), local.strftime("%Y%m%d")


def _text(value: str | None, limit: int) -> str | None:
    return None if value is None else value[:limit]


def inventory_xml(
    env: Envelope,
    p: Parties,
    order: dict[str, Any],
    buyer_id_number: str,
    waybill: dict[str, Any],
    records: dict[str, dict[str, Any]],
) -> bytes:
    """CEB621 (import) or CEB603 (export) for one order; ``records`` are the item records by item_no."""
    export = order["trade_direction"] == "export"
    root = _root("CEB603Message" if export else "CEB621Message", env)
    inventory = _add(root, "Inventory", None)
    head = _add(inventory, "InventoryHead", None)
    app_time, day = _times(env)
    first = records[order["items"][0]["item_no"]]
    country = order.get("country") or first["origin_country"]
    weight = num(waybill["weight_kg"])
    ebp_name = _text(order.get("ebp_name") or p.ebc_name, 100)
    ebc_name = _text(order.get("ebc_name") or p.ebc_name, 100)
    logistics_name = _text(waybill.get("logistics_name") or waybill["logistics_code"], 100)
    buyer = order["buyer"]
    if export:
        _fill(head, [
            ("guid", env.guid), ("appType", "1"), ("appTime", app_time), ("appStatus", "2"),
            ("customsCode", p.customs_code), ("ebpCode", order["ebp_code"]), ("ebpName", ebp_name),
            ("orderNo", order["order_no"]), ("logisticsCode", waybill["logistics_code"]),
            ("logisticsName", logistics_name), ("logisticsNo", waybill["logistics_no"][:32]),
            ("copNo", env.cop_no), ("ieFlag", "E"), ("portCode", p.port_code), ("ieDate", day),
            ("statisticsFlag", "A"), ("agentCode", p.agent_code), ("agentName", p.agent_name),
            ("ebcCode", order["ebc_code"]), ("ebcName", ebc_name), ("ownerCode", order["ebc_code"]),
            ("ownerName", ebc_name), ("emsNo", p.ems_no), ("tradeMode", p.trade_mode), ("trafMode", p.traf_mode),
            ("country", country), ("POD", p.port_code), ("freight", num(order["freight"])), ("fCurrency", CNY),
            ("fFlag", "3"), ("insuredFee", num(waybill["insured_fee"])), ("iCurrency", CNY), ("iFlag", "3"),
            ("wrapType", "2"), ("packNo", "1"), ("grossWeight", weight), ("netWeight", weight),
        ])  # fmt: skip
    else:
        _fill(head, [
            ("guid", env.guid), ("appType", "1"), ("appTime", app_time), ("appStatus", "2"),
            ("orderNo", order["order_no"]), ("ebpCode", order["ebp_code"]), ("ebpName", ebp_name),
            ("ebcCode", order["ebc_code"]), ("ebcName", ebc_name), ("logisticsNo", waybill["logistics_no"]),
            ("logisticsCode", waybill["logistics_code"]), ("logisticsName", logistics_name), ("copNo", env.cop_no),
            ("assureCode", p.assure_code), ("emsNo", p.ems_no), ("ieFlag", "I"), ("declTime", day),
            ("customsCode", p.customs_code), ("portCode", p.port_code), ("ieDate", day),
            ("buyerIdType", buyer.get("id_type", "1")), ("buyerIdNumber", buyer_id_number),
            ("buyerName", buyer["name"]), ("buyerTelephone", buyer["telephone"]),
            ("consigneeAddress", order["consignee"]["address"]), ("agentCode", p.agent_code),
            ("agentName", p.agent_name), ("areaCode", p.area_code), ("tradeMode", p.trade_mode),
            ("trafMode", p.traf_mode), ("country", country), ("freight", num(order["freight"])),
            ("insuredFee", num(waybill["insured_fee"])), ("currency", CNY), ("packNo", "1"),
            ("grossWeight", weight), ("netWeight", weight),
        ])  # fmt: skip
    for item in order["items"]:
        record = records[item["item_no"]]
        line = _add(inventory, "InventoryList", None)
        qty1 = Decimal(str(item["qty"])) * Decimal(str(record["qty1_per_unit"]))
        common_tail = [
            ("price", num(item["price"])),
            ("totalPrice", num(item["total"])),
        ]
        if export:
            _fill(line, [
                ("gnum", item["gnum"]), ("itemNo", item["item_no"]), ("itemName", item["name"][:250]),
                ("gcode", record["hs_code"]), ("gname", record["gname"]), ("gmodel", record["gmodel"]),
                ("barCode", ""), ("country", record["origin_country"]), ("currency", CNY),
                ("qty", num(item["qty"])), ("qty1", num(qty1)), ("unit", record["unit"]), ("unit1", record["unit1"]),
                *common_tail,
            ])  # fmt: skip
        else:
            _fill(line, [
                ("gnum", item["gnum"]), ("itemNo", item["item_no"]), ("itemName", item["name"][:250]),
                ("gcode", record["hs_code"]), ("gname", record["gname"]), ("gmodel", record["gmodel"]),
                ("country", record["origin_country"]), ("currency", CNY), ("qty", num(item["qty"])),
                ("unit", record["unit"]), ("qty1", num(qty1)), ("unit1", record["unit1"]), *common_tail,
            ])  # fmt: skip
    _base_transfer(root, p)
    if not export:
        _signature_slot(root)
    return _serialise(root)


def order_xml(env: Envelope, p: Parties, order: dict[str, Any], buyer_id_number: str) -> bytes:
    """CEB311 (import) or CEB303 (export) for one order."""
    export = order["trade_direction"] == "export"
    root = _root("CEB303Message" if export else "CEB311Message", env)
    node = _add(root, "Order", None)
    head = _add(node, "OrderHead", None)
    app_time, _ = _times(env)
    ebp_name = _text(order.get("ebp_name") or p.ebc_name, 100)
    ebc_name = _text(order.get("ebc_name") or p.ebc_name, 100)
    pairs: list[tuple[str, Any]] = [
        ("guid", env.guid), ("appType", "1"), ("appTime", app_time), ("appStatus", "2"),
        ("orderType", "E" if export else "I"), ("orderNo", order["order_no"]), ("ebpCode", order["ebp_code"]),
        ("ebpName", ebp_name), ("ebcCode", order["ebc_code"]), ("ebcName", ebc_name),
        ("goodsValue", num(order["goods_value"])), ("freight", num(order["freight"])),
    ]  # fmt: skip
    if export:
        pairs.append(("currency", CNY))
    else:
        buyer, consignee = order["buyer"], order["consignee"]
        pairs += [
            ("discount", num(order["discount"])), ("taxTotal", num(order["tax_total"])),
            ("acturalPaid", num(order["actual_paid"])), ("currency", CNY), ("buyerRegNo", buyer["reg_no"]),
            ("buyerName", buyer["name"]), ("buyerTelephone", buyer["telephone"]),
            ("buyerIdType", buyer.get("id_type", "1")), ("buyerIdNumber", buyer_id_number),
            ("payCode", order.get("pay_code")), ("payTransactionId", order.get("pay_transaction_id")),
            ("consignee", consignee["name"]), ("consigneeTelephone", consignee["telephone"]),
            ("consigneeAddress", consignee["address"]),
        ]  # fmt: skip
    _fill(head, pairs)
    for item in order["items"]:
        line = _add(node, "OrderList", None)
        if export:
            _fill(line, [
                ("gnum", item["gnum"]), ("itemNo", item["item_no"]), ("itemName", item["name"][:250]),
                ("unit", item.get("unit", "011")), ("currency", CNY), ("qty", num(item["qty"])),
                ("price", num(item["price"])), ("totalPrice", num(item["total"])),
            ])  # fmt: skip
        else:
            _fill(line, [
                ("gnum", item["gnum"]), ("itemNo", item["item_no"]), ("itemName", item["name"][:250]),
                ("gmodel", item["name"][:510]), ("unit", item.get("unit", "011")), ("qty", num(item["qty"])),
                ("price", num(item["price"])), ("totalPrice", num(item["total"])), ("currency", CNY),
                ("country", "142"),
            ])  # fmt: skip
    _base_transfer(root, p)
    return _serialise(root)
