"""Which payment providers may collect a cross-border retail import payment: the one table XBM compares by.

A provider is either a bank (its banking licence covers payment; no PBOC payment licence is asked for) or a
non-bank payment institution holding a PBOC payment business licence. State Council Decree 768 (《非银行支付机构
监督管理条例》, in force 2024-05-01) sorts non-bank payment business into two types, stored-value account operation
(储值账户运营) and payment transaction processing (支付交易处理); the PBOC implementing rules (《非银行支付机构监督管理
条例实施细则》, PBOC Order [2024] No. 4) split each into sub-kinds I and II and map the older licences' business onto
them:

- internet payment (alone or with mobile, fixed-line or TV payment) → stored-value account operation I when it
  keeps payment accounts, else payment transaction processing I;
- bank card acquiring → payment transaction processing I;
- prepaid card issuance and acceptance → stored-value account operation II;
- mobile phone, fixed-line or digital TV payment without internet payment, and prepaid card acceptance alone →
  payment transaction processing II.

A cross-border retail payment is an internet payment the buyer makes online. XBM therefore accepts the categories
that carry internet payment (stored-value account operation I, payment transaction processing I, the category
named without its sub-kind, and the older ``internet_payment``) and refuses those that do not: bank card acquiring
alone (card-present acquiring under the old licences), prepaid cards, and the mobile/fixed-line/TV-only business
that became payment transaction processing II."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

BANK = "bank"
NON_BANK = "non_bank"
KINDS = (BANK, NON_BANK)


@dataclass(frozen=True)
class Category:
    """One business scope a licence may name, and whether it covers a cross-border online payment."""

    covers: bool
    #: what the scope is, in words (a failing check quotes it)
    means: str


#: every scope XBM knows: the Decree 768 categories first, then the licences issued before it
SCOPES: dict[str, Category] = {
    "stored_value_account": Category(True, "stored-value account operation (Decree 768), sub-kind not named"),
    "stored_value_account_i": Category(True, "stored-value account operation I: payment accounts, internet payment"),
    "stored_value_account_ii": Category(False, "stored-value account operation II: prepaid cards only"),
    "payment_transaction_processing": Category(True, "payment transaction processing (Decree 768), sub-kind not named"),
    "payment_transaction_processing_i": Category(
        True, "payment transaction processing I: internet payment and acquiring"
    ),
    "payment_transaction_processing_ii": Category(
        False,
        "payment transaction processing II: mobile, fixed-line or TV payment, or prepaid card acceptance, "
        "without internet payment",
    ),
    "internet_payment": Category(True, "internet payment (licence before Decree 768)"),
    "bank_card_acquiring": Category(False, "bank card acquiring (licence before Decree 768): card-present only"),
    "prepaid_card_issuance": Category(False, "prepaid card issuance (licence before Decree 768)"),
    "prepaid_card_acceptance": Category(False, "prepaid card acceptance (licence before Decree 768)"),
    "mobile_phone_payment": Category(False, "mobile phone payment without internet payment (before Decree 768)"),
    "fixed_line_payment": Category(False, "fixed-line payment (licence before Decree 768)"),
    "digital_tv_payment": Category(False, "digital TV payment (licence before Decree 768)"),
    BANK: Category(True, "a bank: its banking licence covers payment"),
}


def kind_of(kind: str | None, scopes: Sequence[str]) -> str:
    """The kind a provider is registered as: the one given, else ``bank`` when its scopes say so."""
    if kind is not None:
        return kind
    return BANK if BANK in scopes else NON_BANK


def covering(kind: str, scopes: Sequence[str]) -> tuple[bool, str]:
    """Whether a provider of ``kind`` whose licence names ``scopes`` may collect a cross-border online payment,
    and why in words."""
    if kind == BANK:
        return True, "a bank (its banking licence covers payment)"
    if BANK in scopes:
        return False, "registered as a non-bank institution but its scopes name bank: set kind to bank"
    covered = [s for s in scopes if s in SCOPES and SCOPES[s].covers]
    if covered:
        return True, f"licensed for {SCOPES[covered[0]].means}"
    if not scopes:
        return False, "its licence names no business scope"
    named = "; ".join(SCOPES[s].means if s in SCOPES else s for s in scopes)
    return False, f"its licence covers no cross-border online payment ({named})"
