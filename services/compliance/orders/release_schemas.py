"""What an order shows of its life after release (its logistics answers) and the exceptions list's overdue
returns; kept apart from schemas.py, which imports them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from shared.schemas import Out


class LogisticsEventOut(Out):
    kind: Literal["arrival", "departure", "master_bill"]
    """`arrival` (CEB508: at the supervised site), `departure` (CEB510), `master_bill` (CEB608)."""
    status: int
    """Customs' returnStatus (e.g. 2 declaring, 100 refused, 120 stored, 399 accepted)."""
    time: str
    """Customs' time (ISO 8601, China time)."""
    note: str
    """Customs' note (returnInfo)."""


class ReturnOverdueOut(Out):
    """A declared import return whose goods are not back in the supervised area 45 days after release."""

    return_id: str
    """The return's id (record the goods back with `POST /v1/compliance/returns/{return_id}/goods-back`)."""
    ebp_code: str
    """The order's platform code."""
    order_no: str
    """The order's number."""
    state: str
    """The return's state (requested or approved)."""
    released_at: datetime
    """When customs released the order."""
    deadline: datetime
    """When the goods were due back."""
