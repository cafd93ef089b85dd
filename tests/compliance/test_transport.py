"""The e-port folders: each message written once in its DxpMsg envelope (even when the process is killed between
writing and recording it), receipts taken from the receive folder as if posted to /messages."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from services.compliance.app import MIGRATIONS
from services.compliance.context import compliance_context
from services.compliance.customs.context import CustomsContext
from services.compliance.customs.models import CustomsMessage
from services.compliance.customs.transport import DXP, envelope
from services.compliance.customs.xsd import BUNDLED as XSD_DIR
from services.compliance.customs.xsd import Schemas
from services.compliance.intake.customs_inbox import take_inbox
from services.compliance.orders.outbox import LEASE, send_pending
from services.compliance.pii import Pii
from services.compliance.setup.models import CustomsProfile
from shared.context import context_of
from shared.db import make_engine, make_sessionmaker, new_id, utcnow
from shared.migrations import aupgrade_to_head
from tests.compliance.support import CUSTOMS, PROFILE, Seller, buyer_id, inventory_receipt, new_order_no

ROOT = Path(__file__).resolve().parents[2]

KEY = b"k" * 32
TERMINAL = etree.XMLSchema(etree.parse(str(XSD_DIR / "terminal-202205.xsd")))


def _outbox_files(outbox: Path) -> list[Path]:
    return sorted(p for p in outbox.iterdir() if p.is_file())


def _decoded(path: Path) -> bytes:
    doc = etree.parse(str(path)).getroot()
    assert TERMINAL.validate(doc), TERMINAL.error_log
    return base64.b64decode(doc.findtext(f"{{{DXP}}}Data") or "")


def test_the_envelope_is_a_valid_dxpmsg_carrying_the_message():
    body = (CUSTOMS / "samples" / "export" / "CEB604Message.xml").read_bytes()
    data = envelope(body, guid="A" * 36, message_type="CEB603Message", sender_id="DXPENT0000000001",
                    receiver_id="DXPEDCCEB0000002", at=utcnow())  # fmt: skip
    doc = etree.fromstring(data)
    assert TERMINAL.validate(doc), TERMINAL.error_log
    assert base64.b64decode(doc.findtext(f"{{{DXP}}}Data") or "") == body
    assert doc.findtext(f".//{{{DXP}}}CopMsgId") == "A" * 36


async def test_declared_messages_go_to_the_outbox_once_and_the_order_shows_it(
    compliance, compliance_app, tenant, tmp_path, monkeypatch
):  # type: ignore[no-untyped-def]
    outbox = tmp_path / "send"
    outbox.mkdir()
    ctx: CustomsContext = compliance_context(compliance_app).customs
    monkeypatch.setattr(ctx, "outbox", outbox)
    seller = await Seller(compliance, tenant).setup()
    dxp_id = "DXPENT" + uuid.uuid4().hex[:10].upper()  # the e-port addresses this seller's receipts to it
    r = await compliance.put(
        "/v1/compliance/customs-profile", json={**PROFILE, "dxp_id": dxp_id}, headers=tenant.auth()
    )
    assert r.status_code == 200, r.text
    order_no = new_order_no()
    view = await seller.deliver_all(order_no, buyer=buyer_id(80))
    assert view["state"] == "declared"
    sessions, pii = context_of(compliance_app).sessionmaker, compliance_context(compliance_app).pii
    assert await send_pending(sessions, ctx, pii, org_id=tenant.org_id) == 2  # CEB311 and CEB621
    assert await send_pending(sessions, ctx, pii, org_id=tenant.org_id) == 0
    files = _outbox_files(outbox)
    assert sorted(f.name.split("_")[0] for f in files) == ["CEB311", "CEB621"]
    inventory = etree.fromstring(_decoded(next(f for f in files if f.name.startswith("CEB621"))))
    assert inventory.tag == "{http://www.chinaport.gov.cn/ceb}CEB621Message"
    fetched = await compliance.get(f"/v1/compliance/declarations/{view['declaration_id']}/xml", headers=tenant.auth())
    assert _decoded(next(f for f in files if f.name.startswith("CEB621"))) == fetched.content  # the same bytes
    view = await seller.order(order_no)
    assert {m["message_type"]: m["status"] for m in view["messages"]} == {"CEB311": "sent", "CEB621": "sent"}
    assert all(m["sent_at"] for m in view["messages"])

    cop_no = inventory.findtext(".//{http://www.chinaport.gov.cn/ceb}copNo") or ""
    assert cop_no
    inbox = tmp_path / "receive"
    inbox.mkdir()
    monkeypatch.setattr(ctx, "inbox", inbox)
    receipt = inventory_receipt(cop_no, 120)
    wrapped = envelope(receipt, guid=str(uuid.uuid4()).upper(), message_type="CEB622Message",
                       sender_id="DXPEDCCEB0000002", receiver_id=dxp_id, at=utcnow())  # fmt: skip
    (inbox / "CEB622_1.xml").write_bytes(wrapped)
    (inbox / "garbage.xml").write_bytes(b"<not xml")
    assert await take_inbox(sessions, ctx, pii) == 1
    assert (inbox / "done" / "CEB622_1.xml").exists() and (inbox / "failed" / "garbage.xml").exists()
    assert not (inbox / "CEB622_1.xml").exists()
    view = await seller.order(order_no)
    assert view["state"] == "accepted"
    assert {m["message_type"]: m["status"] for m in view["messages"]}["CEB621"] == "acknowledged"


CHILD = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from pathlib import Path
    from services.compliance.customs.context import CustomsContext
    from services.compliance.orders.outbox import send_pending
    from services.compliance.customs.xsd import Schemas
    from services.compliance.pii import Pii
    from shared.db import make_engine, make_sessionmaker

    url, outbox, step = sys.argv[1:4]

    def hook(done):
        if done == step:
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no commit: as a crash or an OOM kill

    async def main():
        engine = make_engine(url)
        ctx = CustomsContext(Schemas(None), None, Path(outbox), None, "DXPEDCCEB0000002")
        await send_pending(make_sessionmaker(engine), ctx, Pii(b"k" * 32), hook)

    asyncio.run(main())
    """
)


