"""check_url: schemes, credentials and every resolved address (fake resolver, no network)."""

from __future__ import annotations

import pytest

from wirewatch.feeds.ssrf import UnsafeUrlError, check_url


class FakeResolver:
    """A DNS table that records every lookup and never touches the network."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        if host not in self.table:
            raise OSError("Name or service not known")
        return self.table[host]


resolver = FakeResolver


PUBLIC = resolver({"feeds.example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]})


def test_public_host_is_allowed() -> None:
    check_url("https://feeds.example.com/rss.xml", allow_loopback=False, resolve=PUBLIC)
    check_url("http://93.184.216.34:8080/rss", allow_loopback=False, resolve=PUBLIC)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://feeds.example.com/rss", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://feeds.example.com/", "only http and https"),
        ("/relative/path", "only http and https"),
        ("http://user:secret@feeds.example.com/rss", "credentials"),
        ("http:///no-host", "no host"),
        ("http://feeds.example.com:notaport/", "invalid URL"),
    ],
)
def test_bad_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(UnsafeUrlError, match=message):
        check_url(url, allow_loopback=True, resolve=PUBLIC)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.10.10", "link-local"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("100.64.0.1", "CGNAT"),
        ("100.127.255.254", "CGNAT"),
        ("240.0.0.1", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "metadata"),
        ("2002:a00:1::", "private"),  # 6to4 wrapping 10.0.0.1
        ("64:ff9b::a9fe:a9fe", "metadata"),  # NAT64 wrapping 169.254.169.254
        ("192.0.2.10", "private address"),  # documentation range counts as private in ipaddress
    ],
)
def test_unsafe_resolved_addresses_are_refused(address: str, reason: str) -> None:
    resolve = resolver({"evil.example.com": [address]})
    with pytest.raises(UnsafeUrlError, match=reason):
        check_url("https://evil.example.com/feed", allow_loopback=False, resolve=resolve)


@pytest.mark.parametrize("literal", ["127.0.0.1", "[::1]", "10.0.0.1", "169.254.169.254", "[::ffff:127.0.0.1]"])
def test_ip_literals_are_checked_without_resolving(literal: str) -> None:
    resolve = resolver({})
    with pytest.raises(UnsafeUrlError, match="refused"):
        check_url(f"http://{literal}/feed", allow_loopback=False, resolve=resolve)
    assert resolve.calls == []


def test_any_unsafe_address_among_several_refuses() -> None:
    resolve = resolver({"mixed.example.com": ["93.184.216.34", "10.0.0.7"]})
    with pytest.raises(UnsafeUrlError, match=r"mixed\.example\.com \(10\.0\.0\.7\): private address"):
        check_url("https://mixed.example.com/", allow_loopback=False, resolve=resolve)


@pytest.mark.parametrize("host", ["metadata.google.internal", "METADATA.GOOGLE.INTERNAL.", "metadata.goog"])
def test_metadata_names_are_refused_before_resolving(host: str) -> None:
    resolve = resolver({})
    with pytest.raises(UnsafeUrlError, match="metadata"):
        check_url(f"http://{host}/computeMetadata/v1/", allow_loopback=True, resolve=resolve)
    assert resolve.calls == []


def test_allow_loopback_allows_only_loopback() -> None:
    resolve = resolver({"localhost": ["127.0.0.1", "::1"], "lan.example": ["192.168.0.10"]})
    check_url("http://localhost:8080/feed", allow_loopback=True, resolve=resolve)
    check_url("http://127.0.0.2/feed", allow_loopback=True, resolve=resolve)
    check_url("http://[::1]:9000/feed", allow_loopback=True, resolve=resolve)
    for url in ("http://lan.example/", "http://169.254.169.254/", "http://0.0.0.0/", "http://10.0.0.1/"):
        with pytest.raises(UnsafeUrlError):
            check_url(url, allow_loopback=True, resolve=resolve)


def test_resolver_failure_is_a_clear_refusal() -> None:
    with pytest.raises(UnsafeUrlError, match=r"cannot resolve host nowhere\.invalid"):
        check_url("https://nowhere.invalid/", allow_loopback=False, resolve=resolver({}))


def test_resolver_port_defaults_to_scheme_port() -> None:
    resolve = resolver({"feeds.example.com": ["93.184.216.34"]})
    check_url("https://feeds.example.com/", allow_loopback=False, resolve=resolve)
    check_url("http://feeds.example.com:8080/", allow_loopback=False, resolve=resolve)
    assert resolve.calls == [("feeds.example.com", 443), ("feeds.example.com", 8080)]


def test_unsafe_url_error_is_a_value_error() -> None:
    assert issubclass(UnsafeUrlError, ValueError)
