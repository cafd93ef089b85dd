"""What an inbound customs message says, as plain values: canonical documents (CEB311/411/511) or receipts
(CEB312/412/512/622/900). Pure: no database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo

from services.compliance.customs.xmlsafe import children, fields, head, local, parse
from shared.errors import BadRequest, Unprocessable

CHINA = ZoneInfo("Asia/Shanghai")
DOCUMENT_MESSAGES = {"CEB311Message": "order", "CEB411Message": "payment", "CEB511Message": "waybill"}
#: every receipt customs sends, import and export, and the node that carries it
RECEIPT_MESSAGES = {
    # import
    "CEB312Message": "OrderReturn",
    "CEB412Message": "PaymentReturn",
    "CEB512Message": "LogisticsReturn",
    "CEB514Message": "LogisticsStatusReturn",
    "CEB622Message": "InventoryReturn",
    "CEB624Message": "InvtCancelReturn",
    "CEB626Message": "InvtRefundReturn",
    "CEB712Message": "DeliveryReturn",
    "CEB816Message": "Tax",
    "CEB818Message": "Tax",
    "CEB900Message": "MessageReturn",
    # export
    "CEB304Message": "OrderReturn",
    "CEB404Message": "ReceiptsReturn",
    "CEB506Message": "LogisticsReturn",
    "CEB508Message": "ArrivalReturn",
    "CEB510Message": "DepartureReturn",
    "CEB604Message": "InventoryReturn",
    "CEB606Message": "InvtCancelReturn",
    "CEB608Message": "WayBillReturn",
    "CEB702Message": "SummaryReturn",
    "CEB792Message": "SummaryResult",
    "CEB214Message": "RefundReturn",
    "CEB216Message": "InvtRefundDetailReturn",
}
#: other official messages taken and answered 2xx without a record: declarations XBM did not originate (another
#: party's copy of an import list, withdrawal or return) and export documents other parties report
KNOWN_OTHER = {
    "CEB513Message",
    "CEB621Message",
    "CEB623Message",
    "CEB625Message",
    "CEB711Message",
    "CEB303Message",
    "CEB403Message",
    "CEB505Message",
    "CEB507Message",
    "CEB509Message",
    "CEB603Message",
    "CEB605Message",
    "CEB607Message",
    "CEB701Message",
    "CEB213Message",
    "CEB215Message",
}


#: the tax amounts of a CEB816 (the XSD's decimal(19,5), unsigned)
TAX_FIELDS = ("customsTax", "valueAddedTax", "consumptionTax")
_TAX_AMOUNT = re.compile(r"[0-9]{1,14}(?:\.[0-9]{1,5})?")
#: the places XBM keeps an amount of money to, exactly (shared.money.MONEY_SCALE)
_CENTS = Decimal("0.0001")


def ascii_digits(text: str | None) -> bool:
    """True for a non-empty run of the ASCII digits 0-9 only. ``str.isdigit`` (and a regex ``\\d``) also take
    full-width, Arabic-Indic and other Unicode digits, which no customs code or number contains."""
    return bool(text) and text.isascii() and text.isdigit()  # type: ignore[union-attr]


def is_refusal(status: int) -> bool:
    """A receipt status saying customs refused the message: 100 (refused), 4 (refused by the e-port's checks) or
    a negative one (a processing error: the message was never stored)."""
    return status < 0 or status in (4, 100)


@dataclass(frozen=True)
class Receipt:
    message: str
    status: int
    info: str
    time: str
    keys: dict[str, str]
    #: customs' own returnTime, 17 digits (yyyyMMddHHmmssfff): receipts are ordered by it
    return_time: str = ""
    #: CEB816: the tax per line (gnum → {customsTax, valueAddedTax, consumptionTax})
    lines: tuple[dict[str, str], ...] = ()


def _customs_time(text: str | None) -> str:
    if not text or len(text) < 14 or not ascii_digits(text[:14]):
        return datetime.now(CHINA).isoformat()
    try:
        return datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=CHINA).isoformat()
    except ValueError:  # 14 digits that are no time (a 13th month)
        return datetime.now(CHINA).isoformat()


def _number(text: str | None) -> int | str | None:
    """Customs XML carries integers as text; the canonical document has JSON integers."""
    return int(text) if text is not None and ascii_digits(text) and len(text) < 10 else text


def order_document(element: Element) -> dict[str, Any]:
    h = fields(head(element, "OrderHead"))
    items = []
    for line in children(element, "OrderList"):
        f = fields(line)
        items.append(
            {
                "gnum": _number(f.get("gnum")),
                "item_no": f.get("itemNo"),
                "name": f.get("itemName"),
                "qty": f.get("qty"),
                "unit": f.get("unit", "011"),
                "price": f.get("price"),
                "total": f.get("totalPrice"),
            }
        )
    return {
        "order_no": h.get("orderNo"),
        "ebp_code": h.get("ebpCode"),
        "ebp_name": h.get("ebpName"),
        "ebc_code": h.get("ebcCode"),
        "ebc_name": h.get("ebcName"),
        "trade_direction": "import" if h.get("orderType", "I") == "I" else "export",
        "goods_value": h.get("goodsValue"),
        "freight": h.get("freight"),
        "discount": h.get("discount", "0"),
        "tax_total": h.get("taxTotal"),
        "actual_paid": h.get("acturalPaid"),
        "currency": h.get("currency"),
        "buyer": {
            "reg_no": h.get("buyerRegNo"),
            "name": h.get("buyerName"),
            "id_type": h.get("buyerIdType", "1"),
            "id_number": h.get("buyerIdNumber"),
            "telephone": h.get("buyerTelephone"),
        },
        "consignee": {
            "name": h.get("consignee"),
            "telephone": h.get("consigneeTelephone"),
            "address": h.get("consigneeAddress"),
        },
        "items": items,
        "pay_code": h.get("payCode"),
        "pay_transaction_id": h.get("payTransactionId"),
    }


def payment_document(element: Element) -> dict[str, Any]:
    h = fields(head(element, "PaymentHead"))
    return {
        "pay_code": h.get("payCode"),
        "pay_transaction_id": h.get("payTransactionId"),
        "order_no": h.get("orderNo"),
        "ebp_code": h.get("ebpCode"),
        "payer": {
            "name": h.get("payerName"),
            "id_type": h.get("payerIdType", "1"),
            "id_number": h.get("payerIdNumber"),
            "telephone": h.get("telephone"),
        },
        "amount_paid": h.get("amountPaid"),
        "currency": h.get("currency"),
        "paid_at": _customs_time(h.get("payTime")),
    }


def waybill_document(element: Element) -> dict[str, Any]:
    h = fields(head(element, "LogisticsHead"))
    return {
        "logistics_code": h.get("logisticsCode"),
        "logistics_name": h.get("logisticsName"),
        "logistics_no": h.get("logisticsNo"),
        "order_no": h.get("orderNo"),
        "freight": h.get("freight"),
        "insured_fee": h.get("insuredFee", "0"),
        "weight_kg": h.get("weight"),
        "consignee": {
            "name": h.get("consignee"),
            "telephone": h.get("consigneeTelephone"),
            "address": h.get("consigneeAddress"),
        },
    }


_DOCUMENT_NODES = {
    "order": ("Order", order_document),
    "payment": ("Payment", payment_document),
    "waybill": ("Logistics", waybill_document),
}


def documents(root: Element) -> tuple[str, list[dict[str, Any]]]:
    kind = DOCUMENT_MESSAGES[local(root.tag)]
    node, read = _DOCUMENT_NODES[kind]
    return kind, [read(element) for element in children(root, node)]


def return_time(text: str | None) -> str:
    """A receipt's time as 17 digits, so that times compare as text (shorter forms padded with zeros)."""
    digits = "".join(ch for ch in (text or "") if "0" <= ch <= "9")[:17]
    return digits.ljust(17, "0") if digits else ""


def original_guid(f: dict[str, str]) -> str | None:
    """CEB900 answers a message by the guid of the original, which it carries inside (``oriBizMessage``); the
    transport's CopMsgId is the same guid for messages XBM sent."""
    inner = f.get("oriBizMessage")
    if inner:
        try:
            root = parse(inner.encode())
            guid = root.get("guid")
            if guid:
                return guid.upper()[:36]
        except BadRequest:
            pass
    cop_msg_id = f.get("oriCopMsgId")
    return cop_msg_id.upper()[:36] if cop_msg_id else None


def _status(f: dict[str, str]) -> int | None:
    for name in ("returnStatus", "status", "decState"):
        text = f.get(name, "")
        if ascii_digits(text.removeprefix("-")) and len(text) < 10:
            return int(text)
    return None


def receipts(root: Element) -> list[Receipt]:
    message = local(root.tag)
    out = []
    for element in children(root, RECEIPT_MESSAGES[message]):
        node = element
        lines: tuple[dict[str, str], ...] = ()
        if message in ("CEB816Message", "CEB818Message"):
            node = head(element, "TaxHeadRd" if message == "CEB816Message" else "TaxHeadStatus")
            lines = tuple(fields(line) for line in children(element, "TaxListRd"))
        elif message == "CEB792Message":
            node = head(element, "SummaryResultHead")
            lines = tuple(fields(line) for line in children(element, "SummaryResultList"))
        f = fields(node)
        if message == "CEB816Message":
            for fields_of in (f, *lines):
                _check_tax(fields_of)
        status = _status(f)
        if status is None and message == "CEB792Message":
            status = 0  # a summary's result has no returnStatus; its decState is customs' letter code (in keys)
        if status is None:
            continue
        keys = {
            k: v[:200] for k, v in f.items() if k not in ("returnStatus", "returnInfo", "returnTime", "oriBizMessage")
        }
        if message == "CEB900Message":
            guid = original_guid(f)
            if guid:
                keys["originalGuid"] = guid
        when = f.get("returnTime") or f.get("opDate")
        out.append(
            Receipt(message, status, f.get("returnInfo", "")[:500], _customs_time(when), keys, return_time(when), lines)
        )
    return out


def _check_tax(f: dict[str, str]) -> None:
    """A tax bill's amounts as XBM keeps money: unsigned decimals, exact to four places. Customs' schema allows
    five; a bill with a fifth place that is not zero (``0.00001``) is refused with its reason rather than rounded
    (a tax XBM compares must be the one customs billed)."""
    for name in TAX_FIELDS:
        text = f.get(name)
        if text is None:
            continue
        if not _TAX_AMOUNT.fullmatch(text):
            raise Unprocessable(f"CEB816 {name} {text[:40]!r} is not an unsigned decimal amount", loc=["body", name])
        if Decimal(text) != Decimal(text).quantize(_CENTS):
            raise Unprocessable(
                f"CEB816 {name} {text} has a fifth decimal place XBM cannot keep exactly (amounts are kept to "
                "four places)",
                loc=["body", name],
            )
