"""The canonical documents (API.md) and what the order routes answer."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints

from shared.schemas import NOT_BLANK, DecimalStr, DecimalText, IsoDateTime, NonNegativeAmount, Out, Schema, Trimmed

_KEY = r"^[A-Za-z0-9_.\-]+$"
Key18 = Annotated[str, StringConstraints(min_length=1, max_length=18, pattern=_KEY)]
Key60 = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=_KEY)]
ItemNo = Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=_KEY)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK), Trimmed]
Text60 = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=NOT_BLANK), Trimmed]
Address = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NOT_BLANK), Trimmed]
Phone = Annotated[str, StringConstraints(min_length=1, max_length=30, pattern=NOT_BLANK), Trimmed]
IdNumber = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"^[0-9A-Za-z]+$")]
IdType = Annotated[str, StringConstraints(pattern=r"^[1-9]$")]


def _customs_currency(value: Any) -> Any:
    """Customs writes CNY as its own code 142; XBM keeps ISO codes."""
    return "CNY" if value in ("142", 142) else value


Currency = Annotated[str, BeforeValidator(_customs_currency), StringConstraints(pattern=r"^[A-Z]{3}$")]


Quantity = Annotated[Decimal, Field(gt=0, le=Decimal("1e9"), max_digits=19, decimal_places=5), DecimalText()]


class Buyer(Schema):
    reg_no: Text60
    name: Text60
    id_type: IdType = "1"
    id_number: IdNumber
    telephone: Phone
    verified: bool = False


class Consignee(Schema):
    name: Text
    telephone: Phone
    address: Address


class OrderItem(Schema):
    gnum: int = Field(ge=1, le=999)
    item_no: ItemNo
    name: Annotated[str, StringConstraints(min_length=1, max_length=250, pattern=NOT_BLANK), Trimmed]
    hs_code: Annotated[str, StringConstraints(pattern=r"^\d{10}$")] | None = None
    qty: Quantity
    unit: Annotated[str, StringConstraints(pattern=r"^\d{3}$")] = "011"
    price: NonNegativeAmount
    total: NonNegativeAmount


class OrderDoc(Schema):
    """A canonical order document, as a platform would send it."""

    order_no: Key60
    ebp_code: Key18
    ebp_name: Text | None = None
    ebc_code: Key18
    ebc_name: Text | None = None
    trade_direction: Literal["import", "export"] = "import"
    goods_value: NonNegativeAmount
    freight: NonNegativeAmount
    discount: NonNegativeAmount = Decimal("0")
    tax_total: NonNegativeAmount
    actual_paid: NonNegativeAmount
    currency: Currency
    buyer: Buyer
    consignee: Consignee
    items: list[OrderItem] = Field(min_length=1, max_length=99)
    pay_code: Key18 | None = None
    pay_transaction_id: Key60 | None = None
    utm_campaign: Annotated[str, StringConstraints(max_length=200)] | None = None
    country: Annotated[str, StringConstraints(pattern=r"^\d{3}$")] | None = Field(
        None, description="customs country code: departure (import) or destination (export)"
    )


class Payer(Schema):
    name: Text60
    id_type: IdType = "1"
    id_number: IdNumber
    telephone: Phone


class PaymentDoc(Schema):
    """A canonical payment document, as a payment institution would send it."""

    pay_code: Key18
    pay_transaction_id: Key60
    order_no: Key60
    ebp_code: Key18
    payer: Payer
    amount_paid: NonNegativeAmount
    currency: Currency
    paid_at: IsoDateTime


class WaybillDoc(Schema):
    """A canonical waybill document, as a logistics company would send it."""

    logistics_code: Key18
    logistics_name: Text | None = None
    logistics_no: Key60
    order_no: Key60
    ebp_code: Key18 | None = None
    freight: NonNegativeAmount
    insured_fee: NonNegativeAmount = Decimal("0")
    weight_kg: Quantity
    consignee: Consignee


class CheckOut(Out):
    rule: str
    passed: bool
    detail: str


class QuotaOut(Out):
    buyer_id_number: str = Field(description="masked")
    year: int
    limit: DecimalStr
    used: DecimalStr
    remaining: DecimalStr
    currency: str = "CNY"


class Documents(Out):
    order: dict[str, Any] | None
    payment: dict[str, Any] | None
    waybill: dict[str, Any] | None


class OrderOut(Out):
    id: str
    ebp_code: str
    order_no: str
    state: str
    trade_direction: str
    utm_campaign: str | None
    documents: Documents
    checks: list[CheckOut]
    tax: DecimalStr | None
    dutiable_value: DecimalStr | None
    quota: QuotaOut | None = None
    declaration_id: str | None
    receipts: list[dict[str, Any]]
    created_at: datetime
    state_changed_at: datetime
    released_at: datetime | None


class IngestOut(Out):
    status: Literal["stored", "duplicate", "ignored"]
    kind: str | None = None
    ebp_code: str | None = None
    order_no: str | None = None
    state: str | None = Field(None, description="the order's state after this document, when the order is known")


class MessageOut(Out):
    """What a customs message did: documents stored (or seen before), receipts applied to orders."""

    message_type: str
    guid: str | None
    documents: int = 0
    stored: int = 0
    duplicates: int = 0
    receipts: int = 0
    applied: int = 0
    unmatched: int = 0
    states: dict[str, str] = Field(default_factory=dict, description="ebp_code/order_no → the order's state")


class ReturnIn(Schema):
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None


class ExceptionOut(Out):
    ebp_code: str
    order_no: str
    state: str
    reason: Literal["mismatch", "missing_documents"]
    failing_rules: list[str]
    missing: list[str]
    since: datetime


class OrphanOut(Out):
    kind: Literal["payment", "waybill"]
    key: str
    order_no: str
    ebp_code: str | None
    since: datetime


class ExceptionsPage(Out):
    items: list[ExceptionOut]
    next_cursor: str | None
    orphans: list[OrphanOut] = Field(default_factory=list, description="payments and waybills whose order never came")


class DailyReport(Out):
    date: str
    counts_by_state: dict[str, int]
    total: int
    match_rate: DecimalStr | None
    top_failing_rules: list[dict[str, Any]]
