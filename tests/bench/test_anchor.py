"""The benchmark's anchor (bench/anchor.py) answers as XBM does where the benchmark compares them: money written as
XBM writes it, the bench's canonical order accepted and a broken one refused, XBM's access tokens verified and
forged, expired or over-long ones refused."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.requests import Request

from bench import seed
from bench.anchor import INGESTERS, READERS, Refused, Verifier, amount, checked_order
from services.plans.identity.keys import SigningKey
from shared.auth import ALGORITHM, TOKEN_AUDIENCE, TOKEN_ISSUER
from shared.schemas import format_decimal


@pytest.mark.parametrize("units", [0, 1, 10, 100, 1000, 12340, 12345, 100_000_000, 600_000_000, -12_300, -5])
def test_money_reads_as_xbm_writes_it(units: int) -> None:
    assert amount(units) == format_decimal(Decimal(units).scaleb(-4))


def _body(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


def test_the_bench_order_is_taken_with_its_totals_agreeing_and_the_id_number_masked() -> None:
    order, totals_agree = checked_order(_body(seed.order("A1", seed.buyer_id(7))))
    assert totals_agree
    assert order["buyer"]["id_number"] == seed.buyer_id(7)[:6] + "*" * 8 + seed.buyer_id(7)[-4:]


def test_an_order_whose_totals_disagree_is_taken_as_a_mismatch_not_refused() -> None:
    data = seed.order("A1", seed.buyer_id(7))
    data["actual_paid"] = "250.00"
    assert checked_order(_body(data))[1] is False


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.pop("buyer"),
        lambda d: d.update(order_no="no spaces allowed"),
        lambda d: d.update(actual_paid="1.23456"),
        lambda d: d.update(items=[]),
        lambda d: d["buyer"].update(id_number="12345"),
    ],
)
def test_an_order_missing_what_the_matching_needs_is_refused(change: Any) -> None:
    data = seed.order("A1", seed.buyer_id(7))
    change(data)
    with pytest.raises(Refused) as refused:
        checked_order(_body(data))
    assert refused.value.status == 422


def _request(token: str) -> Request:
    return Request({"type": "http", "headers": [(b"authorization", f"Bearer {token}".encode())]})


@pytest.fixture
def plans_key() -> SigningKey:
    return SigningKey(Ed25519PrivateKey.generate())


def _verifier(key: SigningKey) -> Verifier:
    return Verifier({key.kid: jwt.PyJWK(key.public_jwk()).key})


def test_a_token_plans_minted_gives_its_organisation_and_role(plans_key: SigningKey) -> None:
    verifier = _verifier(plans_key)
    reader = plans_key.mint(subject="k1", org_id="org-1", role="analyst", ttl_seconds=900)
    assert verifier.principal(_request(reader), READERS) == "org-1"
    with pytest.raises(Refused) as refused:
        verifier.principal(_request(reader), INGESTERS)
    assert refused.value.status == 403


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": TOKEN_ISSUER, "aud": TOKEN_AUDIENCE, "sub": "k1", "org": "org-1", "role": "analyst",
              "iat": now, "exp": now + 900}  # fmt: skip
    return {k: v for k, v in {**claims, **changes}.items() if v is not None}


@pytest.mark.parametrize(
    "claims",
    [
        _claims(exp=int(time.time()) - 60),
        _claims(exp=int(time.time()) + 7200),
        _claims(iss="someone-else"),
        _claims(aud="another-audience"),
        _claims(org=None),
        _claims(role="owner"),
    ],
)
def test_a_token_xbm_would_refuse_is_refused(plans_key: SigningKey, claims: dict[str, Any]) -> None:
    token = jwt.encode(claims, plans_key._private, algorithm=ALGORITHM, headers={"kid": plans_key.kid})
    with pytest.raises(Refused) as refused:
        _verifier(plans_key).principal(_request(token), READERS)
    assert refused.value.status == 401


def test_a_token_of_another_key_or_unsigned_is_refused(plans_key: SigningKey) -> None:
    other = SigningKey(Ed25519PrivateKey.generate())
    forged = jwt.encode(_claims(), other._private, algorithm=ALGORITHM, headers={"kid": plans_key.kid})
    unsigned = jwt.encode(_claims(), None, algorithm="none", headers={"kid": plans_key.kid})
    for token in (forged, unsigned, "not-a-token"):
        with pytest.raises(Refused) as refused:
            _verifier(plans_key).principal(_request(token), READERS)
        assert refused.value.status == 401
