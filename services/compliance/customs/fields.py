"""The fields of the inventory lists that depend on the customs mode, as data: which a mode must carry and which it
must leave out, each rule with the specification's (202205) own words, and the values the builders take from the
item records and the customs profile (net weight, producer). The builders (declarations.py) pass every list's
fields through :func:`by_mode`; the specification's field tables are the reference for the rules below."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shared.errors import Unprocessable

#: the legal unit "kilogram" (JGS-20 unit code 035): a legal quantity in it is the goods' net weight
KG = "035"
#: ownerCode when the producer is not registered with customs (CEB603: "未在海关登记的填 NO")
NO_OWNER = "NO"
#: buyerIdType on every import document (CEB311, CEB621, CEB623, CEB625: "1-身份证,2-其它。限定为身份证，填写“1”。")
BUYER_ID_TYPE = "1"


@dataclass(frozen=True)
class ModeFields:
    """What one mode asks of one node: ``required`` fields carry a value (a missing one stops the message, naming
    where it comes from); ``absent`` fields are left out."""

    required: frozenset[str] = frozenset()
    absent: frozenset[str] = frozenset()


def _rule(required: tuple[str, ...] = (), absent: tuple[str, ...] = ()) -> ModeFields:
    return ModeFields(frozenset(required), frozenset(absent))


#: by (direction, trade mode), then node (InventoryHead, InventoryList); a node not named has no mode-bound field.
#: CEB311 and CEB303 (the orders) and CEB403 (the receipt of payment) have none: their ebpName for 9810 is the
#: overseas warehouse's name (CEB303/CEB403/CEB603 "电商平台/海外仓名称"), see declarations.ebp_name.
MODE_FIELDS: dict[tuple[str, str], dict[str, ModeFields]] = {
    # CEB621 table 3-31:
    #   emsNo       "保税模式必填，填写区内仓储企业在海关备案的账册编号"
    #   areaCode    "保税模式必填，区内仓储企业的海关注册登记编号。"   areaName  "保税模式必填 …"
    #   trafNo      "直购进口必填。… 保税进口免填。"   voyageNo  "直购进口必填。… 保税进口免填。"
    #   billNo      "直购进口必填。货物提单或运单的编号，保税进口免填。"
    #   itemRecordNo (list) "保税进口必填"
    ("import", "9610"): {
        "InventoryHead": _rule(("trafNo", "voyageNo", "billNo"), ("emsNo", "areaCode", "areaName")),
        "InventoryList": _rule((), ("itemRecordNo",)),
    },
    ("import", "1210"): {
        "InventoryHead": _rule(("emsNo", "areaCode", "areaName"), ("trafNo", "voyageNo", "billNo")),
        "InventoryList": _rule(("itemRecordNo",)),
    },
    # CEB603 table 2-38:
    #   iacCode     "特殊区域内仓储企业的海关注册登记编号或统一社会信用代码，特殊区域出口模式必填"
    #   iacName     "特殊区域内仓储企业的登记名称，特殊区域出口模式必填"
    #   emsNo       "特殊区域出口模式必须填写具体账号。"
    #   itemRecordNo (list) "保税出口模式必填"
    #   tradeMode   "一般出口填 9610，特殊区域出口填 1210，B2B 出口填 9710，出口海关仓填 9810"
    ("export", "9610"): {
        "InventoryHead": _rule((), ("iacCode", "iacName", "emsNo")),
        "InventoryList": _rule((), ("itemRecordNo",)),
    },
    ("export", "9710"): {
        "InventoryHead": _rule((), ("iacCode", "iacName", "emsNo")),
        "InventoryList": _rule((), ("itemRecordNo",)),
    },
    ("export", "9810"): {
        "InventoryHead": _rule((), ("iacCode", "iacName", "emsNo")),
        "InventoryList": _rule((), ("itemRecordNo",)),
    },
    ("export", "1210"): {
        "InventoryHead": _rule(("iacCode", "iacName", "emsNo")),
        "InventoryList": _rule(("itemRecordNo",)),
    },
}

#: where each mode-bound value comes from: what the seller (or the carrier) gives when one is missing
SOURCES = {
    "emsNo": "the customs profile's ems_no (the bonded account book)",
    "areaCode": "the customs profile's area_code",
    "areaName": "the customs profile's area_name",
    "iacCode": "the customs profile's iac_code (the special area's warehouse enterprise)",
    "iacName": "the customs profile's iac_name",
    "trafNo": "the waybill's traf_no (the flight or vessel)",
    "voyageNo": "the waybill's voyage_no",
    "billNo": "the waybill's bill_no (the master bill of lading or air waybill)",
    "itemRecordNo": "the item record's item_record_no",
}


#: the waybill's keys for the transport a direct import declares (CEB621 trafNo, voyageNo, billNo)
WAYBILL_TRANSPORT = {"trafNo": "traf_no", "voyageNo": "voyage_no", "billNo": "bill_no"}


def transport_missing(mode: str, waybill: dict[str, Any]) -> list[str]:
    """The waybill's transport keys an import of ``mode`` requires and the waybill lacks (9610: "直购进口必填")."""
    required = MODE_FIELDS.get(("import", mode), {}).get("InventoryHead", ModeFields()).required
    return [key for field, key in WAYBILL_TRANSPORT.items() if field in required and not waybill.get(key)]


class MissingField(Unprocessable):
    """A field the order's mode requires has no value: the message waits until it is given."""


def by_mode(
    direction: str, mode: str, node: str, pairs: list[tuple[str, Any]], where: str = ""
) -> list[tuple[str, Any]]:
    """``pairs`` as the mode declares them: the fields it leaves out emptied, the ones it requires checked."""
    rule = MODE_FIELDS.get((direction, mode), {}).get(node, ModeFields())
    missing = [name for name, value in pairs if name in rule.required and value in (None, "")]
    if missing:
        needs = "; ".join(f"{name} from {SOURCES.get(name, name)}" for name in missing)
        raise MissingField(f"a {mode} {direction} {node}{where} needs {needs}", loc=list[str | int](missing))
    return [(name, None if name in rule.absent else value) for name, value in pairs]


def net_weight(items: list[dict[str, Any]], records: dict[str, dict[str, Any]]) -> Decimal:
    """The goods' own weight (netWeight): each line's quantity × its item record's net weight per unit; a record
    without one whose legal unit is the kilogram gives it as its legal quantity per unit."""
    total, missing = Decimal(0), []
    for item in items:
        record = records[item["item_no"]]
        per = record.get("net_weight_kg")
        if per is None and record.get("unit1") == KG:
            per = record["qty1_per_unit"]
        if per is None:
            missing.append(str(item["item_no"]))
            continue
        total += Decimal(str(item["qty"])) * Decimal(str(per))
    if missing:
        raise MissingField(
            f"net_weight_kg: the item record of {', '.join(sorted(set(missing)))} gives no net weight per unit; the "
            "inventory list's netWeight is the goods' own weight, not the parcel's (put it on the item record)",
            loc=["item_records", "net_weight_kg"],
        )
    return total


def owner(owner_code: str | None, owner_name: str | None, ebc_name: str | None) -> tuple[str, str | None]:
    """The producer (ownerCode, ownerName): the profile's, else "NO" and the seller's name."""
    return owner_code or NO_OWNER, owner_name or ebc_name
