"""Bodies and answers of the return routes (returns_router.py): the goods of an import return back in the
supervised area, export returns (CEB213 / CEB215), master bills with customs' answers, logistics events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from services.compliance.orders.documents import KEY, Key18
from services.compliance.orders.release_schemas import LogisticsEventOut
from services.compliance.orders.schemas import ReturnLine, ReturnLineOut, ReturnOut
from shared.schemas import NOT_BLANK, Out, Schema, Trimmed, examples

Text100 = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK), Trimmed]
Code4 = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]


class GoodsBackIn(Schema):
    """When the goods of an import return were back in the supervised area."""

    model_config = examples({"arrived_at": "2026-11-20T10:00:00+08:00"})

    arrived_at: AwareDatetime
    """When the goods were back (RFC 3339 with its offset); not in the future, not before the release."""


class ExportReturnIn(Schema):
    """A return of a released export list (CEB213). What is not given comes from the original waybill and the
    customs profile."""

    model_config = examples(
        {
            "reason": "the buyer refused delivery",
            "lines": [{"gnum": 1, "qty": "1"}],
            "traf_name": "CA984",
            "voyage_no": "CA984",
            "country": "US",
        }
    )

    reason: Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NOT_BLANK), Trimmed] = (
        "returned by the buyer"
    )
    """Why the goods come back (sent to customs)."""
    lines: list[ReturnLine] | None = Field(None, min_length=1, max_length=99, description="all lines when absent")
    logistics_code: Key18 | None = None
    """The company bringing the goods back; the original waybill's when absent."""
    logistics_name: Text100 | None = None
    """Its registered name; the original waybill's when absent."""
    logistics_no: Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=KEY)] | None = None
    """The return waybill's number; the original one when absent."""
    bill_no: Annotated[str, StringConstraints(min_length=1, max_length=37, pattern=KEY)] | None = None
    """The master bill the goods come back on; the waybill number when there is none."""
    traf_mode: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]$")] | None = None
    """The customs transport mode code; the profile's when absent."""
    traf_name: Text100 | None = None
    """The flight or vessel; the original waybill's when absent."""
    voyage_no: Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=KEY)] | None = None
    """The flight or voyage number; the original waybill's when absent."""
    port_code: Code4 | None = None
    """The customs office of the port the goods come back through; the profile's when absent."""
    country: Annotated[str, StringConstraints(min_length=2, max_length=3, pattern=r"^[A-Za-z0-9]+$")] | None = None
    """The country the goods come from (ISO 3166 or the customs code); the export's destination when absent."""
    trade_mode: Code4 | None = None
    """The return's customs mode; by default 9661 for a 9610 export and 1261 for a special area's (1210/1239)."""


class TallyIn(Schema):
    """The goods of an export return tallied at the supervised site (CEB215), sent for the site's operator."""

    model_config = examples(
        {"operator_code": "4604980001", "operator_name": "Haikou Bonded Logistics", "location": "A-12"}
    )

    operator_code: Key18
    """The supervised site operator's customs code."""
    operator_name: Text100
    """Its registered name."""
    location: Annotated[str, StringConstraints(min_length=1, max_length=250, pattern=NOT_BLANK), Trimmed] | None = None
    """Where the goods lie in the site."""
    note: Annotated[str, StringConstraints(min_length=1, max_length=250, pattern=NOT_BLANK), Trimmed] | None = None
    """A note to customs."""


class ExportReturnOut(Out):
    id: str
    """The export return's id (its CEB213 at `/v1/compliance/export-returns/{id}/xml`)."""
    order_id: str
    """The order returned."""
    cop_no: str
    """The return application's own number (coElNo of CEB213)."""
    state: Literal["requested", "accepted", "approved", "refused"]
    """`requested`; `accepted` while customs handles it; `approved` when customs released the return (CEB214
    800: the order is `returned` when every line came back); `refused` (CEB214 100, or an error)."""
    reason: str
    """Why the goods come back."""
    lines: list[ReturnLineOut]
    """The lines returned."""
    transport: dict[str, Any]
    """How the goods come back (waybill, bill, transport, port, country, trade mode)."""
    customs_status: int | None
    """Customs' latest returnStatus for the application; null before it answered."""
    customs_note: str | None
    """Customs' note with it (returnInfo): its reason when it refused."""
    decided_at: datetime | None
    """When customs approved or refused it."""
    tally_state: Literal["none", "declared", "accepted", "refused"]
    """The tally of the goods back (CEB215): `none` until declared; `accepted` when customs took it (CEB216 399)."""
    tally_cop_no: str | None
    """The tally's own number (coElNo of CEB215)."""
    tally_note: str | None
    """Customs' note on the tally."""
    created_at: datetime
    """When the return was declared."""


class ReturnView(ReturnOut):
    """An import return with its windows (counted from customs' release time)."""

    released_at: datetime | None
    """When customs released the order (its release receipt's time)."""
    goods_back_by: datetime | None
    """The last moment the goods may be back in the supervised area (45 days after release)."""
    goods_back_at: datetime | None
    """When the goods were recorded back; null until then."""
    overdue: bool
    """True when the goods are not recorded back and their 45 days have passed."""


class MasterBillListOut(Out):
    declaration_id: str
    """The export list's declaration."""
    order_id: str
    """Its order."""
    invt_no: str
    """Customs' number of the list."""
    logistics_no: str
    """Its waybill."""


class MasterBillView(Out):
    id: str
    """The master bill link's id (its CEB607 at `/v1/compliance/master-bills/{id}/xml`)."""
    cop_no: str
    """The CEB607's own number."""
    bill_no: str
    """The master bill's number."""
    traf_name: str
    """The flight or vessel."""
    voyage: str
    """The flight or voyage number."""
    logistics_code: str
    """The logistics company."""
    lists: list[MasterBillListOut]
    """The export lists it carries."""
    answers: list[LogisticsEventOut]
    """Customs' answers (CEB608), oldest first."""
    created_at: datetime
    """When the link was declared."""
