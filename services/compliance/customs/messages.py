"""What an inbound customs message says, as plain values: canonical documents (CEB311/411/511) or receipts
(CEB312/412/512/622/900). Pure: no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo

from services.compliance.customs.xmlsafe import children, fields, head, local

CHINA = ZoneInfo("Asia/Shanghai")
DOCUMENT_MESSAGES = {"CEB311Message": "order", "CEB411Message": "payment", "CEB511Message": "waybill"}
RECEIPT_MESSAGES = {
    "CEB312Message": "OrderReturn",
    "CEB412Message": "PaymentReturn",
    "CEB512Message": "LogisticsReturn",
    "CEB622Message": "InventoryReturn",
    "CEB900Message": "MessageReturn",
}
#: other official import messages we accept and keep no record of (declarations we did not originate,
#: status reports and their receipts)
KNOWN_OTHER = {
    "CEB513Message",
    "CEB514Message",
    "CEB621Message",
    "CEB623Message",
    "CEB624Message",
    "CEB625Message",
    "CEB626Message",
    "CEB711Message",
    "CEB712Message",
}


@dataclass(frozen=True)
class Receipt:
    message: str
    status: int
    info: str
    time: str
    keys: dict[str, str]


def _customs_time(text: str | None) -> str:
    if not text or len(text) < 14 or not text[:14].isdigit():
        return datetime.now(CHINA).isoformat()
    return datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=CHINA).isoformat()


def _number(text: str | None) -> int | str | None:
    """Customs XML carries integers as text; the canonical document has JSON integers."""
    return int(text) if text is not None and text.isdigit() and len(text) < 10 else text


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


def receipts(root: Element) -> list[Receipt]:
    message = local(root.tag)
    out = []
    for element in children(root, RECEIPT_MESSAGES[message]):
        f = fields(element)
        try:
            status = int(f.get("returnStatus", ""))
        except ValueError:
            continue
        keys = {k: v for k, v in f.items() if k not in ("returnStatus", "returnInfo", "returnTime")}
        out.append(Receipt(message, status, f.get("returnInfo", "")[:500], _customs_time(f.get("returnTime")), keys))
    return out
