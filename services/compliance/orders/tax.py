"""Customs' electronic tax bill (CEB816) against XBM's own tax, per line and tax type, and its way back.

Customs itemises the tax per line (gnum) and per type (customs duty, VAT, consumption tax), each rounded half up
to the fen. XBM computes it the same way (rules.line_taxes) and keeps its figures per line on the order when it
compares the documents (``Order.tax_lines``). A bill is compared line by line and type by type where it gives
per-line figures and XBM has its own, each within a fen where that type is levied on that line (exactly where it
is not); otherwise on the total, within a fen per line and type levied.

A bill that disagrees beyond that is listed in the exceptions (``tax_disagreements``) with both figures, until
the seller accepts customs' figure (:func:`accept`, with a note) or XBM's tax, computed again on the item records
as they are now (corrected rates), agrees with it (:func:`recompute`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customs.messages import Receipt
from services.compliance.orders import rules
from services.compliance.orders.models import Order
from services.compliance.orders.schemas import ActionOut, TaxDifferenceOut, TaxDisagreementOut
from shared.db import scoped, utcnow
from shared.errors import Conflict

#: XBM's name of each tax type → the CEB816 field that carries it
CEB816 = {"customs_duty": "customsTax", "vat": "valueAddedTax", "consumption_tax": "consumptionTax"}
ZERO = Decimal("0.00")
#: disagreements listed on the first page of the exceptions
MAX_LISTED = 100

Figures = dict[str, dict[str, str]]  # gnum → tax type → amount


def xbm_lines(document: dict[str, Any], facts: rules.Facts) -> list[dict[str, Any]] | None:
    """XBM's tax per line and type as customs bills it, with the types levied on each line; None for an export or
    an order XBM cannot compute (a line without an item record)."""
    items = document.get("items") or []
    if not facts.is_import or facts.missing_items or len(facts.lines) != len(items):
        return None
    full = rules.full_tax(facts)
    taxes = rules.line_taxes(facts.lines, facts.value, full)
    return [
        {"gnum": int(item.get("gnum") or i), "customs_duty": str(t.duty), "vat": str(t.vat),
         "consumption_tax": str(t.consumption), "levied": list(rules.levied(line, full))}
        for i, (item, line, t) in enumerate(zip(items, facts.lines, taxes, strict=True), start=1)
    ]  # fmt: skip


def _amount(text: str | None) -> Decimal:
    try:
        return Decimal(text or "0")
    except InvalidOperation:
        return ZERO


def customs_figures(r: Receipt) -> tuple[Decimal, Figures]:
    """The bill's total (its head's three amounts) and its per-line figures by gnum (empty when it gives none)."""
    total = sum((_amount(r.keys.get(field)) for field in CEB816.values()), ZERO)
    lines: Figures = {}
    for line in r.lines:
        gnum = line.get("gnum", "")
        if gnum.isdigit():
            lines[str(int(gnum))] = {name: str(_amount(line.get(field))) for name, field in CEB816.items()}
    return total, lines


def compare(
    ours: list[dict[str, Any]] | None, ours_total: Decimal | None, total: Decimal, lines: Figures
) -> dict[str, Any]:
    """Both figures, per line and type where both sides have them, else on the total; ``agrees`` says whether
    every difference is within its tolerance."""
    if ours and lines:
        rows = []
        for mine in ours:
            theirs = lines.get(str(mine["gnum"]), {})
            for name in rules.TAX_TYPES:
                xbm, customs = Decimal(mine[name]), _amount(theirs.get(name))
                tolerance = rules.FEN if name in mine["levied"] else ZERO
                rows.append({"gnum": mine["gnum"], "tax_type": name, "customs": _fen(customs), "xbm": _fen(xbm),
                             "difference": _fen(customs - xbm), "tolerance": _fen(tolerance),
                             "within": abs(customs - xbm) <= tolerance})  # fmt: skip
        known = {str(mine["gnum"]) for mine in ours}
        for gnum, theirs in lines.items():  # a line on the bill that XBM has not: all of it differs
            if gnum not in known:
                for name in rules.TAX_TYPES:
                    customs = _amount(theirs.get(name))
                    rows.append({"gnum": int(gnum), "tax_type": name, "customs": _fen(customs), "xbm": "0.00",
                                 "difference": _fen(customs), "tolerance": "0.00", "within": customs == 0})  # fmt: skip
        agrees = all(row["within"] for row in rows)
        tolerance = rules.FEN * sum(len(mine["levied"]) for mine in ours)
        differ = [row for row in rows if not row["within"]]
        return {"by": "line", "agrees": agrees, "customs_total": _fen(total), "xbm_total": _text(ours_total),
                "tolerance": _fen(tolerance), "lines": differ, "customs": lines}  # fmt: skip
    if ours:
        tolerance = rules.FEN * sum(len(mine["levied"]) for mine in ours)
    else:  # compared before XBM kept its figures per line: a fen per line and type the bill levies
        levied = [Decimal(v) for theirs in lines.values() for v in theirs.values() if Decimal(v)]
        tolerance = rules.FEN * max(len(levied), len(lines), 1)
    agrees = ours_total is not None and abs(total - ours_total) <= tolerance
    return {"by": "total", "agrees": agrees, "customs_total": _fen(total), "xbm_total": _text(ours_total),
            "tolerance": _fen(tolerance), "lines": [], "customs": lines}  # fmt: skip


def _fen(value: Decimal) -> str:
    """An amount shown to the fen (customs bills to the fen; a finer bill is compared exactly, shown rounded)."""
    return str(rules.round_fen(value))


def _text(value: Decimal | None) -> str | None:
    return None if value is None else _fen(value)


def _detail(review: dict[str, Any]) -> str:
    where = "line by line and type by type" if review["by"] == "line" else "on the total"
    detail = (
        f"customs' tax bill {review['customs_total']} vs XBM's {review['xbm_total']} (compared {where}, "
        f"±{review['tolerance']} rounding)"
    )
    differ = [f"line {r['gnum']} {r['tax_type']}: customs {r['customs']}, XBM {r['xbm']}" for r in review["lines"]]
    return detail + ("; differs: " + "; ".join(differ) if differ else "")


def _record(order: Order, review: dict[str, Any], passed: bool, detail: str) -> None:
    order.tax_review = review
    order.tax_disagrees = not passed
    checks = [c for c in order.checks or [] if c.get("rule") != "customs_tax"]
    order.checks = [*checks, {"rule": "customs_tax", "passed": passed, "detail": detail}]


def apply_bill(order: Order, r: Receipt) -> None:
    """A CEB816 received: kept beside XBM's tax and compared. A bill the seller already accepted, received again
    with the same figures, stays accepted."""
    total, lines = customs_figures(r)
    order.customs_tax = total
    review = compare(order.tax_lines, order.tax, total, lines)
    before = order.tax_review or {}
    if before.get("status") == "accepted" and before.get("customs_total") == review["customs_total"] \
            and before.get("customs") == review["customs"]:  # fmt: skip
        return
    review.update(status="agrees" if review["agrees"] else "disagrees", since=utcnow().isoformat())
    _record(order, review, review["agrees"], _detail(review))


def _open(order: Order) -> dict[str, Any]:
    review = order.tax_review or {}
    if not order.tax_disagrees or review.get("status") != "disagrees":
        raise Conflict(
            f"order {order.ebp_code}/{order.order_no} has no tax bill from customs that disagrees with XBM's tax"
        )
    return review


def accept(order: Order, note: str, by: str) -> None:
    """The seller takes customs' figure as the tax due (customs' bill is what is levied); the note says why."""
    review = dict(_open(order))
    review.update(status="accepted", note=note, accepted_by=by, accepted_at=utcnow().isoformat())
    detail = f"customs' tax bill {review['customs_total']} accepted over XBM's {review['xbm_total']}: {note}"
    _record(order, review, True, detail)


def recompute(order: Order, lines: list[dict[str, Any]] | None, tax: Decimal | None) -> None:
    """XBM's tax computed again (on the item records as they are now) and compared with the bill kept: the
    disagreement ends when they agree; otherwise it stays listed with the new figures."""
    review = _open(order)
    order.tax_lines, order.tax = lines, tax
    customs: Figures = review.get("customs") or {}
    again = compare(lines, tax, Decimal(review["customs_total"]), customs)
    again.update(status="agrees" if again["agrees"] else "disagrees", since=review.get("since"),
                 recomputed_at=utcnow().isoformat())  # fmt: skip
    _record(order, again, again["agrees"], _detail(again) + (" (XBM's tax computed again)" if again["agrees"] else ""))


async def disagreements(session: AsyncSession, org_id: str) -> list[Order]:
    """Orders whose customs tax bill disagrees with XBM's tax, oldest first (through their partial index)."""
    stmt = scoped(Order, org_id).where(Order.tax_disagrees.is_(True)).order_by(Order.created_at, Order.id)
    return list((await session.execute(stmt.limit(MAX_LISTED))).scalars())


