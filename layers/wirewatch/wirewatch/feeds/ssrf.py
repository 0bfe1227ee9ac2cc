"""Refuse feed URLs that would make us connect to loopback, private, link-local or metadata addresses."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

_SCHEMES = {"http": 80, "https": 443}
_METADATA_HOSTS = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"}
)
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200")
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_LOOPBACK_ALLOWED = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeUrlError(ValueError):
    """A URL we refuse to fetch, with the reason in the message."""


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _refusal(ip: Address, allow_loopback: bool) -> str | None:
    """Why connecting to ip is refused, or None when it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            reason = _refusal(inner, allow_loopback)
            return f"{reason} (embedded in {ip})" if reason else None
        if ip.scope_id:
            return "scoped IPv6 address"
    if ip in _METADATA_ADDRESSES:
        return "cloud metadata address"
    if ip.is_loopback:
        if allow_loopback and any(ip in net for net in _LOOPBACK_ALLOWED):
            return None
        return "loopback address"
    checks = (
        (ip.is_unspecified, "unspecified address"),
        (ip.is_link_local, "link-local address"),
        (ip.is_multicast, "multicast address"),
        (ip in _CGNAT, "shared (CGNAT) address"),
        (ip.is_reserved, "reserved address"),
        (ip.is_private, "private address"),
        (not ip.is_global, "non-public address"),
    )
    return next((reason for refused, reason in checks if refused), None)


def _addresses(host: str, port: int, resolve: Resolver) -> list[Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass  # a name, not an IP literal
    try:
        resolved = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise UnsafeUrlError(f"cannot resolve host {host}: {exc}") from exc
    try:
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolved]
    except ValueError as exc:
        raise UnsafeUrlError(f"resolver returned a bad address for {host}: {exc}") from exc
    if not addresses:
        raise UnsafeUrlError(f"cannot resolve host {host}: no addresses")
    return addresses


def checked_addresses(host: str, port: int, *, allow_loopback: bool, resolve: Resolver = resolve_host) -> list[Address]:
    """Every address of host, resolved once; raise UnsafeUrlError unless all of them are public.

    The connection must then go to one of exactly these addresses (feeds/pinning.py does), never to
    a second lookup of the name, or a rebinding resolver can swap in 127.0.0.1 after the check.
    """
    host = host.rstrip(".").lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        raise UnsafeUrlError("URL has no host")
    if host in _METADATA_HOSTS:
        raise UnsafeUrlError(f"refused {host}: cloud metadata host")
    addresses = _addresses(host, port, resolve)
    for ip in addresses:
        reason = _refusal(ip, allow_loopback)
        if reason:
            shown = host if str(ip) == host else f"{host} ({ip})"
            raise UnsafeUrlError(f"refused {shown}: {reason}")
    return addresses


def check_url(url: str, *, allow_loopback: bool, resolve: Resolver = resolve_host) -> list[Address]:
    """Raise UnsafeUrlError unless url is plain http(s) and every address of its host is public; return them."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrlError(f"invalid URL {url!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise UnsafeUrlError(f"only http and https URLs are fetched, not {scheme or 'a relative URL'!r}")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrlError("URLs with credentials are refused")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeUrlError(f"URL has no host: {url!r}")
    return checked_addresses(host, port or _SCHEMES[scheme], allow_loopback=allow_loopback, resolve=resolve)


def is_loopback_host(host: str) -> bool:
    """True for localhost and loopback IP literals (127.0.0.0/8, ::1), brackets and a trailing dot allowed."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
