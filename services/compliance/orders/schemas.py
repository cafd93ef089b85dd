"""What the order routes answer, and the bodies of the order actions (returns, cancellations, summaries, master
bills); the canonical documents themselves are in ``documents.py``.

Over 400 lines on purpose: the order's answer (documents, checks, receipts, messages, tax lines) and the
exceptions page reference one another; newer parts already live apart (summary_schemas.py, returns_schemas.py,
release_schemas.py, patch_schemas.py), and splitting the rest would only scatter one answer across files."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from services.compliance.orders.broker_schemas import BrokerDocument, CustomsDeclarationOut
from services.compliance.orders.documents import KEY, Key18, Quantity
from services.compliance.orders.release_schemas import LogisticsEventOut, ReturnOverdueOut
from services.compliance.orders.summary_schemas import OrderSummaryOut
from shared.schemas import NOT_BLANK, DecimalStr, Out, Schema, Trimmed, examples


class CheckOut(Out):
    rule: str
    """The check's name, e.g. `amount_paid` or `consignee_address`."""
    passed: bool
    """True when the documents agree on it."""
    detail: str
    """What was compared, and what differs when it failed."""


class QuotaOut(Out):
    buyer_id_number: str = Field(description="masked")
    year: int
    """The calendar year of the quota."""
    limit: DecimalStr
    """The buyer's yearly cross-border import quota (decimal string)."""
    used: DecimalStr
    """What the buyer's declared orders used of it this year."""
    remaining: DecimalStr
    """What is left (decimal string)."""
    currency: str = "CNY"
    """Always `CNY`."""


class Documents(Out):
    order: dict[str, Any] | None
    """The order document as received (canonical fields); null until it arrives."""
    payment: dict[str, Any] | None
    """The payment document; null until it arrives."""
    waybill: dict[str, Any] | None
    """The waybill; null until it arrives."""


class OrderOut(Out):
    id: str
    """The object's id (a UUID), as used in its path."""
    ebp_code: str
    """The e-commerce platform's customs code (with `order_no`, the order's key)."""
    order_no: str
    """The platform's order number."""
    state: str
    """Where the order stands: `incomplete`, `awaiting_documents`, `mismatch`, `matched`, `declared`, … `released`,
    `closed` (docs/flows.md, Order states)."""
    trade_direction: str
    """`import` or `export`."""
    utm_campaign: str | None
    """The campaign the order came through (its `utm_campaign`); null when none."""
    documents: Documents
    """The order, payment and waybill as received."""
    checks: list[CheckOut]
    """Every check of the three-in-one comparison, once all three documents are there."""
    tax: DecimalStr | None
    """The cross-border tax due on an import (decimal string); null until computed."""
    dutiable_value: DecimalStr | None
    """The value the tax is computed on (decimal string); null until computed."""
    quota: QuotaOut | None = None
    """The import buyer's yearly cross-border quota: limit, used and remaining; null for an export or without the
    buyer's ID."""
    declaration_id: str | None
    """The declaration's id once the order is declared (its XML at
    `/v1/compliance/declarations/{declaration_id}/xml`); null before."""
    receipts: list[dict[str, Any]]
    """Customs' receipts for the order, oldest first: message, status and text."""
    customs_tax: DecimalStr | None = Field(None, description="the tax on customs' own tax bill (CEB816)")
    messages: list[CustomsMessageOut] = Field(default_factory=list, description="what XBM sent customs for it")
    created_at: datetime
    """When the first of its documents arrived (RFC 3339, UTC)."""
    state_changed_at: datetime
    """When the order entered its current state."""
    released_at: datetime | None
    """When customs released it; null before."""
    test: bool = Field(False, description="the platform's test order: never declared")
    missing: list[dict[str, str]] = Field(
        default_factory=list, description="while incomplete: the fields still needed, [{field, msg}]"
    )
    changed_after_declaration: bool = False
    """True when the platform sent a newer version after the order was declared: the declaration must be redone
    (see `later_version`)."""
    later_version: dict[str, Any] | None = Field(
        None, description="the platform's newer version received after the declaration"
    )
    platform_refunds: list[dict[str, Any]] = Field(default_factory=list)
    """Refunds the platform reported for the order, as received (lines and amounts)."""
    refusal: RefusalOut | None = Field(
        None, description="while rejected: the receipt in which customs refused the declaration, and its reason"
    )
    customs_released_at: datetime | None = Field(
        None,
        description="when customs released it: its release receipt's returnTime (the return windows count from it)",
    )
    logistics_events: list[LogisticsEventOut] = Field(
        default_factory=list,
        description="customs' answers about the goods on the move: arrival at (CEB508) and departure from (CEB510) "
        "the supervised site, and the master bill's answers (CEB608); in customs' order",
    )
    declarations: list[DeclarationRoundOut] = Field(
        default_factory=list,
        description="every declaration of the order (the first, then each declared again after a refusal), with "
        "the messages it sent and the receipts customs answered; oldest first",
    )
    customs_declaration: CustomsDeclarationOut | None = Field(
        None,
        description="a 9710/9810 export routed to a customs declaration (报关单) instead of the inventory list: why "
        "(the value in CNY and the rate named, or the items needing a licence or inspection) and, once a broker "
        "declared it, its entry number; on the order's own view, null in the list",
    )
    broker_document: BrokerDocument | None = Field(
        None,
        description="while needs_customs_declaration or declared_elsewhere: the document the broker declares from "
        "(also at …/customs-declaration); on the order's own view, null in the list",
    )
    summary: OrderSummaryOut | None = Field(
        None, description="an export list's monthly summary (CEB701) with customs' numbers sumNo, declSeqNo, entryId"
    )
    awaiting_profile: str | None = Field(
        None,
        description="while matched: the customs profile it waits for (which direction and trade mode), and "
        "where to add it; null otherwise",
    )


