"""The order states of compliance, the one table of the moves between them, and the named groups of states the
code reads — defined here once. It imports nothing of XBM: the event contracts (``contracts.py``) type their
state fields with :class:`OrderState`, and ``orders/state.py``'s ``change_state`` refuses any move the table
does not list. The moves are those the code makes (docs/flows.md, "Order states"); a new flow adds its move here
first."""

from __future__ import annotations

from enum import StrEnum


class OrderState(StrEnum):
    """Where an order is on its way from the platform through customs (the ``state`` of an order and of its
    events, and the values of the order list's ``state`` filter)."""

    INCOMPLETE = "incomplete"  # held until a field XBM needs is given (PATCH) or a later version brings it
    AWAITING_DOCUMENTS = "awaiting_documents"  # waiting for its payment and waybill
    MISMATCH = "mismatch"  # compared, a check failed
    MATCHED = "matched"  # compared, every check passed (declared at once, or waiting for its customs profile)
    DECLARED = "declared"  # the inventory list is sent
    REJECTED = "rejected"  # customs refused the list (or the order, payment or waybill message)
    ACCEPTED = "accepted"
    INSPECTION = "inspection"
    DETAINED = "detained"
    CLEARED = "cleared"
    RELEASED = "released"
    RETURNED = "returned"  # customs returned the goods, or an export's declared return was approved
    CLOSED = "closed"
    RETURNED_BY_BUYER = "returned_by_buyer"  # every line came back by declared returns (CEB625/626)
    CANCEL_REQUESTED = "cancel_requested"  # the list's withdrawal is sent, customs has not answered
    CANCELLED = "cancelled"
    # a B2B export routed to a customs declaration (报关单) instead of the list, then declared by a broker
    NEEDS_CUSTOMS_DECLARATION = "needs_customs_declaration"
    DECLARED_ELSEWHERE = "declared_elsewhere"


S = OrderState

#: not declared yet: a platform's new version replaces the document, and a cancellation simply ends the order
#: (an export held for a customs declaration has no list either)
BEFORE_DECLARATION = (S.INCOMPLETE, S.AWAITING_DOCUMENTS, S.MISMATCH, S.MATCHED, S.NEEDS_CUSTOMS_DECLARATION)
#: declared and not yet released: customs holds a list to withdraw
WITHDRAWABLE = (S.DECLARED, S.ACCEPTED, S.INSPECTION, S.DETAINED, S.CLEARED)
#: states in which customs' answers to the inventory list move the order
IN_CUSTOMS = (
    S.DECLARED, S.ACCEPTED, S.REJECTED, S.INSPECTION, S.DETAINED, S.CLEARED, S.RELEASED, S.CANCEL_REQUESTED,
)  # fmt: skip
#: released by customs (closed is released and its list concluded): may be returned, goes in a monthly summary
RELEASED = (S.RELEASED, S.CLOSED)
#: a released order whose goods all came back
RETURNED = (S.RETURNED, S.RETURNED_BY_BUYER)
#: customs' answers to the inventory list move the order no more (receipts.py)
LIST_SETTLED = (S.CLOSED, S.CANCELLED, *RETURNED, S.DECLARED_ELSEWHERE)
#: withdrawn (or being withdrawn) or declared outside XBM: a platform's later version changes nothing
WITHDRAWN_OR_OUTSIDE = (S.CANCEL_REQUESTED, S.CANCELLED, S.DECLARED_ELSEWHERE)
#: taken out of the customer register's released orders
TAKEN_OUT = (*RETURNED, S.CANCELLED)
#: compared and failed, or refused by customs: a document sent again that differs is its correction
CORRECTABLE = (S.MISMATCH, S.REJECTED)
#: the states in which the seller may correct the order by PATCH: held incomplete, or correctable as above
PATCHABLE = (S.INCOMPLETE, *CORRECTABLE)
#: the states from which an order can be compared again
REMATCHABLE = (S.INCOMPLETE, S.AWAITING_DOCUMENTS, S.MISMATCH, S.MATCHED, S.REJECTED, S.NEEDS_CUSTOMS_DECLARATION)
#: the orders the exceptions queue may list (its partial index, orders/models.py, is written from this tuple)
NEEDS_ATTENTION = (S.MISMATCH, S.INCOMPLETE, S.AWAITING_DOCUMENTS, S.REJECTED, S.NEEDS_CUSTOMS_DECLARATION, S.MATCHED)
#: orders whose dutiable value counts toward the buyer's annual quota (declared and not returned); a withdrawal
#: still pending counts until customs accepts it (imports only: the export states of a customs declaration,
#: needs_customs_declaration and declared_elsewhere, never count)
COUNTED_IN_QUOTA = (
    S.MATCHED, S.DECLARED, S.ACCEPTED, S.INSPECTION, S.DETAINED, S.CLEARED, S.RELEASED, S.CLOSED, S.CANCEL_REQUESTED,
)  # fmt: skip
#: the order views sort and compare states by (``matched`` and above passed the comparison)
STATE_RANK: dict[OrderState, int] = {
    S.INCOMPLETE: -1, S.AWAITING_DOCUMENTS: 0, S.MISMATCH: 1, S.MATCHED: 2, S.DECLARED: 3, S.REJECTED: 4,
    S.ACCEPTED: 5, S.INSPECTION: 6, S.DETAINED: 7, S.CLEARED: 8, S.RELEASED: 9, S.RETURNED: 10, S.CLOSED: 11,
    S.RETURNED_BY_BUYER: 12, S.CANCEL_REQUESTED: 13, S.CANCELLED: 14, S.NEEDS_CUSTOMS_DECLARATION: 15,
    S.DECLARED_ELSEWHERE: 16,
}  # fmt: skip

