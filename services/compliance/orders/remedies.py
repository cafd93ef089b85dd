"""What resolves each exception (``GET /v1/compliance/exceptions``): its cause in words and the actions, each
machine-readable (``action`` and the request that does it) and in words. Pure: the order and what the caller read
about its setup in, actions out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.compliance.orders.models import Order
from services.compliance.orders.schemas import ActionOut, ExceptionOut

ORDERS = "/v1/compliance/orders"


@dataclass(frozen=True)
class Setup:
    """What the setup lacks for one order: the items without a record, its payment's institution and whether it
    is registered."""

    missing_items: Sequence[str] = field(default_factory=tuple)
    pay_code: str | None = None
    institution_id: str | None = None


def _order_path(o: Order) -> str:
    return f"{ORDERS}/{o.ebp_code}/{o.order_no}"


def _rematch(o: Order, text: str) -> ActionOut:
    return ActionOut(action="rematch", text=text, method="POST", path=f"{_order_path(o)}/rematch")


def _correct_order(o: Order, fields: list[str], text: str) -> ActionOut:
    return ActionOut(
        action="correct_order", text=text, method="PATCH", path=_order_path(o), fields=fields, automatic=True
    )


def _correct(kind: str, fields: list[str], text: str) -> ActionOut:
    return ActionOut(
        action="correct_payment" if kind == "payment" else "correct_waybill",
        text=text,
        method="POST",
        path=f"/v1/compliance/{kind}s",
        fields=fields,
        automatic=True,
    )


def _institution(setup: Setup, text_new: str, text_change: str) -> ActionOut:
    if setup.institution_id is None:
        path = "/v1/compliance/payment-institutions"
        return ActionOut(action="register_payment_institution", text=text_new, method="POST", path=path,
                         pay_code=setup.pay_code, automatic=True)  # fmt: skip
    return ActionOut(action="update_payment_institution", text=text_change, method="PATCH",
                     path=f"/v1/compliance/payment-institutions/{setup.institution_id}", pay_code=setup.pay_code,
                     automatic=True)  # fmt: skip


TRANSPORT = "send the waybill again with the flight or vessel, voyage and master bill (a direct import needs them)"


def _for_rule(o: Order, rule: str, setup: Setup, failing: set[str]) -> list[ActionOut]:
    """The actions that fix one failing check."""
    if rule == "item_records":
        return [
            ActionOut(action="add_item_record", text=f"add the item record of {n} (its customs name, HS code, units)",
                      method="PUT", path=f"/v1/compliance/items/{n}", item_no=n, automatic=True)
            for n in setup.missing_items
        ]  # fmt: skip
    if rule == "payment_institution":
        return [
            _institution(
                setup,
                f"register the payment provider {setup.pay_code}: a bank (kind bank), or a payment institution "
                "licensed for internet payment (stored_value_account_i, payment_transaction_processing_i or "
                "internet_payment)",
                f"make the payment provider {setup.pay_code} active, and a bank or licensed for internet payment "
                "(stored_value_account_i, payment_transaction_processing_i or internet_payment)",
            )
        ]
    if rule == "tax" and "item_records" in failing:
        return []  # computed once the item records are there
    amounts = ["goods_value", "freight", "discount", "tax_total", "actual_paid"]
    fixes: dict[str, list[ActionOut]] = {
        "order_total": [_correct_order(o, amounts, "correct the order's amounts so that they add up")],
        "tax": [_correct_order(o, ["tax_total"], "correct the order's tax_total to the tax customs computes")],
        "amount_paid": [
            _correct_order(o, ["actual_paid"], "correct the amount the order says was paid"),
            _correct("payment", ["amount_paid"], "or send the payment again with the amount really paid"),
        ],
        "currency": [
            _correct_order(o, ["currency"], "correct the order's currency"),
            _correct("payment", ["currency"], "or send the payment again in the order's currency"),
        ],
        "consignee": [
            _correct_order(o, ["consignee"], "correct the consignee on the order"),
            _correct("waybill", ["consignee"], "or send the waybill again with the order's consignee"),
        ],
        "payer_identity": [
            _correct_order(o, ["buyer"], "correct the buyer (name, ID number) or mark the buyer verified"),
            _correct("payment", ["payer"], "or send the payment again naming the buyer as payer"),
        ],
        "destination": [_correct_order(o, ["destination_country"], "give the country the goods go to")],
        "pod": [_correct("waybill", ["pod"], "send the waybill again with its port of destination")],
        "transport": [_correct("waybill", ["traf_no", "voyage_no", "bill_no"], TRANSPORT)],
        "logistics_no": [_correct("waybill", ["logistics_no"], "the waybill number is longer than customs takes")],
        "single_limit": [_cancel(o, "above the single-transaction limit: it cannot clear as cross-border retail")],
        "annual_limit": [_cancel(o, "the buyer's annual limit is used up: it cannot clear this year")],
    }
    return fixes.get(rule, [])


def _cancel(o: Order, text: str) -> ActionOut:
    return ActionOut(action="cancel", text=text, method="POST", path=f"{_order_path(o)}/cancellation")


def _dedupe(actions: list[ActionOut]) -> list[ActionOut]:
    seen, out = set(), []
    for action in actions:
        key = (action.action, action.path, action.item_no)
        if key not in seen:
            seen.add(key)
            out.append(action)
    return out


def mismatch(o: Order, setup: Setup) -> tuple[str, list[ActionOut]]:
    checks: list[dict[str, Any]] = [c for c in o.checks or [] if not c.get("passed")]
    failing = {str(c.get("rule")) for c in checks}
    cause = "; ".join(str(c.get("detail")) for c in checks) or "a check failed"
    actions = [a for c in checks for a in _for_rule(o, str(c.get("rule")), setup, failing)]
    actions.append(_rematch(o, "compare again now (it runs by itself once a fix above is made)"))
    return cause, _dedupe(actions)


def incomplete(o: Order, missing: list[str]) -> tuple[str, list[ActionOut]]:
    cause = f"XBM needs {', '.join(missing)} to compare the order" if missing else "the order is incomplete"
    return cause, [
        ActionOut(action="complete_order", text="give the missing fields", method="PATCH", path=_order_path(o),
                  fields=missing, automatic=True),
        _rematch(o, "validate again now (after a setup change, e.g. a country customs now lists)"),
    ]  # fmt: skip


def missing_documents(o: Order, missing: list[str]) -> tuple[str, list[ActionOut]]:
    cause = f"no {' and no '.join(missing)} arrived for this order" if missing else "a document is missing"
    return cause, [
        ActionOut(action="send_documents", text=f"send the {kind} (its sender, or POST it)", method="POST",
                  path=f"/v1/compliance/{kind}s", fields=[kind], automatic=True)
        for kind in missing
    ]  # fmt: skip


def awaiting_profile(o: Order, missing: str | None) -> ExceptionOut:
    """A matched order no customs profile declares (``missing`` says which one it needs); None: one does now."""
    if missing is None:
        cause, actions = "a customs profile declares it now", [_rematch(o, "compare it again: it is declared")]
    else:
        cause, actions = missing, [ActionOut(
            action="add_customs_profile", text="add the customs profile it needs (or name one on its source); it "
            "is declared as soon as the profile is saved", method="POST", path="/v1/compliance/customs-profiles",
            fields=["customs_profile"], automatic=True,
        )]  # fmt: skip
    return ExceptionOut(ebp_code=o.ebp_code, order_no=o.order_no, state=o.state, reason="awaiting_profile",
                        failing_rules=[], missing=["customs_profile"], since=o.state_changed_at, cause=cause,
                        actions=actions)  # fmt: skip


def changed_after_declaration(o: Order, changed: list[str]) -> tuple[str, list[ActionOut]]:
    cause = f"the platform changed {', '.join(changed) or 'the order'} after it was declared"
    return cause, [_cancel(o, "customs holds the first version: withdraw the declaration (cancellation)")]


def rejected(o: Order) -> tuple[str, list[ActionOut]]:
    refusal = o.refusal or {}
    said = refusal.get("info") or "no reason given"
    cause = f"customs refused the declaration ({refusal.get('message', 'receipt')} {refusal.get('status', '')}): {said}"
    return cause, [
        ActionOut(action="correct_and_redeclare", method="POST", path=f"{_order_path(o)}/rematch",
                  text="correct what customs names (PATCH the order, fix the item record, the payment or the "
                       "waybill), then declare again: the order is compared and, once it passes, declared again "
                       "under its copNo"),
        _correct_order(o, [], "correct the order; it is compared and declared again at once"),
        _cancel(o, "or give up the order"),
    ]  # fmt: skip


def customs_declaration(
    o: Order, reasons: list[dict[str, Any]], currency: str, day: date
) -> tuple[str, list[ActionOut]]:
    """A B2B export held for a customs declaration (报关单): its reasons in words; without the day's rate, the
    rate to add (it is routed again by itself), else the broker's document and recording its declaration."""
    cause = "; ".join(str(r.get("text")) for r in reasons) or "to be declared by customs declaration (报关单)"
    path = f"{_order_path(o)}/customs-declaration"
    actions = []
    if any(r.get("code") == "no_rate" for r in reasons):
        actions.append(ActionOut(action="add_exchange_rate", method="PUT", automatic=True,
                                 path=f"/v1/compliance/exchange-rates/{currency}/{day.isoformat()}",
                                 text=f"add the {currency}→CNY rate of {day.isoformat()} (with its source); the order "
                                      "is routed again at once"))  # fmt: skip
    if any(r.get("code") != "no_rate" for r in reasons):
        actions.append(ActionOut(action="declare_by_customs_declaration", method="GET", path=path,
                                 text="give the broker this document to declare the export by customs declaration "
                                      "(报关单)"))  # fmt: skip
        actions.append(ActionOut(action="record_customs_declaration", method="POST", path=f"{path}/declared",
                                 fields=["entry_id", "declared_on"],
                                 text="once declared, record the declaration's 18-digit entry number"))  # fmt: skip
    actions.append(ActionOut(action="reroute", method="POST", path=f"{path}/reroute",
                             text="route it again after correcting the rate, the order or an item record (within "
                                  "¥5,000 and no licence or inspection: it is listed)"))  # fmt: skip
    actions.append(_cancel(o, "or give up the order"))
    return cause, actions