class RefusalOut(Out):
    message: str = Field(description="the receipt, e.g. CEB604")
    status: int = Field(description="its returnStatus: 100 refused, 4 not sent to customs, below 0 a processing error")
    info: str = Field(description="customs' reason (returnInfo)")
    time: str
    """Customs' time of the refusal (returnTime, yyyyMMddHHmmssfff)."""


class ReceiptOut(Out):
    message: str = Field(description="the receipt, e.g. CEB604")
    status: int
    """Its returnStatus (e.g. 120 accepted, 100 refused, 800 released)."""
    info: str
    """Customs' words (returnInfo)."""
    return_time: str = Field(description="customs' own time, yyyyMMddHHmmssfff")


class DeclarationRoundOut(Out):
    """One declaration of the order: the first (appType 1), or one declared again after customs refused it
    (the same copNo, appType 2 for what the e-port holds: docs/redeclaration.md)."""

    round: int
    """Its number: 1 for the first declaration, then one more each time it was declared again."""
    cop_no: str
    """The enterprise's number of the declaration (copNo): the same in every round."""
    guid: str = Field(description="the inventory list's guid in this round")
    app_type: str = Field(description="the inventory list's appType: 1 new, 2 change")
    declared_at: datetime
    """When this round was declared."""
    messages: list[CustomsMessageOut]
    """The messages this round sent to customs."""
    receipts: list[ReceiptOut] = Field(description="customs' answers received during this round")


class IngestOut(Out):
    status: Literal["stored", "duplicate", "corrected", "ignored"] = Field(
        description="stored; duplicate (a copy of what is stored); corrected (a different version of a document "
        "of an order in mismatch or refused by customs: applied and the order compared again); ignored"
    )
    kind: str | None = None
    """What the document was: `order`, `payment` or `waybill`; null when ignored."""
    ebp_code: str | None = None
    """The platform code of the order it belongs to; null when ignored."""
    order_no: str | None = None
    """The order number it belongs to; null when ignored."""
    state: str | None = Field(None, description="the order's state after this document, when the order is known")
    outcome: str | None = Field(
        None,
        description="platform deliveries: what was done (stored, updated, refund_recorded, return_requested, "
        "waiting — a refund or delete kept until its order arrives —, conflict, cancelled…)",
    )


class MessageOut(Out):
    """What a customs message did: documents stored (or seen before), receipts applied to orders."""

    message_type: str
    """The customs message read, e.g. `CEB622Message`."""
    guid: str | None
    """The message's GUID; null when it has none."""
    documents: int = 0
    """Documents the message held."""
    stored: int = 0
    """Of them, new ones stored."""
    duplicates: int = 0
    """Of them, already received."""
    receipts: int = 0
    """Receipts the message held."""
    applied: int = 0
    """Receipts that moved an order on."""
    unmatched: int = 0
    """Receipts naming no known declaration (listed among the exceptions)."""
    states: dict[str, str] = Field(default_factory=dict, description="ebp_code/order_no → the order's state")


