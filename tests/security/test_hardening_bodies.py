"""The depth guard holds whatever a body claims to be: JSON nested 5,000 deep sent as XML, CSV, multipart or
octets is a clean 422 problem on every service, never a 500 (a platform disables a webhook after a few 5xx)."""

from __future__ import annotations

import pytest

from tests.support import assert_problem

DEEP = b"[" * 5000 + b"]" * 5000
TYPES = ["application/xml", "text/csv", "multipart/form-data; boundary=x", "application/octet-stream", "text/plain"]


@pytest.mark.parametrize("content_type", TYPES)
async def test_deep_json_under_any_content_type_is_a_422_on_every_service(
    plans, campaigns, compliance, tenant, content_type: str
) -> None:
    for client, path in (
        (plans, "/v1/plans"),
        (campaigns, "/v1/campaigns"),
        (compliance, "/v1/compliance/messages"),
        (compliance, "/v1/compliance/webhooks/unknown-source"),
    ):
        headers = {**tenant.auth("admin"), "Content-Type": content_type}
        r = await client.post(path, content=DEEP, headers=headers)
        body = assert_problem(r, 422)
        assert "nested deeper" in body["detail"], (path, body)


async def test_ordinary_xml_and_csv_bodies_still_pass_the_guard(compliance, tenant) -> None:
    xml = b'<?xml version="1.0"?><x a="[{">' + b"<y>[</y>" * 10 + b"</x>"
    r = await compliance.post(
        "/v1/compliance/messages",
        content=xml,
        headers={**tenant.auth("integration"), "Content-Type": "application/xml"},
    )
    assert r.status_code != 422 or "nested deeper" not in r.text
    assert r.status_code < 500
