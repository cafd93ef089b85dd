"""Who chooses the secret: a source takes the platform's own key, verifies what the platform signs with it (and
nothing re-serialised), rotates it with the previous key valid for 24 h, and keeps it encrypted at rest.
WooCommerce's unsigned ping is answered 200 and stores nothing."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select, update

from services.compliance.deliveries import PlatformDelivery
from services.compliance.setup.models import Source
from shared.context import context_of
from shared.db import utcnow
from tests.compliance.platforms import deliver_shopify, deliver_woo, shopify, shopify_bytes, shopify_headers, woo
from tests.compliance.support import EBP
from tests.support import assert_problem

#: the form an app's client secret takes in the Shopify Partners dashboard
CLIENT_SECRET = "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"


async def add(client, tenant, **body):  # type: ignore[no-untyped-def]
    return await client.post("/v1/compliance/sources", headers=tenant.auth(),
                             json={"name": "Store", "role": "platform", "ebp_code": EBP, **body})  # fmt: skip


async def stored(app, source_id: str) -> int:  # type: ignore[no-untyped-def]
    async with context_of(app).sessionmaker() as session:
        stmt = select(func.count()).select_from(PlatformDelivery).where(PlatformDelivery.source_id == source_id)
        return int(await session.scalar(stmt))


async def test_a_shopify_source_verifies_what_shopify_signs_with_the_secret_given(compliance, compliance_app, tenant):
    r = await add(compliance, tenant, kind="shopify", secret=CLIENT_SECRET)
    assert r.status_code == 201, r.text
    source = r.json()
    assert source["secret"] == CLIENT_SECRET
    order = shopify("captured_hkd_line_discounts")
    r = await deliver_shopify(compliance, source, order)
    assert r.status_code == 200 and r.json()["status"] == "stored", r.text

    # the same order, re-serialised after Shopify signed it (as a proxy or a framework might): refused
    order["name"] = "#1072"
    signed = shopify_bytes(order)
    headers = shopify_headers(CLIENT_SECRET, signed)
    reserialised = json.dumps(json.loads(signed), indent=2).encode()
    assert_problem(await compliance.post(source["webhook_path"], content=reserialised, headers=headers), 401)
    other = shopify_headers("shpss_" + "0" * 32, signed)
    assert_problem(await compliance.post(source["webhook_path"], content=signed, headers=other), 401)
    assert await stored(compliance_app, source["id"]) == 1
    r = await compliance.post(source["webhook_path"], content=signed, headers=headers)
    assert r.status_code == 200 and r.json()["order_no"] == "1072"


async def test_secrets_are_encrypted_at_rest(compliance, compliance_app, tenant):
    source = (await add(compliance, tenant, kind="woocommerce", secret="typed in the Woo form 42")).json()
    async with context_of(compliance_app).sessionmaker() as session:
        row = await session.get(Source, source["id"])
        assert row is not None and "typed in the Woo form" not in row.secret_encrypted
    r = await compliance.get(f"/v1/compliance/sources/{source['id']}", headers=tenant.auth())
    assert "secret" not in r.json()


async def test_rotation_keeps_the_previous_secret_valid_for_24_hours(compliance, compliance_app, tenant):
    source = (await add(compliance, tenant, kind="shopify", secret=CLIENT_SECRET)).json()
    url = f"/v1/compliance/sources/{source['id']}/secret"
    r = await compliance.post(url, json={"secret": "shpss_new0000000000000000000000000000"}, headers=tenant.auth())
    assert r.status_code == 200, r.text
    assert r.json()["secret"] == "shpss_new0000000000000000000000000000"
    assert r.json()["previous_secret_until"] is not None
    old, new = dict(source), r.json()
    first, second = shopify("captured_hkd_line_discounts"), shopify("captured_hkd_line_discounts")
    second["name"], second["id"] = "#1073", 6200407294253
    assert (await deliver_shopify(compliance, old, first)).status_code == 200  # signed before Shopify had the new key
    assert (await deliver_shopify(compliance, new, second)).status_code == 200

    async with context_of(compliance_app).sessionmaker() as session:  # a day later
        await session.execute(update(Source).where(Source.id == source["id"])
                              .values(previous_secret_until=utcnow() - timedelta(seconds=1)))  # fmt: skip
        await session.commit()
    third = {**first, "name": "#1074", "id": 6200407294254}
    assert_problem(await deliver_shopify(compliance, old, third), 401)
    assert (await deliver_shopify(compliance, new, third)).status_code == 200

    generated = await compliance.post(url, headers=tenant.auth())  # no secret given: XBM makes one
    assert generated.status_code == 200 and len(generated.json()["secret"]) >= 32
    assert_problem(await compliance.post(url, headers=tenant.auth("analyst")), 403)


async def test_secret_and_trade_direction_on_create(compliance, tenant):
    assert_problem(await add(compliance, tenant, kind="shopify", secret="short"), 422)
    assert_problem(await add(compliance, tenant, kind="shopify", secret=" padded secret "), 422)
    body = {"name": "Pay", "kind": "standard_webhooks", "role": "payment", "pay_code": "PAY0000001"}
    r = await compliance.post("/v1/compliance/sources", json={**body, "secret": "whsec_notbase64!!"},
                              headers=tenant.auth())  # fmt: skip
    assert_problem(r, 422)
    good = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    r = await compliance.post("/v1/compliance/sources", json={**body, "secret": good}, headers=tenant.auth())
    assert r.status_code == 201 and r.json()["secret"] == good
    r = await add(compliance, tenant, kind="shopify", trade_direction="export")
    assert r.status_code == 201 and r.json()["trade_direction"] == "export" and len(r.json()["secret"]) == 64
    assert_problem(await add(compliance, tenant, kind="shopify", trade_direction="sideways"), 422)


async def test_woocommerce_ping_is_200_and_stores_nothing(compliance, compliance_app, tenant):
    source = (await add(compliance, tenant, kind="woocommerce")).json()
    r = await compliance.post(source["webhook_path"], content=b"webhook_id=12",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "ignored", r.text
    assert await stored(compliance_app, source["id"]) == 0
    # anything else unsigned is still refused
    assert_problem(await compliance.post(source["webhook_path"], content=b"webhook_id=12&x=1"), 401)
    r = await deliver_woo(compliance, source, woo("rest_api_docs_order_727"))
    assert r.status_code == 200 and await stored(compliance_app, source["id"]) == 1


async def test_only_an_oversized_body_is_413(compliance, compliance_app, tenant):
    source = (await add(compliance, tenant, kind="shopify", secret=CLIENT_SECRET)).json()
    order = shopify("captured_hkd_line_discounts")
    order["note"] = "x" * 1_100_000  # over the 1 MiB bodies are bounded to
    body = shopify_bytes(order)
    r = await compliance.post(source["webhook_path"], content=body, headers=shopify_headers(CLIENT_SECRET, body))
    assert_problem(r, 413)
    assert await stored(compliance_app, source["id"]) == 0