class ReturnLine(Schema):
    gnum: int = Field(ge=1, le=999)
    """The order line's number (`gnum` in the order)."""
    qty: Quantity
    """How many of it come back."""


class ReturnIn(Schema):
    model_config = examples({"reason": "wrong size", "lines": [{"gnum": 1, "qty": "1"}]})

    reason: Annotated[str, StringConstraints(max_length=500)] | None = None
    """Why the buyer returns the goods."""
    lines: list[ReturnLine] | None = Field(None, min_length=1, max_length=99, description="all lines when absent")


class ReturnLineOut(Out):
    gnum: str
    """The order line's number."""
    qty: str
    """How many come back."""


class ReturnOut(Out):
    id: str
    """The return's id (its XML at `/v1/compliance/returns/{return_id}/xml`)."""
    cop_no: str
    """The enterprise's own number of the return message."""
    state: str = Field(description="requested, then approved or refused by customs (CEB626)")
    reason: str
    """Why the goods come back."""
    lines: list[ReturnLineOut]
    """The lines returned; all of them when none were named."""
    created_at: datetime
    """When the object was created (RFC 3339, UTC)."""
    decided_at: datetime | None
    """When customs answered; null until then."""


class CancellationIn(Schema):
    """Why the seller cancels the order; after its declaration this is the withdrawal's reason to customs."""

    model_config = examples({"reason": "the buyer cancelled before shipment"})

    reason: Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NOT_BLANK), Trimmed]
    """Why the order is withdrawn; sent to customs."""


class SummaryIn(Schema):
    """The month whose statisticsFlag B export inventories are summarised for customs (CEB701)."""

    model_config = examples({"month": "2026-11"})

    month: Annotated[str, StringConstraints(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$")] = Field(
        description="YYYY-MM, in China time"
    )


class SummaryOut(Out):
    id: str
    """The summary's id."""
    month: str
    """The month summarised (YYYY-MM, China time)."""
    guid: str
    """The summary message's GUID (CEB701)."""
    cop_no: str
    """The enterprise's own number of the summary message."""
    inventories: int
    """Inventory lists the summary covers."""
    signed: bool
    """True when the message carries a signature."""
    validated: bool
    """True when the message passed the official XSD."""
    status: str = Field("declared", description="declared, accepted, summarised or refused (`GET /summaries/{id}`)")


class MasterBillIn(Schema):
    """The master bill and voyage several export lists left on (declared with CEB607 when the lists did not
    name them)."""

    model_config = examples(
        {
            "logistics_code": "LOG0000001",
            "bill_no": "999-87654321",
            "traf_name": "CA983",
            "voyage_no": "CA983",
            "declaration_ids": ["8c2d4e6f-1a3b-4c5d-9e7f-0a1b2c3d4e5f"],
        }
    )

    logistics_code: Key18
    """The logistics company's customs code."""
    bill_no: Annotated[str, StringConstraints(min_length=1, max_length=37, pattern=KEY)]
    """The master air waybill or bill of lading number, e.g. `999-12345675`."""
    traf_name: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK), Trimmed]
    """The flight or vessel's name."""
    voyage_no: Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=KEY)]
    """The flight or voyage number."""
    declaration_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=500
    )
    """The declarations (inventory lists) the bill carries (1–500)."""


class MasterBillOut(Out):
    id: str
    """The master bill link's id (its XML at `/v1/compliance/master-bills/{link_id}/xml`)."""
    guid: str
    """The message's GUID."""
    cop_no: str
    """The enterprise's own number of the message."""
    bill_no: str
    """The master bill's number."""
    inventories: int
    """Inventory lists it carries."""
    signed: bool
    """True when the message carries a signature."""
    validated: bool
    """True when it passed the official XSD."""


FailureCause = Literal["signer", "customs_number", "setup", "schema", "envelope", "outbox", "error"]


