"""Building the messages of an export return (spec 202205, 2.17 and 2.19): the return application CEB213
(退货申请单, ``InvtRefund``: head and the returned lines, answered by CEB214) and the tally of the goods back at
the supervised site CEB215 (退货理货明细单, ``InvtRefundDetail``, answered by CEB216). Pure: plain values in, an
unsigned lxml tree out, each field in the export XSD's order."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lxml import etree

from services.compliance.customs.declarations import (  # the builders' own element helpers
    CEB,
    CHINA,
    NSMAP,
    Envelope,
    Parties,
    _add,
    _fill,
    num,
)

#: the return's customs mode by the original list's (spec 2.17.4, tradeMode): a general export (9610) comes back
#: as 9661, one from a special area (1210, 1239) as 1261
RETURN_TRADE_MODES = {"9610": "9661", "1210": "1261", "1239": "1261"}
#: an export return enters China: ieFlag I (spec: 出口退货填写I)
IE_FLAG = "I"


def return_trade_mode(original: str | None) -> str:
    return RETURN_TRADE_MODES.get(original or "9610", "9661")


@dataclass(frozen=True)
class Transport:
    """How the returned goods come back: the (return) waybill and its company, the master bill (or the waybill
    number when there is none), the transport, the port of entry and the country they come from."""

    logistics_code: str
    logistics_name: str
    logistics_no: str
    bill_no: str
    traf_mode: str
    traf_name: str
    voyage_no: str
    port_code: str
    country: str


@dataclass(frozen=True)
class Returned:
    """One returned line as the original list declared it, and how many come back."""

    gnum: int
    gcode: str
    gname: str
    gmodel: str
    qty: Decimal
    unit: str
    qty1: Decimal
    unit1: str


@dataclass(frozen=True)
class Tally:
    """The supervised site's operator, and where the goods lie."""

    operator_code: str
    operator_name: str
    location: str | None = None
    note: str | None = None


def _root(message: str, env: Envelope) -> etree._Element:
    root = etree.Element(f"{{{CEB}}}{message}", nsmap=NSMAP)
    root.set("guid", env.guid)
    root.set("version", "1.0")
    return root


def _base_transfer(root: etree._Element, p: Parties) -> None:
    bt = _add(root, "BaseTransfer", None)
    _fill(bt, [("copCode", p.cop_code), ("copName", p.cop_name), ("dxpMode", "DXP"), ("dxpId", p.dxp_id)])


def _app_time(env: Envelope) -> str:
    return env.at.astimezone(CHINA).strftime("%Y%m%d%H%M%S")


def refund_xml(
    env: Envelope,
    p: Parties,
    order: dict[str, Any],
    invt_no: str,
    pre_no: str | None,
    trade_mode: str,
    transport: Transport,
    lines: list[Returned],
    reason: str,
) -> etree._Element:
    """CEB213: the return of a released export list (``invt_no``), by line and quantity. ``env.cop_no`` is the
    return's own number (coElNo)."""
    root = _root("CEB213Message", env)
    node = _add(root, "InvtRefund", None)
    head = _add(node, "InvtRefundHead", None)
    ebc_name = (order.get("ebc_name") or p.ebc_name)[:100]
    _fill(head, [
        ("guid", env.guid), ("appType", env.app_type), ("appTime", _app_time(env)), ("appStatus", "2"),
        ("customsCode", p.customs_code), ("ebpCode", order["ebp_code"]),
        ("ebpName", (order.get("ebp_name") or p.ebc_name)[:100]), ("ebcCode", order["ebc_code"]),
        ("ebcName", ebc_name), ("logisticsNo", transport.logistics_no[:80]),
        ("logisticsCode", transport.logistics_code), ("logisticsName", transport.logistics_name[:100]),
        ("coElNo", env.cop_no), ("preNo", pre_no), ("invtNo", invt_no), ("tradeMode", trade_mode),
        ("agentCode", p.agent_code), ("agentName", p.agent_name), ("billNo", transport.bill_no[:37]),
        ("ieFlag", IE_FLAG), ("trafMode", transport.traf_mode), ("trafName", transport.traf_name[:100]),
        ("portCode", transport.port_code), ("reason", reason[:500]), ("country", transport.country),
        ("voyageNo", transport.voyage_no[:32]),
    ])  # fmt: skip
    for line in lines:
        _fill(_add(node, "InvtRefundList", None), [
            ("gnum", line.gnum), ("gcode", line.gcode), ("gname", line.gname[:250]), ("gmodel", line.gmodel[:250]),
            ("qty", num(line.qty)), ("qty1", num(line.qty1)), ("unit", line.unit), ("unit1", line.unit1),
        ])  # fmt: skip
    _base_transfer(root, p)
    return root


def tally_xml(env: Envelope, p: Parties, invt_no: str | None, transport: Transport, tally: Tally) -> etree._Element:
    """CEB215: the goods of an export return tallied back at the supervised site (``env.cop_no``: the tally's
    own number, coElNo)."""
    root = _root("CEB215Message", env)
    node = _add(root, "InvtRefundDetail", None)
    _fill(node, [
        ("guid", env.guid), ("appType", env.app_type), ("appTime", _app_time(env)), ("appStatus", "2"),
        ("customsCode", p.customs_code), ("operatorCode", tally.operator_code),
        ("operatorName", tally.operator_name[:100]), ("logisticsCode", transport.logistics_code),
        ("logisticsName", transport.logistics_name[:100]), ("logisticsNo", transport.logistics_no[:80]),
        ("invtNo", invt_no), ("coElNo", env.cop_no), ("billNo", transport.bill_no[:37]), ("ieFlag", IE_FLAG),
        ("trafMode", transport.traf_mode), ("trafName", transport.traf_name[:100]),
        ("voyageNo", transport.voyage_no[:32]), ("location", tally.location[:250] if tally.location else None),
        ("note", tally.note[:250] if tally.note else None),
    ])  # fmt: skip
    _base_transfer(root, p)
    return root