# --- the moves --------------------------------------------------------------------------------------------------

#: a platform's new version (orders/lifecycle.py) or a PATCH completing the order: validated again
_REVALIDATED = (S.INCOMPLETE, S.AWAITING_DOCUMENTS)
#: compared (orders/matching.py): a failed check, or all passed
_COMPARED = (S.MISMATCH, S.MATCHED)
#: customs' answers to the list (receipts.py inventory_transition and document_transition) before release
_ANSWERED = (S.REJECTED, S.ACCEPTED, S.INSPECTION, S.DETAINED, S.CLEARED, S.RETURNED, S.RELEASED, S.CLOSED)

#: THE transition table: the states an order in a state may enter (``change_state`` refuses any other move). A
#: state listing itself is entered again (a new version still incomplete, a comparison failing on other rules).
MOVES: dict[OrderState, frozenset[OrderState]] = {
    # validated again, compared once the payment and waybill are here, cancelled (or its buyer's data erased)
    S.INCOMPLETE: frozenset({*_REVALIDATED, S.CANCELLED}),
    S.AWAITING_DOCUMENTS: frozenset({*_REVALIDATED, *_COMPARED, S.CANCELLED}),
    S.MISMATCH: frozenset({*_REVALIDATED, *_COMPARED, S.CANCELLED}),
    # declared (orders/declaration.py), or held for a customs declaration (orders/routing.py)
    S.MATCHED: frozenset({*_REVALIDATED, S.DECLARED, S.NEEDS_CUSTOMS_DECLARATION, S.CANCELLED}),
    # compared again, listed after all (routed again within the limit), or declared by a broker
    S.NEEDS_CUSTOMS_DECLARATION: frozenset({*_REVALIDATED, *_COMPARED, S.DECLARED, S.DECLARED_ELSEWHERE, S.CANCELLED}),
    S.DECLARED: frozenset({*_ANSWERED, S.CANCEL_REQUESTED}),
    S.ACCEPTED: frozenset({*_ANSWERED, S.CANCEL_REQUESTED} - {S.ACCEPTED}),
    S.INSPECTION: frozenset({*_ANSWERED, S.CANCEL_REQUESTED} - {S.ACCEPTED, S.INSPECTION}),
    S.DETAINED: frozenset({*_ANSWERED, S.CANCEL_REQUESTED} - {S.ACCEPTED, S.DETAINED}),
    S.CLEARED: frozenset({*_ANSWERED, S.CANCEL_REQUESTED} - {S.ACCEPTED, S.CLEARED}),
    # customs' later answers, or the way back: corrected and compared again (declared again under the same
    # copNo), or cancelled (there is no list left to withdraw)
    S.REJECTED: frozenset({*_ANSWERED, *_REVALIDATED, *_COMPARED, S.CANCELLED} - {S.REJECTED}),
    # customs' answer to the withdrawal (cancelled, or refused: back where it was), or to the list meanwhile
    S.CANCEL_REQUESTED: frozenset({S.CANCELLED, *WITHDRAWABLE, S.REJECTED, S.RELEASED, S.CLOSED}),
    # the list concluded, customs returned the goods, an export's return or a buyer's returns approved
    S.RELEASED: frozenset({S.CLOSED, *RETURNED}),
    S.CLOSED: frozenset(RETURNED),
    # a buyer's return approved after customs returned the goods (orders/returns.py decide_return)
    S.RETURNED: frozenset({S.RETURNED_BY_BUYER}),
    S.RETURNED_BY_BUYER: frozenset(),
    S.CANCELLED: frozenset(),
    # its buyer's personal data erased: nothing of XBM's is left to hold it by (customers/erasure.py)
    S.DECLARED_ELSEWHERE: frozenset({S.CANCELLED}),
}
#: states no move leaves
TERMINAL = tuple(s for s in OrderState if not MOVES[s])


def may_move(current: str, new: str) -> bool:
    """True when the table lets an order in ``current`` enter ``new`` (an unknown state moves nowhere)."""
    return current in MOVES and new in MOVES[OrderState(current)]
