"""What the summary routes answer: a month's export summary (CEB701) with customs' answers (CEB702, CEB792) and
the numbers the VAT-rebate claim needs; and the summary as each of its orders shows it."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.schemas import DecimalStr, Out


class SummaryRefusalOut(Out):
    message: str = Field(description="the receipt, CEB702")
    status: int = Field(description="its returnStatus: 100 refused, 4 not sent to customs, below 0 a processing error")
    info: str = Field(description="customs' reason (returnInfo)")
    time: str
    """Customs' time of the refusal (RFC 3339, China time)."""


class SummaryReceiptOut(Out):
    message: str = Field(description="CEB702 (the answer to the application) or CEB792 (the summary's result)")
    status: int
    """CEB702's returnStatus (2 declaring, 3 sent to customs, 399 concluded, 100 refused); 0 for a CEB792."""
    info: str
    """Customs' words (returnInfo); empty for a CEB792."""
    time: str
    """Customs' time of it (RFC 3339, China time)."""
    return_time: str = Field(description="customs' own time, yyyyMMddHHmmssfff")
    dec_state: str | None = Field(None, description="CEB792: the customs declaration's state, as customs codes it")


class OrderSummaryOut(Out):
    """The monthly summary that holds the order's export list (its standing one, else the latest refused)."""

    id: str
    """The summary's id (`/v1/compliance/summaries/{summary_id}`)."""
    month: str
    """The month summarised (YYYY-MM, China time)."""
    status: str = Field(description="declared, accepted, summarised or refused")
    sum_no: str | None = Field(None, description="customs' number of the summary application (CEB702 sumNo)")
    decl_seq_no: str | None = Field(None, description="the summary's unified number (CEB792 declSeqNo)")
    entry_id: str | None = Field(None, description="the customs declaration's number (CEB792 entryId)")


class SummaryHeadOut(OrderSummaryOut):
    """A summary as the list shows it."""

    guid: str
    """The CEB701 message's GUID."""
    cop_no: str
    """The enterprise's own number of the summary (copNo): customs' CEB702 answers by it."""
    inventories: int
    """Inventory lists the summary holds."""
    pre_no: str | None = Field(None, description="the e-port's number (CEB702 preNo)")
    dec_state: str | None = Field(None, description="the customs declaration's state (CEB792 decState)")
    refusal: SummaryRefusalOut | None = Field(
        None, description="when refused: customs' answer and its reason; its lists may then be summarised again"
    )
    created_at: datetime
    """When the summary was made (RFC 3339, UTC)."""
    updated_at: datetime
    """When customs' last answer changed it."""


class SummaryListOut(Out):
    invt_no: str
    """Customs' number of the inventory list (invtNo)."""
    declaration_id: str
    """The declaration (its XML at `/v1/compliance/declarations/{declaration_id}/xml`)."""
    ebp_code: str | None
    """The order's platform code."""
    order_no: str | None
    """The order's number (`/v1/compliance/orders/{ebp_code}/{order_no}`)."""
    state: str | None
    """The order's state now."""
    actual_paid: DecimalStr | None
    """What the buyer paid (decimal string, in `currency`)."""
    currency: str | None
    """The order's currency."""


class SummaryTotalOut(Out):
    currency: str
    """The currency."""
    orders: int
    """Orders of the summary in it."""
    actual_paid: DecimalStr
    """What their buyers paid (decimal string)."""


class SummaryDetailOut(SummaryHeadOut):
    """A summary with everything the VAT-rebate claim needs."""

    dec_tmp_no: str | None = Field(None, description="the e-port's temporary number of the declaration (CEB792)")
    dec_pre_no: str | None = Field(None, description="the e-port's pre-entry number of the declaration (CEB792)")
    gross_weight: str | None = Field(None, description="CEB792 grossWeight (kg, as customs wrote it)")
    net_weight: str | None = Field(None, description="CEB792 netWeight (kg, as customs wrote it)")
    lists: list[SummaryListOut]
    """The inventory lists it holds, with their orders."""
    totals: list[SummaryTotalOut]
    """What the buyers paid, by currency."""
    receipts: list[SummaryReceiptOut]
    """Customs' answers, oldest first."""
