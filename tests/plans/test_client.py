"""The plans client as its callers meet it: plans' answers become the client's own errors (never httpx's), and
its test double answers as plans does."""

from __future__ import annotations

import httpx
import jwt
import pytest

from services.plans.client import PlansClient, PlansRefused, PlansUnavailable
from services.plans.client_fake import FakePlans
from shared.errors import NotFound, Unavailable

ORG = "00000000-0000-4000-8000-000000000001"
TOKEN = jwt.encode({"org": ORG}, "k" * 32, algorithm="HS256")


def client(handler: httpx.MockTransport) -> PlansClient:
    return PlansClient(httpx.AsyncClient(transport=handler), "http://plans", attempts=1, backoff_seconds=0)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (403, {"status": 403}, PlansRefused),
        (401, {"status": 401}, PlansRefused),
        (500, {"status": 500}, PlansUnavailable),
        (200, {"id": "x"}, PlansUnavailable),  # an SBU the client cannot read
        (200, "not json", PlansUnavailable),
    ],
)
async def test_plans_answers_become_the_clients_own_errors(status: int, body: object, error: type[Exception]):
    def answer(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    with pytest.raises(error) as raised:
        await client(httpx.MockTransport(answer)).get_sbu("sbu-1", token=TOKEN)
    assert not isinstance(raised.value, httpx.HTTPError)
    assert raised.value.status == (status if status >= 400 else None)  # type: ignore[attr-defined]


async def test_the_fake_answers_as_plans_does():
    fake = FakePlans({"keys": []})
    mine = fake.add_sbu(ORG)
    theirs = fake.add_sbu("00000000-0000-4000-8000-000000000002", status="retired")
    plans = client(fake.transport())
    sbu = await plans.get_sbu(mine, token=TOKEN)
    assert (sbu.id, sbu.org_id, sbu.status) == (mine, ORG, "active")
    with pytest.raises(NotFound):
        await plans.get_sbu(theirs, token=TOKEN)  # another organisation's SBU is as unknown as a made-up one
    assert fake.sbu_calls == 2
    down = client(fake.transport(sbus_down=True))
    with pytest.raises(Unavailable) as raised:  # unreachable: the service client's 503 with Retry-After
        await down.get_sbu(mine, token=TOKEN)
    assert raised.value.status == 503 and "Retry-After" in raised.value.headers