class MessageFailure(Out):
    """Why a message is not out yet, and when the outbox tries it again (by itself)."""

    cause: FailureCause = Field(
        description="signer: the signer could not sign; customs_number: waits for customs to number the "
        "inventory list (a withdrawal or return names it); setup: what it is built from is missing (customs "
        "profile, item record, payment, waybill); schema: it does not satisfy the official schema; envelope: its "
        "DxpMsg envelope does not (e.g. the profile's dxp_id); outbox: the send folder cannot be written; error: "
        "an unexpected error (logged)"
    )
    reason: str
    """What went wrong, in words."""
    retry_at: datetime | None = Field(description="when the outbox tries it again")
    attempts: int = Field(description="attempts that failed in a row")
    since: datetime | None = Field(description="since when it has failed for this cause")
    action: str = Field(description="what resolves it")


class CustomsMessageOut(Out):
    """A message to customs and where it stands: built and signed, written to the e-port, answered."""

    message_type: str
    """The message, e.g. `CEB621Message`."""
    guid: str
    """Its GUID."""
    status: str = Field(
        description="pending, queued, sent, acknowledged, or failed (could not be built, signed or written: "
        "tried again by itself, see failure); superseded when the order was declared again before it was sent"
    )
    signed: bool
    """True when it carries a signature."""
    validated: bool
    """True when it passed the official XSD."""
    sent_at: datetime | None
    """When it was sent to customs; null before."""
    acknowledged_at: datetime | None
    """When customs acknowledged it; null before."""
    app_type: str = Field("1", description="appType: 1 new, 2 change (a declaration again after a refusal)")
    round: int = Field(1, description="the declaration round it belongs to")
    failure: MessageFailure | None = Field(
        None,
        description="while it is failed, or pending for customs' list number: why, and when it is tried again",
    )


ActionName = Literal[
    "add_item_record", "register_payment_institution", "update_payment_institution", "complete_order",
    "correct_order", "correct_payment", "correct_waybill", "send_documents", "rematch", "correct_and_redeclare",
    "withdraw", "cancel", "accept_customs_tax", "recompute_tax", "declare_by_customs_declaration",
    "record_customs_declaration", "reroute", "add_exchange_rate", "add_customs_profile",
]  # fmt: skip


class ActionOut(Out):
    """One thing that resolves an exception: what to do (machine-readable), how (the request), and in words."""

    action: ActionName
    """What to do, machine-readable (e.g. `add_item_record`, `rematch`, `correct_and_redeclare`)."""
    text: str = Field(description="the same, for a person")
    method: str | None = Field(None, description="the request that does it")
    path: str | None = None
    """The path of the request that does it."""
    item_no: str | None = Field(None, description="add_item_record: the item (SKU) that has no record")
    pay_code: str | None = Field(None, description="the payment institution to register or update")
    fields: list[str] = Field(default_factory=list, description="the fields or documents to give or correct")
    automatic: bool = Field(
        False, description="once this is done XBM compares the order again by itself (no rematch needed)"
    )


class FailedMessageOut(Out):
    """A message to customs that failed; the outbox tries it again by itself."""

    ebp_code: str | None
    """The platform's customs code of the order; null for a message of no order (a summary)."""
    order_no: str | None
    """The order's number; null for a message of no order."""
    declaration_id: str | None
    """Its declaration; null when none."""
    message_type: str
    """The message, e.g. CEB603."""
    guid: str
    """Its GUID."""
    failure: MessageFailure
    """Why it failed, and when it is tried again."""


class ExceptionOut(Out):
    ebp_code: str
    """The order's platform code."""
    order_no: str
    """The order's number."""
    state: str
    """The order's state."""
    reason: Literal[
        "mismatch", "missing_documents", "incomplete", "changed_after_declaration", "rejected",
        "needs_customs_declaration", "awaiting_profile",
    ]  # fmt: skip
    """Why it is listed: `mismatch` (a check failed), `missing_documents` (waiting too long for one), `incomplete`
    (data XBM needs is missing), `changed_after_declaration`, `rejected` (customs refused the declaration),
    `needs_customs_declaration` (a B2B export to declare by customs declaration, 报关单, through a broker) or
    `awaiting_profile` (no customs profile declares its direction and trade mode)."""
    failing_rules: list[str]
    """The checks that failed (with `mismatch`)."""
    missing: list[str]
    """The documents or fields missing."""
    since: datetime
    """Since when the order has been in this situation."""
    cause: str = Field("", description="why the order is held, in words (the failing checks, customs' reason …)")
    actions: list[ActionOut] = Field(default_factory=list, description="what resolves it, in the order to try")


