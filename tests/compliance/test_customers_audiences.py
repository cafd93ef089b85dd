"""Remarketing audiences: the SHA-256 of the normalised email (trimmed, lower-cased) and of the phone in E.164,
exactly as Google Ads Customer Match and Meta Custom Audiences take them, computed here independently of
XBM's normaliser; never an identifier in clear in a response or a log line, never an import buyer."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import uuid

from hypothesis import given
from hypothesis import strategies as st

from services.compliance.customers import audiences as audience_service
from services.compliance.customers import identity
from tests.compliance.customer_season import (
    END,
    Clock,
    announce_tier,
    export_order,
    release_export,
    release_import,
    tier,
)
from tests.compliance.support import Seller, buyer_id, new_order_no
from tests.support import assert_problem


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


local = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-+", min_size=1, max_size=20)
domain = st.from_regex(r"[a-z0-9]{1,12}\.(com|org|co\.uk|de)", fullmatch=True)
spaces = st.text(alphabet=" \t\n", max_size=3)


@given(local, domain, st.randoms(use_true_random=False), spaces, spaces)
def test_an_email_in_any_case_and_padding_hashes_as_its_trimmed_lower_case_form(name, host, rnd, before, after):
    canonical = f"{name}@{host}"
    written = before + "".join(c.upper() if rnd.random() < 0.5 else c for c in canonical) + after
    assert identity.audience_hash(identity.normalise_email(written) or "") == sha(canonical)


US_AREA = st.sampled_from(["201", "212", "305", "415", "617", "646", "702", "808"])
US_LINE = st.integers(min_value=0, max_value=9999).map(lambda n: f"{n:04d}")
US_EXCHANGE = st.integers(min_value=200, max_value=999).map(str)
US_FORMATS = (
    "+1 {a} {e} {l}",
    "+1-{a}-{e}-{l}",
    "({a}) {e}-{l}",
    "{a}.{e}.{l}",
    "1 ({a}) {e}-{l}",
    "{a}{e}{l}",
    " +1 ({a}) {e} {l} ",
)


@given(US_AREA, US_EXCHANGE, US_LINE, st.sampled_from(US_FORMATS))
def test_a_us_phone_in_any_common_format_hashes_as_its_e164_form(area, exchange, line, fmt):
    written = fmt.format(a=area, e=exchange, l=line)
    e164 = "+1" + area + exchange + line  # built by hand, not by phonenumbers
    assert identity.audience_hash(identity.normalise_phone(written, "US") or "") == sha(e164)


def test_national_numbers_are_read_in_the_buyers_country():
    for written, country, e164 in (
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 20 7946 0958", None, "+442079460958"),
        ("030 901820", "DE", "+4930901820"),
        ("0049 30 901820", "DE", "+4930901820"),
        ("135-2265-2231", "CN", "+8613522652231"),
        ("03-1234-5678", "JP", "+81312345678"),
    ):
        assert identity.normalise_phone(written, country) == e164, written
        assert identity.audience_hash(identity.normalise_phone(written, country) or "") == sha(e164)
    assert identity.normalise_phone("12", "US") is None
    assert identity.normalise_phone("not a phone", None) is None
    assert identity.normalise_email("no-at-sign") is None


EMAIL_A, PHONE_A = "  Ana.Lima@Example.COM ", "+1 (415) 555-0123"
EMAIL_B = "bob@example.org"
PHONE_C = "020 7946 0958"


async def _buyers(compliance, compliance_app, tenant, monkeypatch):  # type: ignore[no-untyped-def]
    """A (email + phone, two orders, active), B (email only, lapsed), C (phone only, GB, new), and an import
    buyer who must never appear."""
    seller = await Seller(compliance, tenant).setup()
    clock = Clock(monkeypatch)
    await release_import(seller, clock, buyer_id(4000), 5)
    a1 = export_order(new_order_no(), 4001, "60.00", email=EMAIL_A, phone=PHONE_A, country="US")
    a2 = export_order(new_order_no(), 4002, "60.00", email="ana.lima@example.com", phone="+1 415 555 0100",
                      country="US")  # fmt: skip
    b = export_order(new_order_no(), 4003, "20.00", email=EMAIL_B, phone="12", country="US")
    c = export_order(new_order_no(), 4004, "30.00", email=None, phone=PHONE_C, country=None, customs_country="303")
    for order, days in ((a1, 50), (a2, 45), (b, 250), (c, 3)):
        await release_export(compliance_app, seller, clock, order, days)
    # audiences place buyers in stages as of today: today is the season's end
    monkeypatch.setattr(audience_service, "utcnow", lambda: END)
    return seller


async def test_audiences_hash_every_identifier_and_show_none(compliance, compliance_app, tenant, monkeypatch, caplog):
    # every logger at INFO (what a deployment runs), XBM's own down to DEBUG; the database driver's DEBUG echo of
    # SQL parameters is not a log a deployment keeps
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="xbm")
    await _buyers(compliance, compliance_app, tenant, monkeypatch)
    r = await compliance.get("/v1/compliance/audiences", headers=tenant.auth())
    assert r.status_code == 200, r.text
    got = {(m["email_sha256"], m["phone_sha256"], m["country"]) for m in r.json()["items"]}
    assert got == {
        (sha("ana.lima@example.com"), sha("+14155550123"), "US"),  # the first order's phone stays the buyer's
        (sha("bob@example.org"), None, "US"),  # "12" is no phone number
        (None, sha("+442079460958"), "GB"),  # national number, country from the customs code 303
    }
    r_csv = await compliance.get("/v1/compliance/audiences?format=csv", headers=tenant.auth())
    assert r_csv.status_code == 200 and r_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r_csv.text)))
    assert {(row["Email"] or None, row["Phone"] or None, row["Country"]) for row in rows} == got

    # nothing in clear: not in the answers, not in any log line of the whole season (and there were some)
    assert any(rec.name.startswith("xbm") for rec in caplog.records)
    clear = ("ana.lima", "Ana.Lima", "bob@", "example.org", "4155550123", "415) 555", "2079460958", buyer_id(4000))
    for text in (r.text, r_csv.text, caplog.text, *(rec.getMessage() for rec in caplog.records)):
        for value in clear:
            assert value not in text, f"{value!r} appeared in clear"


async def test_audiences_by_stage_and_tier_and_page_by_page(compliance, compliance_app, tenant, monkeypatch):
    await _buyers(compliance, compliance_app, tenant, monkeypatch)
    url = "/v1/compliance/audiences"
    # as of the season's end: A last ordered 45 days before (active), B 250 (lapsed), C 3 and for the first time
    expected = {"new": [(None, sha("+442079460958"))], "active": [(sha("ana.lima@example.com"), sha("+14155550123"))],
                "at_risk": [], "lapsed": [(sha("bob@example.org"), None)]}  # fmt: skip
    seen = []
    for stage, members in expected.items():
        r = await compliance.get(f"{url}?stage={stage}", headers=tenant.auth())
        assert r.status_code == 200, r.text
        assert [(m["email_sha256"], m["phone_sha256"]) for m in r.json()["items"]] == members, stage
        seen += r.json()["items"]

    plan_id, regular, loyal = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    await announce_tier(compliance, tenant, "membership_tier.created",
                        tier(loyal, plan_id, "Loyal", 2, 2, window_days=3650))  # fmt: skip
    await announce_tier(compliance, tenant, "membership_tier.created",
                        tier(regular, plan_id, "Regular", 1, 1, window_days=3650))  # fmt: skip
    loyal_members = (await compliance.get(f"{url}?tier={loyal}", headers=tenant.auth())).json()["items"]
    assert [m["email_sha256"] for m in loyal_members] == [sha("ana.lima@example.com")]
    regular_members = (await compliance.get(f"{url}?tier={regular}", headers=tenant.auth())).json()["items"]
    assert len(regular_members) == 2 and sha("ana.lima@example.com") not in str(regular_members)

    first = (await compliance.get(f"{url}?limit=2", headers=tenant.auth())).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = (await compliance.get(f"{url}?limit=2&cursor={first['next_cursor']}", headers=tenant.auth())).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert {str(m) for m in first["items"] + rest["items"]} == {str(m) for m in seen}

    assert_problem(await compliance.get(url, headers=tenant.auth("analyst")), 403)
    assert_problem(await compliance.get(f"{url}?tier={uuid.uuid4()}", headers=tenant.auth()), 404)
    assert_problem(await compliance.get(f"{url}?cursor=garbage", headers=tenant.auth()), 422)
    assert_problem(await compliance.get(f"{url}?stage=sleeping", headers=tenant.auth()), 422)
    assert_problem(await compliance.get(f"{url}?format=xml", headers=tenant.auth()), 422)


async def test_another_organisation_sees_none_of_these_buyers_or_tiers(
    compliance, compliance_app, tenant, other_tenant, monkeypatch
):
    await _buyers(compliance, compliance_app, tenant, monkeypatch)
    tier_id = str(uuid.uuid4())
    await announce_tier(compliance, tenant, "membership_tier.created", tier(tier_id, str(uuid.uuid4()), "T", 1, 1))
    r = await compliance.get("/v1/compliance/audiences", headers=other_tenant.auth())
    assert r.status_code == 200 and r.json()["items"] == []
    assert_problem(await compliance.get(f"/v1/compliance/audiences?tier={tier_id}", headers=other_tenant.auth()), 404)


async def test_an_erased_buyer_leaves_the_audiences(compliance, compliance_app, tenant, monkeypatch):  # type: ignore[no-untyped-def]
    await _buyers(compliance, compliance_app, tenant, monkeypatch)
    r = await compliance.post(
        "/v1/compliance/customers/-/erasure", headers=tenant.auth(), json={"email": "  BOB@example.org "}
    )
    assert r.status_code == 201, r.text
    assert r.json()["counts"]["customers"] == 1 and r.json()["counts"]["masked_orders"] == 1
    r = await compliance.get("/v1/compliance/audiences", headers=tenant.auth())
    assert r.status_code == 200, r.text
    got = {(m["email_sha256"], m["phone_sha256"], m["country"]) for m in r.json()["items"]}
    assert got == {(sha("ana.lima@example.com"), sha("+14155550123"), "US"), (None, sha("+442079460958"), "GB")}
