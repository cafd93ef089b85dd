"""The canonical documents (API.md) and what the order routes answer."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, model_validator

from services.compliance.customs.codes import countries, currencies
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


def _known_currency(value: Any) -> Any:
    """A currency XBM cannot declare (no JGS-20 customs code) is refused where it arrives, never defaulted."""
    if isinstance(value, str) and value not in currencies():
        raise ValueError(f"currency {value!r} has no customs code in the JGS-20 table")
    return value


Currency = Annotated[
    str, BeforeValidator(_customs_currency), StringConstraints(pattern=r"^[A-Z]{3}$"), AfterValidator(_known_currency)
]


def _known_country(value: Any) -> Any:
    if isinstance(value, str) and value not in countries():
        raise ValueError(f"country {value!r} has no customs code in the JGS-20 table")
    return value


#: ISO 3166 alpha-2 on the wire; the customs code is XBM's job
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), AfterValidator(_known_country)]
TradeMode = Literal["9610", "1210", "9710", "9810"]
StatisticsFlag = Literal["A", "B"]
#: the customs code of a port of destination (export), e.g. 002 in the official sample
Pod = Annotated[str, StringConstraints(min_length=3, max_length=4, pattern=r"^[0-9A-Z]+$")]
#: the export inventory list carries at most 32 characters of waybill number: a longer one is refused, never cut
EXPORT_LOGISTICS_NO = 32


Quantity = Annotated[Decimal, Field(gt=0, le=Decimal("1e9"), max_digits=19, decimal_places=5), DecimalText()]


class Buyer(Schema):
    """The buyer; the ID number (and the platform registration number) are required on imports only: a buyer
    abroad has no Chinese ID number."""

    reg_no: Text60 | None = None
    name: Text60
    id_type: IdType = "1"
    id_number: IdNumber | None = None
    telephone: Phone | None = None
    verified: bool = False
    #: an export buyer's email: kept encrypted in the customer register only, never in the stored document
    email: Annotated[str, StringConstraints(max_length=254, pattern=r"^\s*[^@\s]+@[^@\s]+\s*$")] | None = Field(
        None, exclude=True
    )
    country: Country | None = Field(None, description="the buyer's country, ISO 3166 alpha-2")


class Consignee(Schema):
    name: Text
    telephone: Phone
    address: Address
    country: Country | None = None


class OrderItem(Schema):
    gnum: int = Field(ge=1, le=999)
    item_no: ItemNo
    name: Annotated[str, StringConstraints(min_length=1, max_length=250, pattern=NOT_BLANK), Trimmed]
    hs_code: Annotated[str, StringConstraints(pattern=r"^\d{10}$")] | None = None
    qty: Quantity
    unit: Annotated[str, StringConstraints(pattern=r"^\d{3}$")] = "011"
    price: NonNegativeAmount
    total: NonNegativeAmount
    discount: NonNegativeAmount = Field(
        Decimal("0"), description="the order's discounts allocated to this line (part of the order's discount)"
    )


class NotGoods(Schema):
    """A line the platform charged that is not goods (a warranty, a gift card, a tip, a fee)."""

    name: Annotated[str, StringConstraints(max_length=250)]
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
    trade_mode: TradeMode | None = Field(None, description="customs mode of this order; the profile's by default")
    destination_country: Country | None = Field(None, description="export: the country the goods go to")
    statistics_flag: StatisticsFlag | None = Field(
        None, description="export: A the inventory is the record, B summarised monthly (CEB701); the profile's"
    )
    overseas_warehouse: Text | None = Field(
        None, description="9810: the overseas warehouse the goods go to (its booking number is the order_no)"
    )

    @model_validator(mode="after")
    def _import_needs_identity(self) -> OrderDoc:
        if self.trade_direction == "import":
            missing = [f for f in ("reg_no", "id_number", "telephone") if getattr(self.buyer, f) is None]
            if missing:
                raise ValueError(f"an import order needs buyer {', '.join(missing)}")
        if self.trade_direction == "import" and self.trade_mode in ("9710", "9810"):
            raise ValueError(f"trade_mode {self.trade_mode} is an export mode (B2B direct export, overseas warehouse)")
        if self.trade_mode == "9810" and self.overseas_warehouse is None:
            raise ValueError("overseas_warehouse: a 9810 order names the overseas warehouse the goods go to")
        return self

    not_goods: list[NotGoods] = Field(
        default_factory=list,
        max_length=99,
        description="charged lines that are not goods: neither declared nor in actual_paid",
    )


class Payer(Schema):
    """Who paid; for an export (the seller's receipt of payment) a buyer abroad has no Chinese ID number."""

    name: Text60
    id_type: IdType = "1"
    id_number: IdNumber | None = None
    telephone: Phone | None = None


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
    destination_country: Country | None = Field(None, description="export: the country the parcel goes to")
    pod: Pod | None = Field(None, description="export: customs code of the port of destination")
    bill_no: Annotated[str, StringConstraints(min_length=1, max_length=37, pattern=_KEY)] | None = Field(
        None, description="the master bill (air or sea) once known"
    )
    traf_no: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK)] | None = Field(
        None, description="the means of transport (flight, vessel) once known"
    )
    voyage_no: Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=_KEY)] | None = Field(
        None, description="the flight or voyage number once known"
    )

    @model_validator(mode="after")
    def _export_number_fits(self) -> WaybillDoc:
        if (self.pod or self.destination_country) and len(self.logistics_no) > EXPORT_LOGISTICS_NO:
            raise ValueError(
                f"logistics_no: an export waybill number has at most {EXPORT_LOGISTICS_NO} characters in the "
                "customs inventory list; it is never cut"
            )
        return self


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
    customs_tax: DecimalStr | None = Field(None, description="the tax on customs' own tax bill (CEB816)")
    messages: list[CustomsMessageOut] = Field(default_factory=list, description="what XBM sent customs for it")
    created_at: datetime
    state_changed_at: datetime
    released_at: datetime | None
    test: bool = Field(False, description="the platform's test order: never declared")
    missing: list[dict[str, str]] = Field(
        default_factory=list, description="while incomplete: the fields still needed, [{field, msg}]"
    )
    changed_after_declaration: bool = False
    later_version: dict[str, Any] | None = Field(
        None, description="the platform's newer version received after the declaration"
    )
    platform_refunds: list[dict[str, Any]] = Field(default_factory=list)


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