class OrphanOut(Out):
    kind: Literal["payment", "waybill"]
    """`payment` or `waybill`: a document naming no known order."""
    key: str
    """Its own key: `pay_code/transaction id` or `logistics_code/waybill number`."""
    order_no: str
    """The order number it names."""
    ebp_code: str | None
    """The platform code it names; null when none."""
    since: datetime
    """When it arrived."""


class UnreadableOut(Out):
    """A verified platform delivery XBM could not make an order of: stored as received."""

    delivery_id: str
    """The webhook delivery's id."""
    source_id: str
    """The source that sent it."""
    topic: str
    """The platform's topic, e.g. `orders/create`."""
    outcome: str
    """`unreadable` (XBM could not read the body) or `unknown_order` (it names an order XBM does not know)."""
    detail: str | None
    """Why it could not be read; null when not known."""
    since: datetime
    """When it arrived."""


class TaxDifferenceOut(Out):
    """One line and tax type on which customs' tax bill and XBM's tax differ beyond rounding."""

    gnum: int
    """The order line (`gnum`)."""
    tax_type: Literal["customs_duty", "vat", "consumption_tax"]
    """`customs_duty`, `vat` or `consumption_tax`."""
    customs: DecimalStr
    """Customs' figure (CEB816)."""
    xbm: DecimalStr
    """XBM's figure."""
    difference: str
    """Customs' less XBM's (decimal string, may be negative)."""
    tolerance: DecimalStr
    """The rounding allowed on it: 0.01 where the type is levied on the line, else 0."""


class TaxDisagreementOut(Out):
    """An order whose customs tax bill (CEB816) disagrees with XBM's tax beyond rounding."""

    ebp_code: str
    """The platform's customs code."""
    order_no: str
    """The order number."""
    state: str
    """The order's state."""
    customs_total: DecimalStr
    """The tax on customs' bill."""
    xbm_total: DecimalStr | None
    """XBM's tax; null when XBM could not compute it."""
    difference: str | None
    """Customs' total less XBM's (decimal string, may be negative); null without XBM's."""
    tolerance: DecimalStr
    """The rounding allowed in all: 0.01 per line and tax type levied."""
    compared_by: Literal["line", "total"]
    """`line`: per line and type (the bill and XBM both itemise); `total`: on the totals."""
    lines: list[TaxDifferenceOut]
    """The lines and types that differ beyond their tolerance (compared per line)."""
    since: datetime
    """When the bill that disagrees arrived."""
    cause: str
    """Why it is listed, in words."""
    actions: list[ActionOut]
    """What resolves it."""


class ExceptionsPage(Out):
    items: list[ExceptionOut]
    """This page's exceptions."""
    next_cursor: str | None
    """Pass it as `?cursor=` for the next page; null on the last page."""
    orphans: list[OrphanOut] = Field(default_factory=list, description="payments and waybills whose order never came")
    failed_messages: list[FailedMessageOut] = Field(
        default_factory=list,
        description="messages to customs that could not be built, signed or written, oldest failure first "
        "(on the first page; at most 100)",
    )
    unreadable: list[UnreadableOut] = Field(
        default_factory=list, description="platform deliveries stored but not readable as an order, or naming none"
    )
    tax_disagreements: list[TaxDisagreementOut] = Field(
        default_factory=list,
        description="orders whose customs tax bill (CEB816) disagrees with XBM's tax beyond rounding, with both "
        "figures per line and tax type (on the first page; at most 100)",
    )
    returns_overdue: list[ReturnOverdueOut] = Field(
        default_factory=list,
        description="declared import returns whose goods are not recorded back in the supervised area 45 days after "
        "release (on the first page; at most 100)",
    )


class DailyReport(Out):
    date: str
    """The day reported (YYYY-MM-DD, UTC)."""
    counts_by_state: dict[str, int]
    """Orders received that day, by their state now."""
    total: int
    """Orders received that day."""
    match_rate: DecimalStr | None
    """Of the orders compared, the share that matched (decimal string); null when none was compared."""
    top_failing_rules: list[dict[str, Any]]
    """The checks that failed most, with how often: `[{"rule", "count"}]`."""
