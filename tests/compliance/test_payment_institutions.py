"""Payment providers: a bank, or a non-bank institution licensed by the PBOC under Decree 768's categories (or an
older licence's scopes); which of them may collect a cross-border retail payment is one table
(setup/licences.py), and a failing check names the provider, its kind and scopes, and why."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from services.compliance.orders import rules
from services.compliance.setup import licences
from services.compliance.setup.schemas import Scope
from tests.compliance.support import PAY, Seller, buyer_id, new_order_no
from tests.support import assert_problem

#: what the comparison decides for a non-bank institution naming one scope (docs/payment-institutions.md)
EXPECTED = {
    "stored_value_account": True,
    "stored_value_account_i": True,
    "stored_value_account_ii": False,
    "payment_transaction_processing": True,
    "payment_transaction_processing_i": True,
    "payment_transaction_processing_ii": False,
    "internet_payment": True,
    "bank_card_acquiring": False,
    "prepaid_card_issuance": False,
    "prepaid_card_acceptance": False,
    "mobile_phone_payment": False,
    "fixed_line_payment": False,
    "digital_tv_payment": False,
}
PATH = "/v1/compliance/payment-institutions"


def _facts(inst: rules.Institution | None) -> rules.Facts:
    party = rules.Party("A", "1", "x")
    return rules.Facts(
        "import", 2026, *[rules.Decimal(0)] * 4, rules.Decimal(0), "CNY", "A", "h", True, party, PAY,
        rules.Decimal(0), "CNY", "A", "h", party, rules.Decimal(0), inst,
    )  # fmt: skip


def test_every_scope_the_api_takes_is_in_the_table_and_the_table_says_what_is_expected():
    assert set(get_args(Scope)) == set(licences.SCOPES) == {*EXPECTED, "bank"}
    for scope, covers in EXPECTED.items():
        check = rules.check_payment_institution(_facts(rules.Institution("active", [scope], "non_bank", "P")))
        assert check.passed is covers, (scope, check.detail)
        assert f"scopes {scope}" in check.detail and "non-bank" in check.detail


def test_a_bank_needs_no_payment_licence_scope_and_inactive_or_unknown_providers_fail():
    assert rules.check_payment_institution(_facts(rules.Institution("active", [], "bank", "ICBC"))).passed
    for status in ("suspended", "revoked"):
        for kind, scopes in (("bank", []), ("non_bank", ["stored_value_account_i"])):
            check = rules.check_payment_institution(_facts(rules.Institution(status, scopes, kind, "P")))
            assert not check.passed and status in check.detail
    assert "not registered" in rules.check_payment_institution(_facts(None)).detail
    # a licence naming a covering scope among others passes; one naming none of them says what it has
    mixed = rules.Institution("active", ["bank_card_acquiring", "payment_transaction_processing_i"], "non_bank", "P")
    assert rules.check_payment_institution(_facts(mixed)).passed
    only = rules.check_payment_institution(_facts(rules.Institution("active", [], "non_bank", "P")))
    assert not only.passed and "names no business scope" in only.detail


async def _institution(seller: Seller) -> dict[str, Any]:
    listed = await seller.client.get(PATH, headers=seller.tenant.auth())
    return next(i for i in listed.json()["items"] if i["pay_code"] == PAY)  # type: ignore[no-any-return]


async def _compare_with(
    compliance, tenant, n: int, change: dict[str, Any], seller: Seller | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The seller's provider changed as given, then an order paid through it compared: (provider, check)."""
    seller = seller or await Seller(compliance, tenant).setup()
    inst = await _institution(seller)
    r = await compliance.patch(f"{PATH}/{inst['id']}", json=change, headers=tenant.auth())
    assert r.status_code == 200, r.text
    order_no = new_order_no()
    view = await seller.deliver_all(order_no, buyer=buyer_id(n))
    check = next(c for c in view["checks"] if c["rule"] == "payment_institution")
    assert view["state"] == ("declared" if check["passed"] else "mismatch")
    return r.json(), check


@pytest.mark.parametrize("scope", sorted(EXPECTED))
async def test_each_scope_passes_or_fails_the_comparison_as_the_table_says(compliance, tenant, scope):
    inst, check = await _compare_with(compliance, tenant, 300, {"scopes": [scope]})
    assert (inst["kind"], inst["scopes"], inst["covers_cross_border"]) == ("non_bank", [scope], EXPECTED[scope])
    assert check["passed"] is EXPECTED[scope], check
    assert f"payment provider {PAY} (XBM Pay, non-bank, scopes {scope})" in check["detail"]
    if not EXPECTED[scope]:
        assert "covers no cross-border online payment" in check["detail"]


