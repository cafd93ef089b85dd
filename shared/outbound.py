"""Which addresses XBM may send webhooks to: a subscription must not become a way to reach internal hosts."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from shared.errors import Unprocessable

#: every range of the IANA special-purpose address registries (IPv4 and IPv6), multicast, and the transition
#: prefixes that embed or tunnel to another address (NAT64, 6to4, Teredo), which could lead to an internal host
DEFAULT_DENY = (
    # IPv4 (RFC 6890 registry)
    "0.0.0.0/8",  # this network
    "10.0.0.0/8",  # private
    "100.64.0.0/10",  # carrier-grade NAT
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link-local
    "172.16.0.0/12",  # private
    "192.0.0.0/24",  # IETF protocol assignments
    "192.0.2.0/24",  # documentation
    "192.31.196.0/24",  # AS112-v4
    "192.52.193.0/24",  # AMT
    "192.88.99.0/24",  # 6to4 relay anycast
    "192.168.0.0/16",  # private
    "192.175.48.0/24",  # AS112 direct delegation
    "198.18.0.0/15",  # benchmarking
    "198.51.100.0/24",  # documentation
    "203.0.113.0/24",  # documentation
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved
    "255.255.255.255/32",  # limited broadcast
    # IPv6
    "::/96",  # unspecified, loopback and the deprecated IPv4-compatible addresses
    "::ffff:0:0/96",  # IPv4-mapped (also checked as the IPv4 address it maps)
    "64:ff9b::/96",  # NAT64 well-known prefix
    "64:ff9b:1::/48",  # NAT64 local use
    "100::/64",  # discard only
    "100:0:0:1::/64",  # dummy prefix
    "2001::/23",  # IETF protocol assignments, Teredo (2001::/32) included
    "2001:db8::/32",  # documentation
    "2002::/16",  # 6to4
    "2620:4f:8000::/48",  # AS112 direct delegation
    "3fff::/20",  # documentation
    "5f00::/16",  # segment routing SIDs
    "fc00::/7",  # unique local
    "fe80::/10",  # link-local
    "fec0::/10",  # site-local (deprecated)
    "ff00::/8",  # multicast
)
LOOPBACK = ("127.0.0.0/8", "::1/128")
#: the ports a production webhook may name, unless XBM_OUTBOUND_ALLOW_PORTS adds others
WEB_PORTS = (80, 443)


#: ``(host, port) -> addresses``; the system resolver unless a test or deployment brings its own
Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class Target:
    """A checked URL and the address it was checked at: the request goes to that address, never to a fresh
    resolution of the name (which a rebinding DNS server could point at an internal host meanwhile)."""

    url: str
    host: str
    port: int
    address: str

    def pinned(self) -> tuple[str, dict[str, str], dict[str, Any]]:
        """The URL with the checked address as its host, the ``Host`` header naming the original host, and for
        https the TLS server name (SNI, and the name the certificate is verified against)."""
        original = httpx.URL(self.url)
        url = original.copy_with(host=self.address)
        headers = {"host": original.netloc.decode("ascii")}
        extensions: dict[str, Any] = {"sni_hostname": self.host} if original.scheme == "https" else {}
        return str(url), headers, extensions


class OutboundPolicy:
    """``allow`` wins over ``deny``; an address in neither is allowed (the public internet)."""

    def __init__(
        self,
        allow: Iterable[str] = (),
        deny: Iterable[str] = DEFAULT_DENY,
        resolver: Resolver | None = None,
        ports: Iterable[int] | None = WEB_PORTS,
    ):
        self.allow = [ipaddress.ip_network(n) for n in allow]
        self.deny = [ipaddress.ip_network(n) for n in deny]
        self.resolver = resolver or system_resolver
        #: the ports a webhook may name (None: any, as in development, where local listeners use their own)
        self.ports = frozenset(ports) if ports is not None else None

    @classmethod
    def for_environment(
        cls, environment: str, allow: Iterable[str] = (), resolver: Resolver | None = None, ports: Iterable[int] = ()
    ) -> OutboundPolicy:
        local = environment in ("development", "test")
        extra = LOOPBACK if local else ()
        return cls(allow=[*allow, *extra], resolver=resolver, ports=None if local else {*WEB_PORTS, *ports})

    def address_allowed(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        forms: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            forms.append(ip.ipv4_mapped)  # judged also as the IPv4 address it reaches
        if any(f in net for f in forms for net in self.allow):
            return True
        return not any(f in net for f in forms for net in self.deny)

    async def check_url(self, url: str) -> None:
        """Raise :class:`Unprocessable` unless every address the URL's host resolves to is allowed."""
        await self.resolve(url)

    async def resolve(self, url: str) -> Target:
        """Resolve the URL's host once and check every address; the first one is where to connect."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Unprocessable("webhook URL must be an absolute http(s) URL", loc=["body", "url"])
        if parts.username or parts.password:
            raise Unprocessable("webhook URL must not carry credentials", loc=["body", "url"])
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise Unprocessable("webhook URL has an invalid port", loc=["body", "url"]) from exc
        if self.ports is not None and port not in self.ports:
            allowed = ", ".join(str(p) for p in sorted(self.ports))
            raise Unprocessable(f"webhook URL must use port {allowed}", loc=["body", "url"])
        host = parts.hostname
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                addresses = await self.resolver(host, port)
            except (OSError, UnicodeError) as exc:
                raise Unprocessable(f"webhook host {host!r} does not resolve", loc=["body", "url"]) from exc
        if not addresses:
            raise Unprocessable(f"webhook host {host!r} does not resolve", loc=["body", "url"])
        for address in addresses:
            if not self._allowed_text(address):
                # the address is not named: the answer must not map a network XBM cannot send to
                raise Unprocessable("webhook URL resolves to an address XBM does not send to", loc=["body", "url"])
        return Target(url, host, port, addresses[0].split("%", 1)[0])

    def _allowed_text(self, address: str) -> bool:
        try:
            return self.address_allowed(address)
        except ValueError:  # not an address at all: nothing to connect to
            return False
