"""A customs inbox no file can stop: a receipt file XBM cannot apply goes to ``failed/`` with its reason and the
next file is taken in the same pass; the same XML posted to /messages is a clear 4xx; an e-port id (dxp_id) is
one organisation's; customs digits are the ASCII digits only."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from lxml import etree

from services.compliance.context import compliance_context
from services.compliance.customs.context import CustomsContext
from services.compliance.customs.transport import envelope
from services.compliance.intake.customs_inbox import take_inbox
from shared.context import context_of
from shared.db import utcnow
from tests.compliance.support import EBP, ITEM, Seller, buyer_id, dxp_id_of, inventory_receipt, new_order_no, profile
from tests.compliance.support import schema as xsd
from tests.support import assert_problem

CEB = "http://www.chinaport.gov.cn/ceb"
T1, T2 = "20261111100100000", "20261111100200000"


def _ceb816(invt_no: str, customs_tax: str) -> bytes:
    guid = str(uuid.uuid4()).upper()
    return (
        f'<CEB816Message xmlns="{CEB}" guid="{guid}" version="1.0"><Tax><TaxHeadRd>'
        f"<guid>{guid}</guid><returnTime>{T2}</returnTime><invtNo>{invt_no}</invtNo>"
        f"<taxNo>TAX{invt_no}</taxNo><customsTax>{customs_tax}</customsTax><valueAddedTax>20.02</valueAddedTax>"
        f"<consumptionTax>0</consumptionTax><status>1</status><ebcCode>{EBP}</ebcCode></TaxHeadRd>"
        f"<TaxListRd><gnum>1</gnum><gcode>6214200000</gcode><taxPrice>220</taxPrice><customsTax>{customs_tax}"
        "</customsTax><valueAddedTax>20.02</valueAddedTax><consumptionTax>0</consumptionTax></TaxListRd>"
        "</Tax></CEB816Message>"
    ).encode()


async def _declared(compliance, tenant, n: int):  # type: ignore[no-untyped-def]
    seller = await Seller(compliance, tenant).setup()
    order_no = new_order_no()
    view = await seller.deliver_all(order_no, buyer=buyer_id(n))
    assert view["state"] == "declared", view["checks"]
    xml = await compliance.get(f"/v1/compliance/declarations/{view['declaration_id']}/xml", headers=tenant.auth())
    cop_no = etree.fromstring(xml.content).findtext(f".//{{{CEB}}}copNo") or ""
    return seller, order_no, cop_no


def _post(compliance, tenant, body: bytes):  # type: ignore[no-untyped-def]
    headers = {**tenant.auth("integration"), "Content-Type": "application/xml"}
    return compliance.post("/v1/compliance/messages", content=body, headers=headers)


def _wrapped(body: bytes, message_type: str, receiver: str) -> bytes:
    return envelope(body, guid=str(uuid.uuid4()).upper(), message_type=message_type,
                    sender_id="DXPEDCCEB0000002", receiver_id=receiver, at=utcnow())  # fmt: skip


async def test_a_tax_bill_xbm_cannot_keep_is_a_422_not_a_500(compliance, tenant):
    seller, order_no, cop_no = await _declared(compliance, tenant, 41)
    invt_no = "4604" + uuid.uuid4().hex[:14].upper()
    assert (await _post(compliance, tenant, inventory_receipt(cop_no, 120, T1, invt_no=invt_no))).status_code == 200
    poison = _ceb816(invt_no, "0.00001")
    assert xsd("import").validate(etree.fromstring(poison))  # customs' schema takes five places
    problem = assert_problem(await _post(compliance, tenant, poison), 422)
    assert "customsTax" in problem["detail"] and "0.00001" in problem["detail"]
    assert (await seller.order(order_no))["customs_tax"] is None  # nothing of it applied
    for bad in ("-1", "1e3", "１２"):  # negative, exponent, full-width digits
        assert_problem(await _post(compliance, tenant, _ceb816(invt_no, bad)), 422)
    # five places that are exact to four are kept
    assert (await _post(compliance, tenant, _ceb816(invt_no, "0.00000"))).status_code == 200
    assert (await seller.order(order_no))["customs_tax"] == "20.02"


async def test_a_poison_receipt_file_goes_aside_and_the_next_file_is_taken_in_the_same_pass(
    compliance, compliance_app, tenant, tmp_path: Path, monkeypatch
):  # type: ignore[no-untyped-def]
    seller, order_no, cop_no = await _declared(compliance, tenant, 42)
    ctx: CustomsContext = compliance_context(compliance_app).customs
    inbox = tmp_path / "receive"
    inbox.mkdir()
    monkeypatch.setattr(ctx, "inbox", inbox)
    dxp_id = dxp_id_of(tenant.org_id)
    invt_no = "4604" + uuid.uuid4().hex[:14].upper()
    # sorted by name: the poison file comes first, the receipt the seller waits for after it
    (inbox / "A_CEB816_poison.xml").write_bytes(_wrapped(_ceb816(invt_no, "0.00001"), "CEB816Message", dxp_id))
    (inbox / "B_CEB816_crash.xml").write_bytes(_wrapped(_ceb816(invt_no, "1.00"), "CEB816Message", dxp_id))
    good = inventory_receipt(cop_no, 120, T1, invt_no=invt_no)
    (inbox / "C_CEB622.xml").write_bytes(_wrapped(good, "CEB622Message", dxp_id))

    # a file failing in a way nobody foresaw (here: a fault injected while applying it) goes aside as well
    import services.compliance.intake.service as intake

    real = intake.receive_message

    async def faulty(session, pii, org_id, body):  # type: ignore[no-untyped-def]
        if b"<customsTax>1.00</customsTax>" in body:
            raise RuntimeError("unforeseen fault")
        return await real(session, pii, org_id, body)

    monkeypatch.setattr(intake, "receive_message", faulty)
    sessions, pii = context_of(compliance_app).sessionmaker, compliance_context(compliance_app).pii
    assert await take_inbox(sessions, ctx, pii) == 1  # one pass: both aside, the receipt applied
    failed = inbox / "failed"
    assert sorted(p.name for p in failed.iterdir()) == [
        "A_CEB816_poison.xml", "A_CEB816_poison.xml.reason.txt", "B_CEB816_crash.xml", "B_CEB816_crash.xml.reason.txt",
    ]  # fmt: skip
    assert "0.00001" in (failed / "A_CEB816_poison.xml.reason.txt").read_text()
    assert "unforeseen fault" in (failed / "B_CEB816_crash.xml.reason.txt").read_text()
    assert (inbox / "done" / "C_CEB622.xml").exists()
    assert not [p for p in inbox.iterdir() if p.is_file()]
    assert (await seller.order(order_no))["state"] == "accepted"
    assert await take_inbox(sessions, ctx, pii) == 0  # nothing is retried


async def test_a_copied_dxp_id_is_refused(compliance, tenant, other_tenant):
    r = await compliance.put("/v1/compliance/customs-profile", json=profile(tenant), headers=tenant.auth())
    assert r.status_code in (200, 201), r.text
    victims = profile(tenant)["dxp_id"]
    copied = profile(other_tenant, dxp_id=victims)
    problem = assert_problem(
        await compliance.put("/v1/compliance/customs-profile", json=copied, headers=other_tenant.auth()), 409
    )
    assert "dxp_id" in problem["detail"]
    # the copier's own id is taken; the victim keeps saving its own
    mine = await compliance.put(
        "/v1/compliance/customs-profile", json=profile(other_tenant), headers=other_tenant.auth()
    )
    assert mine.status_code in (200, 201), mine.text
    etag = mine.headers["etag"]
    again = await compliance.put(
        "/v1/compliance/customs-profile", json=copied, headers={**other_tenant.auth(), "If-Match": etag}
    )
    assert_problem(again, 409)  # nor by changing an existing profile
    r = await compliance.get("/v1/compliance/customs-profile", headers=tenant.auth())
    assert r.json()["dxp_id"] == victims


@pytest.mark.parametrize("status", ["١٢٠", "１２０"])  # Arabic-Indic and full-width 120
async def test_a_receipt_status_in_non_ascii_digits_is_not_read_as_a_number(compliance, tenant, status):
    seller, order_no, cop_no = await _declared(compliance, tenant, 43)
    body = inventory_receipt(cop_no, 0, T1).replace(b"<returnStatus>0</returnStatus>",
                                                    f"<returnStatus>{status}</returnStatus>".encode())  # fmt: skip
    r = await _post(compliance, tenant, body)
    assert r.status_code == 200, r.text
    assert r.json()["receipts"] == 0  # no status customs could have sent: nothing to apply
    assert (await seller.order(order_no))["state"] == "declared"


@pytest.mark.parametrize(
    "field,value", [("hs_code", "６２１４２０００００"), ("unit", "０１１"), ("origin_country", "٣٠٣")]
)
async def test_item_records_take_ascii_digits_only(compliance, tenant, field, value):
    body = {**ITEM, field: value}
    r = await compliance.put("/v1/compliance/items/FULLWIDTH-1", json=body, headers=tenant.auth())
    assert_problem(r, 422)


async def test_customs_profile_codes_take_ascii_digits_only(compliance, tenant):
    r = await compliance.put(
        "/v1/compliance/customs-profile", json=profile(tenant, customs_code="４６０４"), headers=tenant.auth()
    )
    assert_problem(r, 422)


async def test_with_the_database_away_the_files_stay_for_the_next_pass(compliance_app, tmp_path: Path, monkeypatch):  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import OperationalError

    import services.compliance.intake.service as intake

    ctx: CustomsContext = compliance_context(compliance_app).customs
    inbox = tmp_path / "receive"
    inbox.mkdir()
    monkeypatch.setattr(ctx, "inbox", inbox)
    for n in (1, 2):
        (inbox / f"CEB622_{n}.xml").write_bytes(inventory_receipt("COP", 120))

    async def away(session, pii, org_id, body):  # type: ignore[no-untyped-def]
        raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection"))

    monkeypatch.setattr(intake, "receive_message", away)
    monkeypatch.setattr("services.compliance.intake.customs_inbox._org_for", _any_org)
    sessions, pii = context_of(compliance_app).sessionmaker, compliance_context(compliance_app).pii
    assert await take_inbox(sessions, ctx, pii) == 0
    assert sorted(p.name for p in inbox.iterdir()) == ["CEB622_1.xml", "CEB622_2.xml"]  # nothing set aside


async def _any_org(session, receiver):  # type: ignore[no-untyped-def]
    return "org"