async def _database(tmp_path: Path) -> tuple[str, list[str]]:
    """A migrated database holding one seller's three messages to customs, built and queued."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'compliance.db'}"
    await aupgrade_to_head(MIGRATIONS, url)
    engine = make_engine(url)
    pii, org_id, guids = Pii(KEY), new_id(), []
    async with make_sessionmaker(engine)() as session, session.begin():
        session.add(CustomsProfile(org_id=org_id, **{k: v for k, v in PROFILE.items()}))
        for n in range(3):
            guid = str(uuid.uuid4()).upper()
            guids.append(guid)
            body = f'<ceb:CEB621Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" guid="{guid}" n="{n}"/>'
            session.add(CustomsMessage(
                id=new_id(), org_id=org_id, message_type="CEB621", guid=guid, status="queued",
                body_encrypted=pii.encrypt(body, f"message:{org_id}"), signed=False, validated=True,
                created_at=utcnow(),
            ))  # fmt: skip
    await engine.dispose()
    return url, guids


@pytest.mark.parametrize("step", ["tmp", "marker", "published"])
async def test_a_process_killed_between_writing_and_recording_loses_nothing_and_writes_nothing_twice(
    tmp_path: Path, step: str
):
    url, guids = await _database(tmp_path)
    outbox = tmp_path / "send"
    outbox.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", CHILD, url, str(outbox), step], env=env, cwd=ROOT, timeout=60,
        capture_output=True,
    )  # fmt: skip
    assert child.returncode == -9, child.stderr.decode()[-2000:]
    written_before = {p.name for p in _outbox_files(outbox)}
    assert len(written_before) == (1 if step == "published" else 0)

    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    ctx = CustomsContext(Schemas(None), None, outbox, None, "DXPEDCCEB0000002")
    try:
        # the killed relay had leased its messages: another takes them once the lease has run out
        assert await send_pending(sessions, ctx, Pii(KEY)) == 0
        later = utcnow() + LEASE
        assert await send_pending(sessions, ctx, Pii(KEY), now=later) == 3  # the killed one recorded, the rest written
        assert await send_pending(sessions, ctx, Pii(KEY), now=later) == 0
        async with sessions() as session:
            rows = (await session.execute(select(CustomsMessage))).scalars().all()
    finally:
        await engine.dispose()
    assert {r.status for r in rows} == {"sent"}
    files = _outbox_files(outbox)
    assert sorted(f.name for f in files) == sorted(f"CEB621_{g}.xml" for g in guids)  # each exactly once
    assert all(_decoded(f).startswith(b"<ceb:CEB621Message") for f in files)
    assert not list((outbox / ".xbm").glob("*.tmp"))


async def test_a_message_the_transfer_client_took_before_the_restart_is_not_written_again(tmp_path: Path):
    url, guids = await _database(tmp_path)
    outbox, taken = tmp_path / "send", tmp_path / "taken"
    outbox.mkdir()
    taken.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", CHILD, url, str(outbox), "published"], env=env, cwd=ROOT,
        timeout=60, capture_output=True,
    )  # fmt: skip
    assert child.returncode == -9
    for path in _outbox_files(outbox):  # the e-port client picks the file up while XBM is down
        path.rename(taken / path.name)
    engine = make_engine(url)
    try:
        ctx = CustomsContext(Schemas(None), None, outbox, None, "DXPEDCCEB0000002")
        await send_pending(make_sessionmaker(engine), ctx, Pii(KEY), now=utcnow() + LEASE)
    finally:
        await engine.dispose()
    names = [p.name for p in _outbox_files(outbox)] + [p.name for p in _outbox_files(taken)]
    assert sorted(names) == sorted(f"CEB621_{g}.xml" for g in guids)