class ReturnLine(Schema):
    gnum: int = Field(ge=1, le=999)
    qty: Quantity


class ReturnIn(Schema):
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None
    lines: list[ReturnLine] | None = Field(None, min_length=1, max_length=99, description="all lines when absent")


class ReturnLineOut(Out):
    gnum: str
    qty: str


class ReturnOut(Out):
    id: str
    cop_no: str
    state: str = Field(description="requested, then approved or refused by customs (CEB626)")
    reason: str
    lines: list[ReturnLineOut]
    created_at: datetime
    decided_at: datetime | None


class CancellationIn(Schema):
    """Why the seller cancels the order; after its declaration this is the withdrawal's reason to customs."""

    reason: Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NOT_BLANK), Trimmed]


class SummaryIn(Schema):
    """The month whose statisticsFlag B export inventories are summarised for customs (CEB701)."""

    month: Annotated[str, StringConstraints(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$")] = Field(
        description="YYYY-MM, in China time"
    )


class SummaryOut(Out):
    id: str
    month: str
    guid: str
    cop_no: str
    inventories: int
    signed: bool
    validated: bool


class MasterBillIn(Schema):
    """The master bill and voyage several export lists left on (declared with CEB607 when the lists did not
    name them)."""

    logistics_code: Key18
    bill_no: Annotated[str, StringConstraints(min_length=1, max_length=37, pattern=_KEY)]
    traf_name: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK), Trimmed]
    voyage_no: Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=_KEY)]
    declaration_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=500
    )


class MasterBillOut(Out):
    id: str
    guid: str
    cop_no: str
    bill_no: str
    inventories: int
    signed: bool
    validated: bool


class CustomsMessageOut(Out):
    """A message to customs and where it stands: built and signed, written to the e-port, answered."""

    message_type: str
    guid: str
    status: str = Field(description="pending, queued, sent or acknowledged")
    signed: bool
    validated: bool
    sent_at: datetime | None
    acknowledged_at: datetime | None


class ExceptionOut(Out):
    ebp_code: str
    order_no: str
    state: str
    reason: Literal["mismatch", "missing_documents", "incomplete", "changed_after_declaration"]
    failing_rules: list[str]
    missing: list[str]
    since: datetime


class OrphanOut(Out):
    kind: Literal["payment", "waybill"]
    key: str
    order_no: str
    ebp_code: str | None
    since: datetime


class UnreadableOut(Out):
    """A verified platform delivery XBM could not make an order of: stored as received."""

    delivery_id: str
    source_id: str
    topic: str
    outcome: str
    detail: str | None
    since: datetime


class ExceptionsPage(Out):
    items: list[ExceptionOut]
    next_cursor: str | None
    orphans: list[OrphanOut] = Field(default_factory=list, description="payments and waybills whose order never came")
    unreadable: list[UnreadableOut] = Field(
        default_factory=list, description="platform deliveries stored but not readable as an order, or naming none"
    )


class DailyReport(Out):
    date: str
    counts_by_state: dict[str, int]
    total: int
    match_rate: DecimalStr | None
    top_failing_rules: list[dict[str, Any]]