def _since(order: Order) -> datetime:
    text = (order.tax_review or {}).get("since")
    return datetime.fromisoformat(text) if text else order.updated_at


def listed(order: Order) -> TaxDisagreementOut:
    """A disagreement as the exceptions list it: both figures, where they differ, and its ways back."""
    review = order.tax_review or {}
    customs, xbm = Decimal(review.get("customs_total") or "0"), review.get("xbm_total")
    path = f"/v1/compliance/orders/{order.ebp_code}/{order.order_no}/tax"
    return TaxDisagreementOut(
        ebp_code=order.ebp_code, order_no=order.order_no, state=order.state, customs_total=customs,
        xbm_total=Decimal(xbm) if xbm is not None else None,
        difference=_fen(customs - Decimal(xbm)) if xbm is not None else None,
        tolerance=Decimal(review.get("tolerance") or "0"), compared_by=review.get("by", "total"),
        lines=[TaxDifferenceOut.model_validate(row) for row in review.get("lines") or []],
        since=_since(order), cause=_detail(review) if review else "customs' tax bill disagrees with XBM's tax",
        actions=[
            ActionOut(action="recompute_tax", method="POST", path=f"{path}/recompute",
                      text="correct the item record's rates (PUT the item), then compute XBM's tax again: it ends "
                           "here once it agrees with customs' bill"),
            ActionOut(action="accept_customs_tax", method="POST", path=f"{path}/accept", fields=["note"],
                      text="or accept customs' figure as the tax due, with a note saying why"),
        ],
    )  # fmt: skip
