"""Several customs profiles per organisation: a seller importing through a bonded zone (1210) and exporting through
another customs office (9610) declares each order under its own profile; the collection API; DxpMsg ids stay one
organisation's each."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from lxml import etree
from sqlalchemy import text

from services.compliance.context import compliance_context
from services.compliance.customs.transport import envelope
from services.compliance.intake.customs_inbox import take_inbox
from services.compliance.orders.outbox import send_pending
from shared.context import context_of
from shared.db import make_engine, utcnow
from shared.migrations import alembic_config
from tests.compliance.support import (
    EBP,
    ITEM,
    PROFILE,
    buyer_id,
    dxp_id_of,
    inventory_receipt,
    new_order_no,
    valid_unsigned,
)
from tests.compliance.test_export_flow import Exporter, export_order, export_waybill, receipt_of_payment
from tests.compliance.test_outbox import DXP, outbox_of, written
from tests.support import Tenant, assert_problem, make_tenant

NS = {"ceb": "http://www.chinaport.gov.cn/ceb"}
BASE = "/v1/compliance/customs-profiles"
MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "compliance" / "migrations"
INSERT_PROFILE = """INSERT INTO customs_profiles (id, org_id, ebc_code, ebc_name, agent_code, agent_name, assure_code,
    customs_code, port_code, trade_mode, cop_code, cop_name, dxp_id, traf_mode, statistics_flag, created_at,
    updated_at) VALUES (:id, :org, 'E', 'E', 'A', 'A', 'S', '4604', '4604', :mode, 'C', 'C', :dxp, '5', 'A',
    :at, :at)"""
INSERT_DECLARATION = """INSERT INTO declarations (id, org_id, order_id, message_type, guid, cop_no, declared_at,
    created_at, updated_at) VALUES ('d-1', 'org-1', 'o-1', 'CEB621', 'G', 'XBM1', :at, :at, :at)"""


def bonded_import(tenant: Tenant, **changes: Any) -> dict[str, Any]:
    """Ningbo bonded imports (1210): its own customs office, agent, bonded account and e-port id."""
    return {**PROFILE, "name": "Ningbo bonded imports", "direction": "import", "trade_mode": "1210",
            "customs_code": "3105", "port_code": "3105", "agent_code": "3105980159", "agent_name": "Ningbo Broker",
            "ebc_name": "Seller Ningbo", "ems_no": "T3105W000001", "area_code": "3105W60001",
            "area_name": "Ningbo Meishan Bonded Port Area", "dxp_id": dxp_id_of(tenant.org_id), **changes}  # fmt: skip


def direct_export(tenant: Tenant, **changes: Any) -> dict[str, Any]:
    """Hangzhou direct exports (9610) under another e-port id of the same organisation."""
    return {**PROFILE, "name": "Hangzhou exports", "direction": "export", "trade_mode": "9610",
            "customs_code": "2992", "port_code": "2992", "agent_code": "2992980159", "agent_name": "Hangzhou Broker",
            "ebc_name": "Seller Hangzhou", "dxp_id": dxp_id_of(tenant.org_id + "-export"), **changes}  # fmt: skip


async def bonded_record(compliance: Any, tenant: Tenant) -> None:
    """A 1210 list names each line's account-book record number (itemRecordNo), from the item record."""
    record = {**ITEM, "item_record_no": "RN-SCARF-0001"}
    r = await compliance.put("/v1/compliance/items/SCARF-1", json=record, headers=tenant.auth())
    assert r.status_code == 200, r.text


