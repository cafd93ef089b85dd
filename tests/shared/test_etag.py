"""ETags on single resources and If-Match on writes (item records are the first such resource)."""

from __future__ import annotations

import httpx

from tests.support import Tenant, assert_problem

ITEM = {
    "gname": "Golf training simulator kit",
    "gmodel": "GS-200 indoor",
    "hs_code": "9506390000",
    "unit": "011",
    "unit1": "011",
    "qty1_per_unit": "1",
    "origin_country": "142",
    "vat_rate": "0.13",
}


async def test_put_get_and_if_match(compliance: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant) -> None:
    created = await compliance.put("/v1/compliance/items/GS-200", json=ITEM, headers=tenant.auth())
    assert created.status_code == 201, created.text
    etag = created.headers["etag"]
    got = await compliance.get("/v1/compliance/items/GS-200", headers=tenant.auth())
    assert got.headers["etag"] == etag and got.json()["vat_rate"] == "0.13"

    stale = await compliance.put(
        "/v1/compliance/items/GS-200",
        json={**ITEM, "vat_rate": "0.09"},
        headers={**tenant.auth(), "If-Match": '"stale"'},
    )
    assert_problem(stale, 412)
    updated = await compliance.put(
        "/v1/compliance/items/GS-200", json={**ITEM, "vat_rate": "0.09"}, headers={**tenant.auth(), "If-Match": etag}
    )
    assert updated.status_code == 200 and updated.headers["etag"] != etag

    assert_problem(await compliance.get("/v1/compliance/items/GS-200", headers=other_tenant.auth()), 404)
    assert_problem(await compliance.put("/v1/compliance/items/GS-200", json=ITEM, headers=tenant.auth("analyst")), 403)
    assert_problem(
        await compliance.put("/v1/compliance/items/GS-200", json={**ITEM, "hs_code": "95"}, headers=tenant.auth()), 422
    )
