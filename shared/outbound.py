"""Which addresses XBM may send webhooks to: a subscription must not become a way to reach internal hosts."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from shared.errors import Unprocessable

#: private, loopback, link-local, carrier-grade NAT, multicast, reserved and documentation ranges
DEFAULT_DENY = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "255.255.255.255/32",
    "::/128",
    "::1/128",
    "::ffff:0:0/96",
    "64:ff9b::/96",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
)
LOOPBACK = ("127.0.0.0/8", "::1/128")


class OutboundPolicy:
    """``allow`` wins over ``deny``; an address in neither is allowed (the public internet)."""

    def __init__(self, allow: Iterable[str] = (), deny: Iterable[str] = DEFAULT_DENY):
        self.allow = [ipaddress.ip_network(n) for n in allow]
        self.deny = [ipaddress.ip_network(n) for n in deny]

    @classmethod
    def for_environment(cls, environment: str, allow: Iterable[str] = ()) -> OutboundPolicy:
        extra = LOOPBACK if environment in ("development", "test") else ()
        return cls(allow=[*allow, *extra])

    def address_allowed(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if any(ip in net for net in self.allow):
            return True
        return not any(ip in net for net in self.deny)

    async def check_url(self, url: str) -> None:
        """Raise :class:`Unprocessable` unless every address the URL's host resolves to is allowed."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Unprocessable("webhook URL must be an absolute http(s) URL", loc=["body", "url"])
        if parts.username or parts.password:
            raise Unprocessable("webhook URL must not carry credentials", loc=["body", "url"])
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise Unprocessable("webhook URL has an invalid port", loc=["body", "url"]) from exc
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise Unprocessable(f"webhook host {parts.hostname!r} does not resolve", loc=["body", "url"]) from exc
        for info in infos:
            address = str(info[4][0])
            if not self.address_allowed(address):
                raise Unprocessable(
                    f"webhook URL resolves to {address}, an address XBM does not send to", loc=["body", "url"]
                )