async def add(compliance: Any, tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    r = await compliance.post(BASE, json=body, headers=tenant.auth())
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"{BASE}/{r.json()['id']}"
    return r.json()  # type: ignore[no-any-return]


async def exceptions(compliance: Any, tenant: Tenant) -> dict[str, dict[str, Any]]:
    r = await compliance.get("/v1/compliance/exceptions", headers=tenant.auth())
    assert r.status_code == 200, r.text
    return {e["order_no"]: e for e in r.json()["items"]}


def head_fields(doc: etree._Element, head: str, names: tuple[str, ...]) -> list[str | None]:
    node = doc.find(f".//ceb:{head}", NS)
    assert node is not None
    return [node.findtext(f"ceb:{n}", namespaces=NS) for n in names]


async def test_a_1210_import_and_a_9610_export_are_each_declared_under_their_own_profile(compliance, tenant):
    seller = await Exporter(compliance, tenant).setup(profile=False)
    ningbo = await add(compliance, tenant, bonded_import(tenant))
    await bonded_record(compliance, tenant)
    hangzhou = await add(compliance, tenant, direct_export(tenant))
    assert (ningbo["default"], hangzhou["default"]) == (True, False)
    assert (ningbo["direction"], hangzhou["direction"]) == ("import", "export")

    imported = await seller.deliver_all(new_order_no(), buyer=buyer_id(71))
    assert imported["state"] == "declared", imported["checks"]
    doc = await seller.xml(imported["declaration_id"])
    ok, errors = valid_unsigned(doc, "import")
    assert ok, errors
    names = ("tradeMode", "customsCode", "portCode", "agentCode", "agentName", "emsNo", "areaCode", "ebcName")
    assert head_fields(doc, "InventoryHead", names) == [
        "1210", "3105", "3105", "3105980159", "Ningbo Broker", "T3105W000001", "3105W60001", "Seller Ningbo"
    ]  # fmt: skip
    assert doc.findtext(".//ceb:BaseTransfer/ceb:dxpId", namespaces=NS) == ningbo["dxp_id"]
    order_doc = await seller.xml(imported["declaration_id"], "order-xml")
    assert order_doc.findtext(".//ceb:BaseTransfer/ceb:dxpId", namespaces=NS) == ningbo["dxp_id"]

    order_no = new_order_no()
    exported = await seller.deliver(export_order(order_no, mode="9610"), receipt_of_payment(order_no),
                                    export_waybill(order_no))  # fmt: skip
    assert exported["state"] == "declared", exported["checks"]
    doc = await seller.xml(exported["declaration_id"])
    ok, errors = valid_unsigned(doc, "export")
    assert ok, errors
    names = ("tradeMode", "customsCode", "portCode", "agentCode", "agentName", "ebcName")
    assert head_fields(doc, "InventoryHead", names) == [
        "9610", "2992", "2992", "2992980159", "Hangzhou Broker", "Seller Hangzhou"
    ]  # fmt: skip
    assert doc.findtext(".//ceb:emsNo", namespaces=NS) in (None, "")  # not the bonded account of the 1210 profile
    assert b"T3105W000001" not in seller.last_xml
    assert doc.findtext(".//ceb:BaseTransfer/ceb:dxpId", namespaces=NS) == hangzhou["dxp_id"]

    # the withdrawal of the export list is built from the export list's profile too
    cop_no = doc.findtext(".//ceb:copNo", namespaces=NS) or ""
    await seller.receipt(inventory_receipt(cop_no, 120, export=True, invt_no="29922026E000000001", order_no=order_no))
    r = await compliance.post(f"/v1/compliance/orders/{EBP}/{order_no}/cancellation", headers=tenant.auth(),
                              json={"reason": "buyer changed their mind"})  # fmt: skip
    assert r.status_code == 200, r.text
    withdrawal = await seller.xml(exported["declaration_id"], "cancellation-xml")
    ok, errors = valid_unsigned(withdrawal, "export")
    assert ok, errors
    assert head_fields(withdrawal, "InvtCancel", ("customsCode", "agentCode", "invtNo")) == [
        "2992", "2992980159", "29922026E000000001"
    ]  # fmt: skip
    assert withdrawal.findtext(".//ceb:BaseTransfer/ceb:dxpId", namespaces=NS) == hangzhou["dxp_id"]
    # a profile declarations were made under stays: their messages are built from it again
    body = assert_problem(await compliance.delete(f"{BASE}/{hangzhou['id']}", headers=tenant.auth()), 409)
    assert "declarations" in body["detail"]
    r = await compliance.get(f"/v1/compliance/declarations/{exported['declaration_id']}/xml", headers=tenant.auth())
    assert r.status_code == 200 and b"Hangzhou Broker" in r.content


async def test_each_message_travels_under_the_dxp_id_of_its_declarations_profile(
    compliance, compliance_app, tenant, tmp_path, monkeypatch, sm2_signer
):  # type: ignore[no-untyped-def]
    ctx, outbox = outbox_of(compliance_app, tmp_path, monkeypatch)
    sessions, pii = context_of(compliance_app).sessionmaker, compliance_context(compliance_app).pii
    seller = await Exporter(compliance, tenant).setup(profile=False)
    ningbo = await add(compliance, tenant, bonded_import(tenant))
    await bonded_record(compliance, tenant)
    hangzhou = await add(compliance, tenant, direct_export(tenant))
    imported = await seller.deliver_all(new_order_no(), buyer=buyer_id(74))
    order_no = new_order_no()
    exported = await seller.deliver(export_order(order_no, mode="9610"), receipt_of_payment(order_no),
                                    export_waybill(order_no))  # fmt: skip
    assert await send_pending(sessions, ctx, pii, org_id=tenant.org_id) == 5
    written(outbox)  # every envelope satisfies the transfer schema
    senders = {}
    for path in (p for p in outbox.iterdir() if p.is_file()):
        doc = etree.parse(str(path)).getroot()
        senders[doc.findtext(f"{{{DXP}}}TransInfo/{{{DXP}}}CopMsgId")] = doc.findtext(
            f"{{{DXP}}}TransInfo/{{{DXP}}}SenderId"
        )
    for view, profile in ((imported, ningbo), (exported, hangzhou)):
        guids = [m["guid"] for m in (await seller.order(view["order_no"]))["messages"]]
        assert guids and {senders[g] for g in guids} == {profile["dxp_id"]}

    # customs answers each list to the e-port id it came from: both reach the organisation
    inbox = tmp_path / "receive"
    inbox.mkdir()
    monkeypatch.setattr(ctx, "inbox", inbox)
    for view, profile, export in ((imported, ningbo, False), (exported, hangzhou, True)):
        cop_no = (await seller.xml(view["declaration_id"])).findtext(".//ceb:copNo", namespaces=NS) or ""
        receipt = inventory_receipt(cop_no, 120, export=export, order_no=view["order_no"])
        wrapped = envelope(receipt, guid=str(uuid.uuid4()).upper(), message_type="CEB622Message",
                           sender_id="DXPEDCCEB0000002", receiver_id=profile["dxp_id"], at=utcnow())  # fmt: skip
        (inbox / f"{view['order_no']}.xml").write_bytes(wrapped)
    assert await take_inbox(sessions, ctx, pii) == 2
    for view in (imported, exported):
        assert (await seller.order(view["order_no"]))["state"] == "accepted"


async def test_an_order_no_profile_declares_waits_saying_which_and_is_declared_once_it_is_added(compliance, tenant):
    seller = await Exporter(compliance, tenant).setup(profile=False)
    await add(compliance, tenant, {**direct_export(tenant), "trade_mode": "9710", "name": "B2B exports"})
    order_no = new_order_no()
    waiting = await seller.deliver_all(order_no, buyer=buyer_id(72))
    assert waiting["state"] == "matched", waiting["checks"]
    assert "import profile" in waiting["awaiting_profile"]
    assert "/v1/compliance/customs-profiles" in waiting["awaiting_profile"]
    listed = await exceptions(compliance, tenant)
    assert listed[order_no]["reason"] == "awaiting_profile"
    assert "import profile" in listed[order_no]["cause"]
    assert [(a["action"], a["method"], a["path"]) for a in listed[order_no]["actions"]] == [
        ("add_customs_profile", "POST", "/v1/compliance/customs-profiles")
    ]

    await add(compliance, tenant, bonded_import(tenant, dxp_id=dxp_id_of(tenant.org_id + "-export")))
    await bonded_record(compliance, tenant)
    declared = await seller.order(order_no)
    assert declared["state"] == "declared", declared
    assert declared["awaiting_profile"] is None
    assert order_no not in await exceptions(compliance, tenant)
    doc = await seller.xml(declared["declaration_id"])
    assert head_fields(doc, "InventoryHead", ("tradeMode", "customsCode")) == ["1210", "3105"]


async def test_a_source_declares_its_orders_under_the_profile_it_names(compliance, tenant, other_tenant):
    seller = await Exporter(compliance, tenant).setup(profile=False)
    await add(compliance, tenant, bonded_import(tenant))
    hangzhou_import = await add(compliance, tenant, {**direct_export(tenant), "direction": "import",
                                                     "name": "Hangzhou imports"})  # fmt: skip
    foreign = await add(compliance, other_tenant, bonded_import(other_tenant))
    shop = {"name": "Shop 2", "kind": "shopify", "role": "platform", "ebp_code": "1105910159", "ebp_name": "Shop"}
    assert_problem(await compliance.post("/v1/compliance/sources", headers=tenant.auth(),
                                         json={**shop, "customs_profile_id": foreign["id"]}), 422)  # fmt: skip
    r = await compliance.post("/v1/compliance/sources", json={**shop, "customs_profile_id": hangzhou_import["id"]},
                              headers=tenant.auth())  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["customs_profile_id"] == hangzhou_import["id"]
    seller.sources["shop"] = r.json()
    view = await seller.deliver_all(new_order_no(), buyer=buyer_id(73))
    assert view["state"] == "declared", view["checks"]
    doc = await seller.xml(view["declaration_id"])
    assert head_fields(doc, "InventoryHead", ("tradeMode", "customsCode", "agentCode")) == [
        "9610", "2992", "2992980159"
    ]  # fmt: skip
    # a profile a source names is not deleted from under it
    assert_problem(await compliance.delete(f"{BASE}/{hangzhou_import['id']}", headers=tenant.auth()), 409)


async def test_the_collection_validates_refuses_duplicates_pages_and_checks_if_match(compliance, tenant):
    admin = tenant.auth()
    body = assert_problem(await compliance.post(BASE, json={**direct_export(tenant), "trade_mode": "9710",
                                                            "direction": "import"}, headers=admin), 422)  # fmt: skip
    assert "export mode" in str(body)
    body = assert_problem(await compliance.post(BASE, json={**bonded_import(tenant), "area_code": None},
                                                headers=admin), 422)  # fmt: skip
    assert "area_code" in str(body)
    first = await add(compliance, tenant, direct_export(tenant))
    assert first["default"] is True  # an organisation's first profile is its default
    body = assert_problem(await compliance.post(BASE, json={**direct_export(tenant), "name": "again"},
                                                headers=admin), 409)  # fmt: skip
    assert "Hangzhou exports" in body["detail"] and "9610" in body["detail"]
    # 9710 at the same office is another mode: a second profile
    b2b = await add(compliance, tenant, {**direct_export(tenant), "trade_mode": "9710", "name": "B2B"})
    assert b2b["direction"] == "export" and b2b["default"] is False

    r = await compliance.get(BASE, params={"limit": 1}, headers=admin)
    assert r.status_code == 200 and len(r.json()["items"]) == 1 and r.json()["next_cursor"]
    r2 = await compliance.get(BASE, params={"limit": 1, "cursor": r.json()["next_cursor"]}, headers=admin)
    assert [p["id"] for p in r.json()["items"] + r2.json()["items"]] == [first["id"], b2b["id"]]

    got = await compliance.get(f"{BASE}/{b2b['id']}", headers=admin)
    assert got.status_code == 200 and got.json() == b2b
    etag = got.headers["ETag"]
    # a change to another profile's mode is refused as a duplicate too
    assert_problem(await compliance.patch(f"{BASE}/{b2b['id']}", json={"trade_mode": "9610"},
                                          headers={**admin, "If-Match": etag}), 409)  # fmt: skip
    assert_problem(await compliance.patch(f"{BASE}/{b2b['id']}", json={"direction": "import"}, headers=admin), 422)
    r = await compliance.patch(f"{BASE}/{b2b['id']}", json={"agent_name": "Other Broker", "default": True},
                               headers={**admin, "If-Match": etag})  # fmt: skip
    assert r.status_code == 200, r.text
    assert (r.json()["agent_name"], r.json()["default"]) == ("Other Broker", True)
    assert_problem(await compliance.patch(f"{BASE}/{b2b['id']}", json={"name": "x"},
                                          headers={**admin, "If-Match": etag}), 412)  # fmt: skip
    # the singular endpoint acts on the default, now the 9710 one
    single = await compliance.get("/v1/compliance/customs-profile", headers=admin)
    assert (single.json()["trade_mode"], single.json()["agent_name"]) == ("9710", "Other Broker")
    assert (await compliance.get(f"{BASE}/{first['id']}", headers=admin)).json()["default"] is False

    assert_problem(await compliance.delete(f"{BASE}/{b2b['id']}", headers={**admin, "If-Match": etag}), 412)
    r = await compliance.delete(f"{BASE}/{b2b['id']}", headers=admin)
    assert r.status_code == 204
    assert_problem(await compliance.get(f"{BASE}/{b2b['id']}", headers=admin), 404)
    # the default passed to the one left
    assert (await compliance.get(f"{BASE}/{first['id']}", headers=admin)).json()["default"] is True
    assert (await compliance.get("/v1/compliance/customs-profile", headers=admin)).json()["trade_mode"] == "9610"


async def test_another_organisations_profile_is_not_found(compliance, tenant, other_tenant):
    mine = await add(compliance, tenant, direct_export(tenant))
    theirs = other_tenant.auth()
    assert_problem(await compliance.get(f"{BASE}/{mine['id']}", headers=theirs), 404)
    assert_problem(await compliance.patch(f"{BASE}/{mine['id']}", json={"name": "x"}, headers=theirs), 404)
    assert_problem(await compliance.delete(f"{BASE}/{mine['id']}", headers=theirs), 404)
    assert (await compliance.get(BASE, headers=theirs)).json()["items"] == []
    assert (await compliance.get(f"{BASE}/{mine['id']}", headers=tenant.auth())).json()["name"] == mine["name"]


async def test_profiles_of_one_organisation_may_share_a_dxp_id_but_no_two_organisations(
    compliance, tenant, other_tenant
):
    shared = dxp_id_of(tenant.org_id)
    await add(compliance, tenant, bonded_import(tenant, dxp_id=shared))
    mine = await add(compliance, tenant, direct_export(tenant, dxp_id=shared))
    body = assert_problem(await compliance.post(BASE, json=direct_export(other_tenant, dxp_id=shared),
                                                headers=other_tenant.auth()), 409)  # fmt: skip
    assert "another organisation" in body["detail"]
    assert_problem(await compliance.put("/v1/compliance/customs-profile", headers=other_tenant.auth(),
                                        json={**PROFILE, "dxp_id": shared}), 409)  # fmt: skip
    theirs = await add(compliance, other_tenant, direct_export(other_tenant))
    assert_problem(await compliance.patch(f"{BASE}/{theirs['id']}", json={"dxp_id": shared},
                                          headers=other_tenant.auth()), 409)  # fmt: skip
    # an id no profile names any more is free again
    own = dxp_id_of(tenant.org_id + "-own")
    r = await compliance.patch(f"{BASE}/{mine['id']}", json={"dxp_id": own}, headers=tenant.auth())
    assert r.status_code == 200, r.text
    r = await compliance.post(BASE, json=bonded_import(other_tenant, dxp_id=dxp_id_of(tenant.org_id + "-x")),
                              headers=other_tenant.auth())  # fmt: skip
    assert r.status_code == 201, r.text
    assert_problem(await compliance.patch(f"{BASE}/{theirs['id']}", json={"dxp_id": own},
                                          headers=other_tenant.auth()), 409)  # fmt: skip


@pytest.mark.db
async def test_two_organisations_claiming_one_dxp_id_at_once_cannot_both_have_it(compliance, plans):
    """Two organisations create a profile with the same new id at the same moment: one gets it, the other a 409
    (the database decides: dxp_owners' primary key and the profiles' foreign key)."""
    for attempt in range(3):
        a, b = await make_tenant(plans), await make_tenant(plans)
        dxp = dxp_id_of(f"race-{a.org_id}-{attempt}")
        answers = await asyncio.gather(
            compliance.post(BASE, json=direct_export(a, dxp_id=dxp), headers=a.auth()),
            compliance.post(BASE, json=direct_export(b, dxp_id=dxp), headers=b.auth()),
        )
        assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
        winner = a if answers[0].status_code == 201 else b
        loser = b if winner is a else a
        assert (await compliance.get(BASE, headers=loser.auth())).json()["items"] == []
        assert (await compliance.get(BASE, headers=winner.auth())).json()["items"][0]["dxp_id"] == dxp


@pytest.mark.db
async def test_the_upgrade_makes_each_organisations_profile_its_default_and_records_it_on_its_declarations(
    databases: Any,
) -> None:
    url = await databases.new("profiles_upgrade")
    config = alembic_config(MIGRATIONS, url)
    await asyncio.to_thread(command.upgrade, config, "pii_0012")
    engine = make_engine(url)
    at = datetime(2026, 12, 1, 10, tzinfo=UTC)
    try:
        async with engine.begin() as conn:
            for pid, org, mode in (("p-1", "org-1", "9610"), ("p-2", "org-2", "9710")):
                await conn.execute(text(INSERT_PROFILE), {"id": pid, "org": org, "dxp": f"DXP{pid}", "mode": mode,
                                                          "at": at})  # fmt: skip
            await conn.execute(text(INSERT_DECLARATION), {"at": at})
        await asyncio.to_thread(command.upgrade, config, "head")
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id, direction, is_default, name FROM customs_profiles "
                                            "ORDER BY id"))).all()  # fmt: skip
            owners = dict((await conn.execute(text("SELECT dxp_id, org_id FROM dxp_owners"))).all())
            declared = (await conn.execute(text("SELECT profile_id FROM declarations"))).scalar_one()
        assert [tuple(r) for r in rows] == [("p-1", "import", True, "Default"), ("p-2", "export", True, "Default")]
        assert owners == {"DXPp-1": "org-1", "DXPp-2": "org-2"}
        assert declared == "p-1"
        await asyncio.to_thread(command.downgrade, config, "pii_0012")
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM customs_profiles"))).scalar_one() == 2
    finally:
        await engine.dispose()
