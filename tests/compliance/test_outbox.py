"""The customs outbox is fair: a message that cannot go yet (waiting for customs' list number, a signer that is
down, an item record removed) waits on its own with its reason and next attempt, never in another's way; another
organisation's new order goes in the very next pass, also with two relays on one database (run this file with
XBM_TEST_BACKEND=postgres for the PostgreSQL proof). A signing failure is a state the seller sees — the message
``failed`` with its reason on the order and in the exceptions, its XML a 503 with Retry-After — and the message is
signed and sent by itself once the signer is back. Every envelope written satisfies the transfer XSD."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from sqlalchemy import delete, func, select

from services.compliance.app import MIGRATIONS as COMPLIANCE_MIGRATIONS
from services.compliance.app import create_app as create_compliance
from services.compliance.context import compliance_context
from services.compliance.customs.context import CustomsContext
from services.compliance.customs.models import CustomsMessage
from services.compliance.customs.signing import AgentSigner, FileSigner
from services.compliance.customs.xsd import BUNDLED as XSD_DIR
from services.compliance.items.models import ItemRecord
from services.compliance.orders.models import Order
from services.compliance.orders.outbox import claim, send_pending
from services.compliance.settings import ComplianceSettings
from services.compliance.setup.models import CustomsProfile
from shared.context import context_of
from shared.db import make_engine, make_sessionmaker, new_id, utcnow
from shared.migrations import aupgrade_to_head
from tests.compliance.signers import sm2_files, verify
from tests.compliance.support import EBP, PROFILE, inventory_receipt, new_order_no
from tests.compliance.test_export_flow import Exporter, export_order, export_waybill, receipt_of_payment
from tests.conftest import BACKEND, asgi_client
from tests.support import SERVICE_SECRET, Tenant, assert_problem

XSD = XSD_DIR
DXP = "http://www.chinaport.gov.cn/dxp"


def transfer_xsd() -> etree.XMLSchema:
    """The official transfer schema. It includes the terminal node schema by its original file name
    (终端节点报文.xsd), which libxml2 cannot resolve; the handbook holds that file as terminal-202205.xsd."""
    doc = etree.parse(str(XSD / "transfer-202205.xsd"))
    includes = doc.getroot().findall("{http://www.w3.org/2001/XMLSchema}include")
    assert [i.get("schemaLocation") for i in includes] == ["终端节点报文.xsd"]
    includes[0].set("schemaLocation", "terminal-202205.xsd")
    return etree.XMLSchema(doc)


TRANSFER = transfer_xsd()


def written(outbox: Path) -> dict[str, bytes]:
    """The messages in the send folder by guid, each envelope checked against the transfer XSD."""
    out = {}
    for path in sorted(p for p in outbox.iterdir() if p.is_file()):
        doc = etree.parse(str(path)).getroot()
        assert TRANSFER.validate(doc), (path.name, TRANSFER.error_log)
        guid = doc.findtext(f"{{{DXP}}}TransInfo/{{{DXP}}}CopMsgId") or ""
        assert path.name.endswith(f"_{guid}.xml") and guid not in out
        out[guid] = base64.b64decode(doc.findtext(f"{{{DXP}}}Data") or "")
    return out


def closed_port() -> int:
    """A local port nothing listens on: a signing agent that is down (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CountingSigner:
    """Counts the signatures asked of the signer it wraps."""

    def __init__(self, inner: Any):
        self.inner, self.algorithm, self.calls = inner, inner.algorithm, 0

    async def sign(self, signed_info: bytes) -> Any:
        self.calls += 1
        return await self.inner.sign(signed_info)


@pytest.fixture
async def own_app(databases, data_dir, plans_over_asgi):  # type: ignore[no-untyped-def]
    """Compliance on a database of its own: a relay pass takes every organisation's due messages, so the other
    tests' messages must not be in it."""
    url = await databases.new("outbox")
    await aupgrade_to_head(COMPLIANCE_MIGRATIONS, url)
    settings = ComplianceSettings(
        environment="test", data_dir=data_dir, database_url=url, plans_url="http://plans", run_relay=False,
        service_secret=SERVICE_SECRET, xsd_dir=XSD,
    )  # fmt: skip
    app = create_compliance(settings, http_client=plans_over_asgi)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def own(own_app):  # type: ignore[no-untyped-def]
    async with asgi_client(own_app, "http://compliance") as client:
        yield client


def outbox_of(compliance_app, tmp_path: Path, monkeypatch) -> tuple[CustomsContext, Path]:  # type: ignore[no-untyped-def]
    ctx: CustomsContext = compliance_context(compliance_app).customs
    outbox = tmp_path / "send"
    outbox.mkdir()
    monkeypatch.setattr(ctx, "outbox", outbox)
    return ctx, outbox


async def declared(compliance, tenant: Tenant) -> tuple[Exporter, str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    seller = await Exporter(compliance, tenant).setup()
    order_no = new_order_no()
    view = await seller.deliver(export_order(order_no), receipt_of_payment(order_no), export_waybill(order_no))
    assert view["state"] == "declared", view["checks"]
    return seller, order_no, view


async def test_a_signer_that_is_down_fails_the_messages_visibly_and_they_go_by_themselves_once_it_is_back(
    compliance, compliance_app, tenant, tmp_path, monkeypatch
):  # type: ignore[no-untyped-def]
    ctx, outbox = outbox_of(compliance_app, tmp_path, monkeypatch)
    sessions, pii = context_of(compliance_app).sessionmaker, compliance_context(compliance_app).pii
    async with httpx.AsyncClient() as http:
        down = CountingSigner(AgentSigner(f"http://127.0.0.1:{closed_port()}/sign", http))
        monkeypatch.setattr(ctx, "signer", down)
        seller, order_no, view = await declared(compliance, tenant)
        before = utcnow()
        assert await send_pending(sessions, ctx, pii, org_id=tenant.org_id) == 0
        assert down.calls == 1  # the rest of the pass does not wait for a signer that has just failed

        view = await seller.order(order_no)
        messages = {m["message_type"]: m for m in view["messages"]}
        assert set(messages) == {"CEB303", "CEB403", "CEB603"}
        for m in messages.values():
            assert m["status"] == "failed" and m["sent_at"] is None, m
            failure = m["failure"]
            assert failure["cause"] == "signer" and failure["attempts"] == 1, failure
            assert "signing agent did not sign" in failure["reason"], failure
            assert "signer" in failure["action"]
            assert datetime.fromisoformat(failure["retry_at"]) > before, failure

        r = await compliance.get("/v1/compliance/exceptions", headers=tenant.auth("analyst"))
        assert r.status_code == 200, r.text
        listed = {m["message_type"]: m for m in r.json()["failed_messages"] if m["order_no"] == order_no}
        assert set(listed) == {"CEB303", "CEB403", "CEB603"}
        assert all(m["failure"]["cause"] == "signer" and m["ebp_code"] == EBP for m in listed.values())
        assert listed["CEB603"]["declaration_id"] == view["declaration_id"]

        for which in ("xml", "order-xml", "payment-xml"):
            r = await compliance.get(f"/v1/compliance/declarations/{view['declaration_id']}/{which}",
                                     headers=tenant.auth())  # fmt: skip
            body = assert_problem(r, 503)
            assert "sign" in body["detail"]
            assert 1 <= int(r.headers["Retry-After"]) <= 10  # when the outbox tries again (10 s after the failure)

        # the next passes leave the failed messages alone until their next attempt: no signature asked
        calls = down.calls
        assert await send_pending(sessions, ctx, pii, org_id=tenant.org_id) == 0
        assert down.calls == calls
        assert written(outbox) == {}

    key, cert = sm2_files(tmp_path)
    monkeypatch.setattr(ctx, "signer", FileSigner.from_files(key, cert))  # the signer is back; nobody acts
    assert await send_pending(sessions, ctx, pii, org_id=tenant.org_id, now=utcnow() + timedelta(seconds=11)) == 3
    files = written(outbox)
    assert sorted(files) == sorted(m["guid"] for m in messages.values())
    assert all(verify(body) == "sm2" for body in files.values())
    view = await seller.order(order_no)
    assert {m["status"] for m in view["messages"]} == {"sent"}
    assert all(m["failure"] is None and m["signed"] for m in view["messages"])
    r = await compliance.get(f"/v1/compliance/declarations/{view['declaration_id']}/xml", headers=tenant.auth())
    assert r.status_code == 200 and r.content == files[messages["CEB603"]["guid"]]  # the bytes that were sent
    r = await compliance.get("/v1/compliance/exceptions", headers=tenant.auth("analyst"))
    assert not [m for m in r.json()["failed_messages"] if m["order_no"] == order_no]


async def test_the_signer_signing_again_wakes_the_messages_that_waited_for_it(
    compliance, compliance_app, tenant, tmp_path, monkeypatch
):  # type: ignore[no-untyped-def]
    ctx, outbox = outbox_of(compliance_app, tmp_path, monkeypatch)
    sessions, pii = context_of(compliance_app).sessionmaker, compliance_context(compliance_app).pii
    async with httpx.AsyncClient() as http:
        monkeypatch.setattr(ctx, "signer", AgentSigner(f"http://127.0.0.1:{closed_port()}/sign", http))
        seller, first, _ = await declared(compliance, tenant)
        assert await send_pending(sessions, ctx, pii, org_id=tenant.org_id) == 0
    key, cert = sm2_files(tmp_path)
    monkeypatch.setattr(ctx, "signer", FileSigner.from_files(key, cert))
    second = new_order_no()
    await seller.deliver(export_order(second), receipt_of_payment(second), export_waybill(second))
    # no clock moved: the second order's messages are signed, which tells the outbox the signer is back
    assert await send_pending(sessions, ctx, pii, org_id=tenant.org_id) == 3
    assert await send_pending(sessions, ctx, pii, org_id=tenant.org_id) == 3
    assert {m["status"] for m in (await seller.order(first))["messages"]} == {"sent"}
    assert len(written(outbox)) == 6


async def _backlog(sessions, order_no: str, org_id: str, withdrawals: int, orders: int) -> None:  # type: ignore[no-untyped-def]
    """Old messages of ``order_no``: withdrawals of its unnumbered list, and further order messages."""
    async with sessions() as session, session.begin():
        order = (
            await session.execute(select(Order).where(Order.org_id == org_id, Order.order_no == order_no))
        ).scalar_one()
        old = utcnow() - timedelta(hours=2)
        for n in range(withdrawals + orders):
            session.add(CustomsMessage(
                id=new_id(), org_id=org_id, order_id=order.id, declaration_id=order.declaration_id,
                message_type="CEB605" if n < withdrawals else "CEB303", guid=str(uuid.uuid4()).upper(),
                status="pending", reason="cancelled by the buyer", created_at=old + timedelta(seconds=n),
            ))  # fmt: skip


async def _by_state(sessions, org_id: str) -> dict[tuple[str, str, str | None], int]:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        rows = await session.execute(
            select(CustomsMessage.message_type, CustomsMessage.status, CustomsMessage.failure_cause, func.count())
            .where(CustomsMessage.org_id == org_id)
            .group_by(CustomsMessage.message_type, CustomsMessage.status, CustomsMessage.failure_cause)
        )
        return {(t, s, c): int(n) for t, s, c, n in rows}


@pytest.mark.db
async def test_one_organisations_waiting_backlog_never_holds_up_another_organisations_new_order(
    own, own_app, tenant, other_tenant, tmp_path, monkeypatch, caplog
):  # type: ignore[no-untyped-def]
    """150 messages of one seller wait — 100 withdrawals for customs' list number, 50 for a signer that was down
    (and then for an item record that was removed) — and all of them are due again at once, the worst case; two
    relays on the same database, each taking a pass smaller than the backlog, still write the other seller's
    new order in their first pass."""
    caplog.set_level(logging.DEBUG, logger="services.compliance.orders.outbox")
    ctx, outbox = outbox_of(own_app, tmp_path, monkeypatch)
    app = compliance_context(own_app)
    pii = app.pii
    engine = make_engine(app.settings.resolved_database_url())  # the second replica: its own pool, same database
    replicas = [(context_of(own_app).sessionmaker, ctx)]
    try:
        async with httpx.AsyncClient() as http:
            down = AgentSigner(f"http://127.0.0.1:{closed_port()}/sign", http)
            monkeypatch.setattr(ctx, "signer", down)
            replicas.append(
                (make_sessionmaker(engine), CustomsContext(ctx.schemas, down, outbox, None, ctx.receiver_id))
            )
            a, busy, _ = await declared(own, tenant)
            r = await own.post(f"/v1/compliance/orders/{EBP}/{busy}/cancellation", headers=tenant.auth(),
                                      json={"reason": "cancelled by the buyer"})  # fmt: skip
            assert r.status_code == 200 and r.json()["state"] == "cancel_requested", r.text
            sessions = replicas[0][0]
            await _backlog(sessions, busy, tenant.org_id, withdrawals=99, orders=47)
            state = await _by_state(sessions, tenant.org_id)
            assert sum(state.values()) == 150

            for _ in range(4):  # the signer is down: every one of them is tried, and waits
                for s, c in replicas:
                    await send_pending(s, c, pii)
            state = await _by_state(sessions, tenant.org_id)
            assert state == {("CEB605", "pending", "customs_number"): 100, ("CEB303", "failed", "signer"): 48,
                             ("CEB403", "failed", "signer"): 1, ("CEB603", "failed", "signer"): 1}, state  # fmt: skip
            assert written(outbox) == {}

        key, cert = sm2_files(tmp_path)
        back = FileSigner.from_files(key, cert)
        for _, c in replicas:
            monkeypatch.setattr(c, "signer", back)
        async with sessions() as session, session.begin():  # the busy seller's item record is removed
            await session.execute(delete(ItemRecord).where(ItemRecord.org_id == tenant.org_id))
        b, new, _ = await declared(own, other_tenant)

        later = utcnow() + timedelta(hours=2)  # every waiting message is due again in this very pass
        counts = await asyncio.gather(*(send_pending(s, c, pii, now=later, batch=50) for s, c in replicas))
        files = written(outbox)
        view = await b.order(new)
        assert {m["status"] for m in view["messages"]} == {"sent"}, view["messages"]
        assert {m["guid"] for m in view["messages"]} <= set(files)
        assert all(verify(files[m["guid"]]) == "sm2" for m in view["messages"])
        assert sum(counts) == len(files)  # each written once, by one replica
        assert not any(name.startswith("CEB605") for name in os.listdir(outbox))

        # said once: each waiting withdrawal has one warning, however many passes have tried it
        for _ in range(2):
            later += timedelta(hours=1)
            for s, c in replicas:
                await send_pending(s, c, pii, now=later)
        async with sessions() as session:
            guids = (
                (
                    await session.execute(
                        select(CustomsMessage.guid).where(
                            CustomsMessage.org_id == tenant.org_id, CustomsMessage.message_type == "CEB605"
                        )
                    )
                )
                .scalars()
                .all()
            )
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(guids) == 100 and all(sum(g in w for w in warnings) == 1 for g in guids)
        state = await _by_state(sessions, tenant.org_id)
        assert state[("CEB605", "pending", "customs_number")] == 100  # still waiting for customs, none written
        assert state[("CEB603", "failed", "setup")] == 1  # its item record is gone: a failure of its own
        listed = {m["message_type"]: m for m in (await a.order(busy))["messages"]}
        assert "item records were removed" in listed["CEB603"]["failure"]["reason"]
        assert listed["CEB605"]["failure"]["cause"] == "customs_number" and listed["CEB605"]["status"] == "pending"
    finally:
        await engine.dispose()


async def test_every_envelope_written_satisfies_the_transfer_xsd_and_a_too_long_dxp_id_is_refused(
    compliance, compliance_app, tenant, tmp_path, monkeypatch, sm2_signer
):  # type: ignore[no-untyped-def]
    ctx, outbox = outbox_of(compliance_app, tmp_path, monkeypatch)
    sessions, pii = context_of(compliance_app).sessionmaker, compliance_context(compliance_app).pii
    r = await compliance.put("/v1/compliance/customs-profile", headers=tenant.auth(),
                             json={**PROFILE, "dxp_id": "DXPENT" + "0" * 11})  # fmt: skip
    body = assert_problem(r, 422)
    assert "dxp_id" in body["detail"]
    r = await compliance.get("/v1/compliance/customs-profile", headers=tenant.auth())
    assert r.status_code == 404, r.text  # nothing saved

    seller, order_no, _ = await declared(compliance, tenant)
    r = await compliance.post(f"/v1/compliance/orders/{EBP}/{order_no}/cancellation", headers=tenant.auth(),
                              json={"reason": "cancelled by the buyer"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert await send_pending(sessions, ctx, pii, org_id=tenant.org_id) == 3  # the withdrawal waits for its number
    files = written(outbox)
    listed = {m["message_type"]: m for m in (await seller.order(order_no))["messages"]}
    assert listed["CEB605"]["status"] == "pending" and listed["CEB605"]["failure"]["cause"] == "customs_number"
    inventory = etree.fromstring(files[listed["CEB603"]["guid"]])
    cop_no = inventory.findtext(".//{http://www.chinaport.gov.cn/ceb}copNo") or ""
    await seller.receipt(inventory_receipt(cop_no, 120, export=True, invt_no="46042026E000000077", order_no=order_no))
    # the receipt that numbers the list sends the withdrawal in the next pass, not after its backoff
    assert await send_pending(sessions, ctx, pii, org_id=tenant.org_id) == 1
    files = written(outbox)  # all four envelopes checked against the transfer XSD
    withdrawal = etree.fromstring(files[listed["CEB605"]["guid"]])
    assert withdrawal.findtext(".//{http://www.chinaport.gov.cn/ceb}invtNo") == "46042026E000000077"
    assert verify(files[listed["CEB605"]["guid"]]) == "sm2"

    # a profile stored before the limit (22 characters): its messages fail with the reason, nothing invalid written
    async with sessions() as session, session.begin():
        profile = (
            await session.execute(select(CustomsProfile).where(CustomsProfile.org_id == tenant.org_id))
        ).scalar_one()
        profile.dxp_id = "DXPENT" + "1" * 16
    other = new_order_no()
    await seller.deliver(export_order(other), receipt_of_payment(other), export_waybill(other))
    assert await send_pending(sessions, ctx, pii, org_id=tenant.org_id) == 0
    assert len(written(outbox)) == 4
    failed = (await seller.order(other))["messages"]
    assert {m["status"] for m in failed} == {"failed"}
    assert {m["failure"]["cause"] for m in failed} == {"envelope"}
    assert all("SenderId" in m["failure"]["reason"] for m in failed)


@pytest.mark.db
async def test_two_relays_claiming_at_the_same_moment_take_different_messages_in_turns(own_app):  # type: ignore[no-untyped-def]
    """Two relays (two pools on one database) claim at once: no message is taken twice, and on PostgreSQL each
    gets a full pass (FOR UPDATE SKIP LOCKED passes over the rows the other is taking). Both passes give every
    organisation its turn before any takes a second."""
    app = compliance_context(own_app)
    first = context_of(own_app).sessionmaker
    engine = make_engine(app.settings.resolved_database_url())
    orgs = [new_id() for _ in range(3)]
    old = utcnow() - timedelta(days=1)
    async with first() as session, session.begin():
        for o, org in enumerate(orgs):
            for n in range(60 if o == 0 else 6):  # the first organisation's backlog is the oldest
                session.add(CustomsMessage(
                    id=new_id(), org_id=org, message_type="CEB303", guid=str(uuid.uuid4()).upper(),
                    status="pending", created_at=old + timedelta(seconds=n + 100 * o),
                ))  # fmt: skip
    try:
        now = old + timedelta(hours=1)
        alone, _ = await claim(first, now, batch=9)  # the organisations take turns: three each, oldest first
        async with first() as session:
            rows = (await session.execute(select(CustomsMessage).where(CustomsMessage.org_id.in_(orgs)))).scalars()
            by_id = {m.id: m for m in rows}
        assert [by_id[i].org_id for i in alone] == orgs * 3
        assert [by_id[i].created_at for i in alone if by_id[i].org_id == orgs[0]] == [old + timedelta(seconds=n)
                                                                                       for n in range(3)]  # fmt: skip

        second = make_sessionmaker(engine)
        claims = await asyncio.gather(*(claim(s, now, batch=8) for s in (first, second) for _ in range(3)))
        taken = [set(ids) for ids, _ in claims]
        union = set().union(*taken)
        assert sum(len(t) for t in taken) == len(union) and not union & set(alone)  # no message taken twice
        async with first() as session:
            rows = (await session.execute(select(CustomsMessage).where(CustomsMessage.id.in_(union)))).scalars()
            assert all(m.next_attempt_at > now for m in rows)  # leased
        if BACKEND == "postgres":
            assert len(union) == 6 * 8  # every claim a full pass
            # 48 of the 63 left: the two small organisations' last 6 are all among them
            assert sum(by_id[i].org_id != orgs[0] for i in union) == 6
    finally:
        await engine.dispose()


@pytest.mark.db
async def test_the_relay_as_a_process_of_its_own_serves_the_customs_outbox(own, own_app, tenant, tmp_path):  # type: ignore[no-untyped-def]
    """``python -m services.compliance.relay`` (XBM_COMPLIANCE_RUN_RELAY=false in the services) runs the customs
    jobs too: its outbox job writes the declared messages."""
    from services.compliance.relay import customs_jobs

    seller, order_no, _ = await declared(own, tenant)
    outbox = tmp_path / "send"
    settings = compliance_context(own_app).settings.model_copy(update={"customs_outbox": outbox})
    engine = make_engine(settings.resolved_database_url())
    try:
        async with httpx.AsyncClient() as http:
            outbox_job, *_ = customs_jobs(settings)(make_sessionmaker(engine), http)
            assert await outbox_job() == 3
    finally:
        await engine.dispose()
    view = await seller.order(order_no)
    assert {m["status"] for m in view["messages"]} == {"sent"}
    assert {m["guid"] for m in view["messages"]} <= set(written(outbox))


async def test_with_the_signer_down_a_cancellation_goes_through_and_its_withdrawal_waits_for_the_signer(
    compliance, compliance_app, tenant, tmp_path, monkeypatch
):  # type: ignore[no-untyped-def]
    from tests.compliance.support import LOGISTICS

    ctx, outbox = outbox_of(compliance_app, tmp_path, monkeypatch)
    sessions, pii = context_of(compliance_app).sessionmaker, compliance_context(compliance_app).pii
    key, cert = sm2_files(tmp_path)
    working = FileSigner.from_files(key, cert)
    monkeypatch.setattr(ctx, "signer", working)
    seller, order_no, view = await declared(compliance, tenant)
    inventory = await seller.xml(view["declaration_id"])
    cop_no = inventory.findtext(".//{http://www.chinaport.gov.cn/ceb}copNo") or ""
    await seller.receipt(inventory_receipt(cop_no, 120, export=True, invt_no="46042026E000000078", order_no=order_no))

    async with httpx.AsyncClient() as http:
        monkeypatch.setattr(ctx, "signer", AgentSigner(f"http://127.0.0.1:{closed_port()}/sign", http))
        r = await compliance.post(f"/v1/compliance/orders/{EBP}/{order_no}/cancellation", headers=tenant.auth(),
                                  json={"reason": "cancelled by the buyer"})  # fmt: skip
        assert r.status_code == 200 and r.json()["state"] == "cancel_requested", r.text
        withdrawal = next(m for m in r.json()["messages"] if m["message_type"] == "CEB605")
        assert withdrawal["status"] == "failed" and withdrawal["failure"]["cause"] == "signer", withdrawal
        r = await compliance.get(f"/v1/compliance/declarations/{view['declaration_id']}/cancellation-xml",
                                 headers=tenant.auth())  # fmt: skip
        assert_problem(r, 503)
        assert 1 <= int(r.headers["Retry-After"]) <= 10
        # a master bill link is signed as it is made: with the signer down it is a 503 too, and nothing is stored
        body = {"logistics_code": LOGISTICS, "bill_no": "999-12345675", "traf_name": "Air China CA983",
                "voyage_no": "CA983", "declaration_ids": [view["declaration_id"]]}  # fmt: skip
        r = await compliance.post("/v1/compliance/master-bills", json=body, headers=tenant.auth("integration"))
        assert_problem(r, 503)
        assert int(r.headers["Retry-After"]) > 0

    monkeypatch.setattr(ctx, "signer", working)
    later = utcnow() + timedelta(seconds=11)
    # the order message, the receipt of payment and the withdrawal (the list was answered by customs already)
    assert await send_pending(sessions, ctx, pii, org_id=tenant.org_id, now=later) == 3
    files = written(outbox)
    sent = etree.fromstring(files[withdrawal["guid"]])
    assert sent.findtext(".//{http://www.chinaport.gov.cn/ceb}invtNo") == "46042026E000000078"
    assert verify(files[withdrawal["guid"]]) == "sm2"
    async with sessions() as session:
        linked = await session.execute(
            select(func.count()).where(CustomsMessage.org_id == tenant.org_id, CustomsMessage.message_type == "CEB607")
        )
        assert linked.scalar_one() == 0
