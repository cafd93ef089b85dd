"""Webhook deliveries go to the address that was checked: a DNS name that answers a public address when
checked and loopback afterwards (rebinding) never makes XBM connect to loopback under the production policy.
Every special-purpose range (IANA registries), NAT64, 6to4 and Teredo included, is refused unless allowed."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.context import context_of
from shared.errors import Unprocessable
from shared.outbound import OutboundPolicy
from tests.shared.test_events import _make_due, _make_toy, toy  # noqa: F401 - the toy service fixture
from tests.support import Tenant, assert_problem

PUBLIC = "93.184.216.34"
NAME = "hooks.rebind.example"


class Rebinding:
    """A DNS server an attacker runs: the first ``honest`` answers are public, every later one is loopback."""

    def __init__(self, honest: int, evil: str = "127.0.0.1"):
        self.honest = honest
        self.evil = evil
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return [PUBLIC] if len(self.asked) <= self.honest else [self.evil]


def _production(app, resolver) -> OutboundPolicy:  # type: ignore[no-untyped-def]
    policy = OutboundPolicy.for_environment("production", resolver=resolver, ports=[8443])  # 8443 allowed here
    context_of(app).outbound_policy = policy
    context_of(app).require_relay().policy = policy
    return policy


async def _subscribe(client, tenant: Tenant, url: str) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post("/v1/subscriptions", json={"url": url, "event_types": ["toy.created"]}, headers=tenant.auth())
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.mark.parametrize("evil", ["127.0.0.1", "::1", "169.254.169.254", "64:ff9b::7f00:1", "2002:7f00:1::1"])
async def test_a_rebinding_name_cannot_make_a_delivery_connect_to_an_internal_address(toy, tenant, evil):  # noqa: F811
    app, client, subscriber = toy
    resolver = Rebinding(honest=1, evil=evil)
    _production(app, resolver)
    sub = await _subscribe(client, tenant, f"https://{NAME}/hook")  # checked: public
    await _make_toy(client, tenant)
    assert await context_of(app).require_relay().run_once() == 1  # re-checked: now internal, so nothing is sent
    assert subscriber.received == []
    deliveries = (await client.get(f"/v1/subscriptions/{sub['id']}/deliveries", headers=tenant.auth())).json()
    attempt = deliveries["items"][0]
    # refused, without naming the address (an answer must not map the network behind XBM)
    assert attempt["status"] == "pending" and "does not send to" in attempt["last_error"]
    assert evil not in attempt["last_error"]
    assert resolver.asked == [NAME, NAME]


async def test_a_delivery_connects_to_the_checked_address_with_the_original_host_and_sni(toy, tenant):  # noqa: F811
    app, client, subscriber = toy
    resolver = Rebinding(honest=2)  # honest for the subscription and for the delivery's check, then loopback
    _production(app, resolver)
    await _subscribe(client, tenant, f"https://{NAME}:8443/hook?x=1")
    await _make_toy(client, tenant)
    assert await context_of(app).require_relay().run_once() == 1
    [request] = subscriber.received
    # the client was handed the checked address: it has no name left to resolve (to loopback) again
    assert request.url.host == PUBLIC and request.url.port == 8443 and request.url.path == "/hook"
    assert request.headers["host"] == f"{NAME}:8443"
    assert request.extensions["sni_hostname"] == NAME
    assert resolver.asked == [NAME, NAME]
    # the next attempt checks again: the name now answers loopback and nothing more is sent
    subscriber.script = []
    await _make_toy(client, tenant, "second")
    await _make_due(app)
    await context_of(app).require_relay().run_once()
    assert len(subscriber.received) == 1


TRANSITION_AND_SPECIAL = [
    "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b:1::1",  # local-use NAT64
    "::7f00:1",  # IPv4-compatible loopback
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "100::1",  # discard-only
    "2001:db8::1",  # documentation
    "3fff::1",  # documentation
    "fec0::1",  # site-local
    "192.88.99.1",  # 6to4 relay anycast
    "192.0.0.170",  # NAT64 discovery
    "198.18.0.1",  # benchmarking
    "100.64.0.1",  # shared address space
    "0.0.0.0",
    "255.255.255.255",
]


@pytest.mark.parametrize("address", TRANSITION_AND_SPECIAL)
async def test_special_purpose_and_transition_addresses_are_refused_unless_allowed(address):
    async def resolver(host: str, port: int) -> list[str]:
        return [address]

    policy = OutboundPolicy.for_environment("production", resolver=resolver, ports=[8443])  # 8443 allowed here
    with pytest.raises(Unprocessable):
        await policy.resolve("https://somewhere.example/hook")
    with pytest.raises(Unprocessable):
        await policy.resolve(f"http://{address if ':' not in address else f'[{address}]'}/hook")
    network = ipaddress.ip_network(address)
    allowed = OutboundPolicy.for_environment("production", allow=[str(network)], resolver=resolver)
    target = await allowed.resolve("https://somewhere.example/hook")
    assert ipaddress.ip_address(target.address) == ipaddress.ip_address(address)


async def test_one_internal_answer_among_public_ones_refuses_the_url():
    async def resolver(host: str, port: int) -> list[str]:
        return [PUBLIC, "10.0.0.7"]

    with pytest.raises(Unprocessable):
        await OutboundPolicy.for_environment("production", resolver=resolver).resolve("https://x.example/")


@given(st.ip_addresses())
def test_every_address_is_refused_exactly_when_it_is_not_globally_reachable(address) -> None:  # type: ignore[no-untyped-def]
    policy = OutboundPolicy.for_environment("production")
    if not address.is_global or address.is_multicast:
        assert not policy.address_allowed(str(address)), address


async def test_subscribing_a_name_that_resolves_internally_is_422(toy, tenant):  # noqa: F811
    app, client, _ = toy
    _production(app, Rebinding(honest=0, evil="10.1.2.3"))
    r = await client.post(
        "/v1/subscriptions", json={"url": f"https://{NAME}/", "event_types": ["toy.created"]}, headers=tenant.auth()
    )
    detail = assert_problem(r, 422)["detail"]
    assert "does not send to" in detail and "10.1.2.3" not in detail