async def test_a_bank_passes_the_comparison(compliance, tenant):
    inst, check = await _compare_with(compliance, tenant, 301, {"kind": "bank", "scopes": []})
    assert (inst["kind"], inst["covers_cross_border"]) == ("bank", True)
    assert check["passed"] and "a bank" in check["detail"], check


@pytest.mark.parametrize("status", ["suspended", "revoked"])
async def test_a_suspended_or_revoked_bank_or_institution_fails(compliance, tenant, status):
    seller = await Seller(compliance, tenant).setup()
    inst, check = await _compare_with(compliance, tenant, 302, {"kind": "bank", "status": status}, seller)
    assert inst["covers_cross_border"] is False
    assert not check["passed"] and f"(XBM Pay, bank, scopes internet_payment) is {status}" in check["detail"]
    change = {"kind": "non_bank", "scopes": ["stored_value_account_i"], "status": status}
    _, check = await _compare_with(compliance, tenant, 303, change, seller)
    assert not check["passed"] and status in check["detail"]


async def test_a_bank_registers_by_kind_or_by_the_bank_scope(compliance, tenant):
    admin = tenant.auth()
    r = await compliance.post(PATH, json={"pay_code": "BANK000001", "name": "Bank of XBM", "scopes": ["bank"],
                                          "licence_no": "B0001H111000001"}, headers=admin)  # fmt: skip
    assert r.status_code == 201, r.text
    assert (r.json()["kind"], r.json()["scopes"], r.json()["covers_cross_border"]) == ("bank", ["bank"], True)
    r = await compliance.post(PATH, json={"pay_code": "BANK000002", "name": "Bank Two", "kind": "bank",
                                          "licence_no": "any licence text 1"}, headers=admin)  # fmt: skip
    assert r.status_code == 201 and r.json()["kind"] == "bank" and r.json()["scopes"] == []
    wrong = {"pay_code": "PAY0000009", "name": "Pay", "kind": "non_bank", "scopes": ["bank"], "licence_no": "Z1"}
    assert_problem(await compliance.post(PATH, json=wrong, headers=admin), 422)
    assert_problem(await compliance.post(PATH, json={**wrong, "kind": "savings"}, headers=admin), 422)
    # a non-bank made a bank by its scopes; back to non-bank only with scopes that are not bank
    r = await compliance.post(PATH, json={**wrong, "kind": None, "scopes": ["payment_transaction_processing_i"]},
                              headers=admin)  # fmt: skip
    assert r.status_code == 201 and r.json()["kind"] == "non_bank"
    path = f"{PATH}/{r.json()['id']}"
    r = await compliance.patch(path, json={"scopes": ["bank"]}, headers=admin)
    assert r.status_code == 200 and r.json()["kind"] == "bank"
    assert_problem(await compliance.patch(path, json={"kind": "non_bank"}, headers=admin), 422)
    r = await compliance.patch(path, json={"kind": "non_bank", "scopes": ["stored_value_account_ii"]}, headers=admin)
    assert r.status_code == 200 and (r.json()["kind"], r.json()["covers_cross_border"]) == ("non_bank", False)


async def test_the_older_scopes_keep_working_and_a_provider_made_a_bank_clears_its_waiting_orders(compliance, tenant):
    seller = await Seller(compliance, tenant).setup()  # registered with ["internet_payment"], no kind
    inst = await _institution(seller)
    assert (inst["kind"], inst["covers_cross_border"]) == ("non_bank", True)
    admin = tenant.auth()
    r = await compliance.patch(f"{PATH}/{inst['id']}", json={"scopes": ["bank_card_acquiring"]}, headers=admin)
    assert r.status_code == 200
    order_no = new_order_no()
    view = await seller.deliver_all(order_no, buyer=buyer_id(304))
    assert view["state"] == "mismatch"
    exceptions = await compliance.get("/v1/compliance/exceptions", headers=admin)
    [item] = [i for i in exceptions.json()["items"] if i["order_no"] == order_no]
    assert "bank_card_acquiring" in item["cause"] and "card-present" in item["cause"]
    assert any(a["action"] == "update_payment_institution" and "bank" in a["text"] for a in item["actions"])
    r = await compliance.patch(f"{PATH}/{inst['id']}", json={"kind": "bank"}, headers=admin)
    assert r.status_code == 200
    assert (await seller.order(order_no))["state"] == "declared"
