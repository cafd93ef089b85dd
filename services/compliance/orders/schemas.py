"""What the order routes answer, and the bodies of the order actions (returns, cancellations, summaries, master
bills); the canonical documents themselves are in ``documents.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from services.compliance.orders.documents import KEY, Key18, Quantity
from shared.schemas import NOT_BLANK, DecimalStr, Out, Schema, Trimmed


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
    refusal: RefusalOut | None = Field(
        None, description="while rejected: the receipt in which customs refused the declaration, and its reason"
    )
    declarations: list[DeclarationRoundOut] = Field(
        default_factory=list,
        description="every declaration of the order (the first, then each declared again after a refusal), with "
        "the messages it sent and the receipts customs answered; oldest first",
    )


class RefusalOut(Out):
    message: str = Field(description="the receipt, e.g. CEB604")
    status: int = Field(description="its returnStatus: 100 refused, 4 not sent to customs, below 0 a processing error")
    info: str = Field(description="customs' reason (returnInfo)")
    time: str


class ReceiptOut(Out):
    message: str = Field(description="the receipt, e.g. CEB604")
    status: int
    info: str
    return_time: str = Field(description="customs' own time, yyyyMMddHHmmssfff")


class DeclarationRoundOut(Out):
    """One declaration of the order: the first (appType 1), or one declared again after customs refused it
    (the same copNo, appType 2 for what the e-port holds: docs/redeclaration.md)."""

    round: int
    cop_no: str
    guid: str = Field(description="the inventory list's guid in this round")
    app_type: str = Field(description="the inventory list's appType: 1 new, 2 change")
    declared_at: datetime
    messages: list[CustomsMessageOut]
    receipts: list[ReceiptOut] = Field(description="customs' answers received during this round")


class IngestOut(Out):
    status: Literal["stored", "duplicate", "corrected", "ignored"] = Field(
        description="stored; duplicate (a copy of what is stored); corrected (a different version of a document "
        "of an order in mismatch or refused by customs: applied and the order compared again); ignored"
    )
    kind: str | None = None
    ebp_code: str | None = None
    order_no: str | None = None
    state: str | None = Field(None, description="the order's state after this document, when the order is known")
    outcome: str | None = Field(
        None,
        description="platform deliveries: what was done (stored, updated, refund_recorded, return_requested, "
        "waiting — a refund or delete kept until its order arrives —, conflict, cancelled…)",
    )


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
    bill_no: Annotated[str, StringConstraints(min_length=1, max_length=37, pattern=KEY)]
    traf_name: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK), Trimmed]
    voyage_no: Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=KEY)]
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
    status: str = Field(
        description="pending, queued, sent or acknowledged; superseded when the order was declared again before "
        "it was sent"
    )
    signed: bool
    validated: bool
    sent_at: datetime | None
    acknowledged_at: datetime | None
    app_type: str = Field("1", description="appType: 1 new, 2 change (a declaration again after a refusal)")
    round: int = Field(1, description="the declaration round it belongs to")


ActionName = Literal[
    "add_item_record", "register_payment_institution", "update_payment_institution", "complete_order",
    "correct_order", "correct_payment", "correct_waybill", "send_documents", "rematch", "correct_and_redeclare",
    "withdraw", "cancel",
]  # fmt: skip


class ActionOut(Out):
    """One thing that resolves an exception: what to do (machine-readable), how (the request), and in words."""

    action: ActionName
    text: str = Field(description="the same, for a person")
    method: str | None = Field(None, description="the request that does it")
    path: str | None = None
    item_no: str | None = Field(None, description="add_item_record: the item (SKU) that has no record")
    pay_code: str | None = Field(None, description="the payment institution to register or update")
    fields: list[str] = Field(default_factory=list, description="the fields or documents to give or correct")
    automatic: bool = Field(
        False, description="once this is done XBM compares the order again by itself (no rematch needed)"
    )


class ExceptionOut(Out):
    ebp_code: str
    order_no: str
    state: str
    reason: Literal["mismatch", "missing_documents", "incomplete", "changed_after_declaration", "rejected"]
    failing_rules: list[str]
    missing: list[str]
    since: datetime
    cause: str = Field("", description="why the order is held, in words (the failing checks, customs' reason …)")
    actions: list[ActionOut] = Field(default_factory=list, description="what resolves it, in the order to try")


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
