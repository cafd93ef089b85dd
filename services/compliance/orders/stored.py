"""The stored documents read back typed: what matching reads of an order, its payment and its waybill as they were
stored at intake (``document`` columns, JSON).

These are not the canonical documents of ``documents.py`` validated again: a stored document holds the buyer's and
payer's ID number masked, which the canonical ``id_number`` refuses, and a stored document is never refused when it
is read back. Only the fields matching compares are rehydrated, converted exactly as the comparison needs them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.compliance.orders.rules import Party


def party(data: dict[str, Any]) -> Party:
    """A consignee as stored; a missing telephone compares as empty."""
    return Party(data["name"], data.get("telephone") or "", data["address"], data.get("street"), data.get("city"),
                 data.get("postcode"), data.get("country"))  # fmt: skip


@dataclass(frozen=True)
class StoredLine:
    item_no: str
    total: Decimal
    qty: Decimal


@dataclass(frozen=True)
class StoredOrder:
    goods_value: Decimal
    freight: Decimal
    discount: Decimal
    tax_total: Decimal
    actual_paid: Decimal
    currency: str
    buyer_name: str
    consignee: Party
    items: tuple[StoredLine, ...]
    #: the customs country code the order may carry already
    country: str | None
    gift_card: Decimal = Decimal(0)

    @classmethod
    def of(cls, doc: dict[str, Any]) -> StoredOrder:
        return cls(
            goods_value=Decimal(doc["goods_value"]),
            freight=Decimal(doc["freight"]),
            discount=Decimal(doc["discount"]),
            tax_total=Decimal(doc["tax_total"]),
            actual_paid=Decimal(doc["actual_paid"]),
            currency=doc["currency"],
            buyer_name=doc["buyer"]["name"],
            consignee=party(doc["consignee"]),
            items=tuple(
                StoredLine(item["item_no"], Decimal(item["total"]), Decimal(str(item["qty"]))) for item in doc["items"]
            ),
            country=doc.get("country"),
            gift_card=Decimal(doc.get("gift_card") or 0),
        )


@dataclass(frozen=True)
class StoredPayment:
    amount_paid: Decimal
    currency: str
    payer_name: str

    @classmethod
    def of(cls, doc: dict[str, Any]) -> StoredPayment:
        return cls(Decimal(doc["amount_paid"]), doc["currency"], doc["payer"]["name"])


@dataclass(frozen=True)
class StoredWaybill:
    consignee: Party
    insured_fee: Decimal
    pod: str | None

    @classmethod
    def of(cls, doc: dict[str, Any]) -> StoredWaybill:
        return cls(party(doc["consignee"]), Decimal(doc["insured_fee"]), doc.get("pod"))
