"""Personal data has a lifetime (docs/personal-data.md): a buyer's ID number, name, telephone, email and street are
in clear nowhere in the database (the file and its WAL on SQLite, a ``pg_dump`` on PostgreSQL); an erasure — by an
admin or by Shopify's ``customers/redact`` / ``shop/redact`` — leaves them nowhere at all, beyond the masked
customs record of a declared order; raw platform bodies are emptied after the retention."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.engine import URL, make_url

from services.compliance import sealed
from services.compliance.customers.models import Erasure
from services.compliance.deliveries import PlatformDelivery
from services.compliance.intake.retention import empty_expired, retention_job, sealing_job
from services.compliance.orders.models import Order
from services.compliance.pii import Pii
from shared.context import context_of
from shared.db import utcnow
from tests.compliance.platforms import shopify_bytes, shopify_headers
from tests.compliance.support import Seller, buyer_id, new_order_no, payment, shopify_order, waybill


class Person:
    """A buyer whose every identifier is a marker found nowhere else in the database."""

    def __init__(self) -> None:
        tag = secrets.token_hex(4)
        self.id_number = buyer_id(int(secrets.token_hex(2), 16) % 10_000)
        self.name = f"Mk{tag} Buyer"
        self.phone = "139" + "".join(str(secrets.randbelow(10)) for _ in range(8))
        self.email = f"mk{tag}@example.com"
        self.street = f"{tag} Marker Street"
        self.customer_id = int(secrets.token_hex(5), 16)

    def markers(self) -> list[str]:
        return [self.id_number, self.name, self.phone, self.email, self.street]

    def order(self, order_no: str, platform_id: int) -> dict[str, Any]:
        order = shopify_order(order_no, buyer=self.id_number, consignee_phone=self.phone)
        order["id"] = platform_id
        order["email"] = order["contact_email"] = self.email
        order["customer"] = {"id": self.customer_id, "email": self.email, "phone": self.phone,
                             "first_name": "Mk", "last_name": "Buyer"}  # fmt: skip
        order["shipping_address"].update(name=self.name, address1=self.street, phone=self.phone)
        order["billing_address"] = {"name": self.name, "phone": self.phone, "address1": self.street}
        order["browser_ip"] = "203.0.113.77"
        order["note_attributes"] = [a for a in order["note_attributes"] if a["name"] != "buyer_name"]
        return order


def _database_bytes(url: URL) -> bytes:
    if url.get_backend_name() == "sqlite":
        files = [Path(f"{url.database}{suffix}") for suffix in ("", "-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run(["pg_dump", "--data-only", dsn], capture_output=True, check=True, timeout=120).stdout


async def found_in_database(app: Any, markers: list[str]) -> set[str]:
    """The markers the database holds in clear: the SQLite file and WAL bytes, or a ``pg_dump`` of the database
    (every table, every column)."""
    url = make_url(context_of(app).settings.database_url)
    if url.get_backend_name() == "sqlite":
        async with context_of(app).sessionmaker() as session:
            await session.execute(text("PRAGMA wal_checkpoint(PASSIVE)"))
    data = await asyncio.to_thread(_database_bytes, url)
    # as written, as JSON escapes it, and as pg_dump writes bytea (hex)
    forms = {m: (m.encode(), m.encode("unicode_escape"), m.encode().hex().encode()) for m in markers}
    return {m for m, written in forms.items() if any(w in data for w in written)}


async def stored_order(app: Any, order_no: str) -> Order:
    async with context_of(app).sessionmaker() as session:
        return (await session.execute(select(Order).where(Order.order_no == order_no))).scalar_one()


async def delivered(seller: Seller, person: Person, order_no: str, platform_id: int) -> None:
    order = person.order(order_no, platform_id)
    source = seller.sources["shop"]
    body = shopify_bytes(order)
    r = await seller.client.post(source["webhook_path"], content=body, headers=shopify_headers(source["secret"], body))
    assert r.status_code in (200, 201), r.text
    pay = payment(order_no, buyer=person.id_number, payer_name=person.name)
    pay["payer"]["telephone"] = person.phone
    for r in (
        await seller.send_payment(pay),
        await seller.send_waybill(
            waybill(order_no, name=person.name, phone=person.phone, address=f"Beijing Haidian {person.street}")
        ),
    ):
        assert r.status_code in (200, 201), r.text


async def redact(seller: Seller, topic: str, body: dict[str, Any]) -> Any:
    source = seller.sources["shop"]
    raw = shopify_bytes(body)
    return await seller.client.post(
        source["webhook_path"], content=raw, headers=shopify_headers(source["secret"], raw, topic)
    )


async def test_a_delivery_leaves_no_identifier_in_clear_and_customers_redact_erases_it(
    compliance, compliance_app, tenant
):  # type: ignore[no-untyped-def]
    seller = await Seller(compliance, tenant).setup()
    person = Person()
    declared_no, waiting_no = new_order_no(), new_order_no()
    await delivered(seller, person, declared_no, person.customer_id + 1)
    declared = await seller.order(declared_no)
    assert declared["state"] == "declared", declared
    # a second order of the same buyer, compared and not yet declared (its waybill has not come)
    order = person.order(waiting_no, person.customer_id + 2)
    body = shopify_bytes(order)
    source = seller.sources["shop"]
    r = await compliance.post(source["webhook_path"], content=body, headers=shopify_headers(source["secret"], body))
    assert r.status_code in (200, 201), r.text

    # everything works from sealed data: the order reads back whole for the seller, and nothing is in clear on disk
    assert declared["documents"]["order"]["consignee"]["name"] == person.name
    assert declared["documents"]["order"]["consignee"]["telephone"] == person.phone
    assert await found_in_database(compliance_app, person.markers()) == set()
    # (the scan does see what is kept in clear: the order numbers)
    assert await found_in_database(compliance_app, [declared_no, waiting_no]) == {declared_no, waiting_no}

    r = await redact(seller, "customers/redact", {
        "shop_id": 954889, "shop_domain": "xbm-test.myshopify.com",
        "customer": {"id": person.customer_id, "email": person.email, "phone": person.phone},
        "orders_to_redact": [person.customer_id + 1, person.customer_id + 2],
    })  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["outcome"].startswith("erased"), r.json()

    # gone everywhere; the declared order keeps its customs record masked
    after = await seller.order(declared_no)
    consignee = after["documents"]["order"]["consignee"]
    assert consignee["name"] == person.name[0] + "*" * (len(person.name) - 1)
    assert consignee["telephone"] == "*" * 9 + person.phone[-2:]
    assert after["documents"]["order"]["buyer"]["id_number"] == person.id_number[:4] + "*" * 10 + person.id_number[-4:]
    assert after["state"] == "declared"
    waiting = await seller.order(waiting_no)
    assert waiting["state"] == "cancelled"  # nothing is left to declare it with
    assert waiting["documents"]["order"]["consignee"]["name"] == ""
    assert waiting["documents"]["order"]["buyer"]["name"] == ""
    assert (await stored_order(compliance_app, waiting_no)).buyer_id_encrypted == ""
    assert await found_in_database(compliance_app, person.markers()) == set()
    async with context_of(compliance_app).sessionmaker() as session:
        stmt = select(PlatformDelivery).where(PlatformDelivery.source_id == source["id"])
        bodies = {d.order_no: d.body for d in (await session.execute(stmt)).scalars().all()}
    assert bodies[declared_no] == b"" and bodies[waiting_no] == b""

    # recorded: by whom, when, what — no person
    r = await compliance.get("/v1/compliance/erasures", headers=tenant.auth())
    assert r.status_code == 200, r.text
    record = r.json()[0]
    assert record["requested_by"] == "shopify:customers/redact" and record["scope"] == "customer"
    assert record["counts"]["masked_orders"] == 1 and record["counts"]["orders"] == 1
    assert record["counts"]["payments"] == 1 and record["counts"]["waybills"] == 1
    assert record["counts"]["cancelled"] == 1
    said = str(record)
    assert not any(m in said for m in [*person.markers(), str(person.customer_id)])
    # the declared order's message to customs can no longer be built with the full ID: none is kept
    assert (await stored_order(compliance_app, declared_no)).buyer_id_encrypted == ""


async def test_an_admin_erases_a_buyer_by_the_platforms_customer_id(compliance, compliance_app, tenant):  # type: ignore[no-untyped-def]
    seller = await Seller(compliance, tenant).setup()
    person = Person()
    order_no = new_order_no()
    await delivered(seller, person, order_no, person.customer_id + 1)
    path = f"/v1/compliance/customers/{person.customer_id}/erasure"
    r = await compliance.post(path, headers=tenant.auth("analyst"))
    assert r.status_code == 403, r.text
    r = await compliance.post(path, headers=tenant.auth())
    assert r.status_code == 201, r.text
    assert r.json()["requested_by"].startswith("admin:")
    assert r.json()["counts"]["masked_orders"] == 1
    assert await found_in_database(compliance_app, person.markers()) == set()
    # again: nothing is kept of this buyer any more under that id
    r = await compliance.post("/v1/compliance/customers/no-such-buyer/erasure", headers=tenant.auth())
    assert r.status_code == 404, r.text
    r = await compliance.post("/v1/compliance/customers/-/erasure", headers=tenant.auth(), json={})
    assert r.status_code == 400, r.text
    r = await compliance.post(path, headers=tenant.auth(), json={"unknown": 1})
    assert r.status_code == 422, r.text


async def test_shop_redact_erases_everything_the_shop_brought_and_a_lookalike_body_nothing(
    compliance, compliance_app, tenant
):  # type: ignore[no-untyped-def]
    seller = await Seller(compliance, tenant).setup()
    person = Person()
    order_no = new_order_no()
    await delivered(seller, person, order_no, person.customer_id + 1)
    # a signed order body re-sent under the redact topic erases nothing
    r = await redact(seller, "shop/redact", person.order(new_order_no(), 5))
    assert r.status_code == 200 and r.json()["outcome"].startswith("ignored"), r.text
    assert (await seller.order(order_no))["documents"]["order"]["consignee"]["name"] == person.name
    request = {"shop_id": 954889, "shop_domain": "xbm-test.myshopify.com", "orders_requested": [],
               "customer": {"id": person.customer_id, "email": person.email, "phone": person.phone},
               "data_request": {"id": 9999}}  # fmt: skip
    r = await redact(seller, "customers/data_request", request)
    assert r.status_code == 200 and r.json()["outcome"].startswith("ignored"), r.text
    async with context_of(compliance_app).sessionmaker() as session:
        stmt = select(PlatformDelivery.body).where(PlatformDelivery.topic == "customers/data_request")
        assert set((await session.execute(stmt)).scalars().all()) == {b""}
    r = await redact(seller, "shop/redact", {"shop_id": 954889, "shop_domain": "xbm-test.myshopify.com"})
    assert r.status_code == 200, r.text
    assert r.json()["outcome"].startswith("erased"), r.json()
    assert (await seller.order(order_no))["documents"]["order"]["consignee"]["name"].startswith(person.name[0] + "*")
    assert await found_in_database(compliance_app, person.markers()) == set()
    async with context_of(compliance_app).sessionmaker() as session:
        stmt = select(PlatformDelivery.body).where(PlatformDelivery.source_id == seller.sources["shop"]["id"])
        assert set((await session.execute(stmt)).scalars().all()) == {b""}
        record = (await session.execute(select(Erasure).where(Erasure.org_id == tenant.org_id))).scalar_one()
    assert record.scope == "shop" and record.requested_by == "shopify:shop/redact"


async def test_raw_bodies_are_emptied_after_the_retention_except_those_waiting(compliance, compliance_app, tenant):  # type: ignore[no-untyped-def]
    seller = await Seller(compliance, tenant).setup()
    source = seller.sources["shop"]
    order_no = new_order_no()
    order, webhook_id = shopify_order(order_no, buyer=buyer_id(7)), str(uuid.uuid4())
    r = await seller.send_order(order, webhook_id)
    assert r.status_code in (200, 201), r.text
    refund = {"id": 1, "order_id": 987654321, "created_at": "2026-09-01T10:00:00+08:00", "refund_line_items": []}
    raw = shopify_bytes(refund)
    r = await compliance.post(source["webhook_path"], content=raw,
                              headers=shopify_headers(source["secret"], raw, "refunds/create"))  # fmt: skip
    assert r.status_code == 200 and r.json()["outcome"].startswith("waiting"), r.text
    sessions = context_of(compliance_app).sessionmaker
    assert await empty_expired(sessions, timedelta(days=90)) == 0  # nothing old yet
    async with sessions() as session, session.begin():
        await session.execute(
            update(PlatformDelivery)
            .where(PlatformDelivery.source_id == source["id"])
            .values(received_at=utcnow() - timedelta(days=91))
        )
    assert await empty_expired(sessions, timedelta(days=90)) == 1
    async with sessions() as session:
        stmt = select(PlatformDelivery.outcome, PlatformDelivery.body).where(PlatformDelivery.source_id == source["id"])
        rows = dict((await session.execute(stmt)).all())  # type: ignore[arg-type]
    assert rows["stored"] == b"" and rows["waiting"] != b""
    # the row stays: the same delivery again is still a redelivery
    r = await seller.send_order(order, webhook_id)
    assert r.status_code == 200 and r.json()["status"] == "duplicate", r.text

    # the relay's job looks at most every five minutes in a process
    job = retention_job(lambda: sessions, 90)
    async with sessions() as session, session.begin():
        await session.execute(
            update(PlatformDelivery)
            .where(PlatformDelivery.source_id == source["id"], PlatformDelivery.outcome == "stored")
            .values(body=b"x", received_at=utcnow() - timedelta(days=91))
        )
    assert await job() == 1
    async with sessions() as session, session.begin():
        await session.execute(
            update(PlatformDelivery)
            .where(PlatformDelivery.source_id == source["id"], PlatformDelivery.outcome == "stored")
            .values(body=b"x")
        )
    assert await job() == 0  # not again so soon


async def test_what_an_older_xbm_stored_in_clear_is_sealed_by_the_relay(
    compliance, compliance_app, tenant, monkeypatch
):  # type: ignore[no-untyped-def]
    seller = await Seller(compliance, tenant).setup()
    person = Person()
    order_no = new_order_no()
    # as stored before documents and bodies were sealed
    with monkeypatch.context() as m:
        m.setattr(sealed, "_current", [])
        m.setattr(Pii, "seal", lambda self, plain, context: plain)
        await delivered(seller, person, order_no, person.customer_id + 1)
    assert await found_in_database(compliance_app, person.markers()) == set(person.markers())
    assert (await seller.order(order_no))["documents"]["order"]["consignee"]["name"] == person.name

    job = sealing_job(lambda: context_of(compliance_app).sessionmaker, context_of(compliance_app).pii)
    passes = 0
    while await job() and passes < 1000:
        passes += 1
    assert await job() == 0
    assert await found_in_database(compliance_app, person.markers()) == set()
    order = await seller.order(order_no)  # still read whole
    assert order["documents"]["order"]["consignee"]["name"] == person.name
    assert order["documents"]["waybill"]["consignee"]["telephone"] == person.phone
