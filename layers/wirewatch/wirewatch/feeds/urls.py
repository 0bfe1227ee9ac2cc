"""URL normalisation and stable item identity."""

from __future__ import annotations

import hashlib
from urllib.parse import unquote_plus, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters that only say where a click came from; they never select content.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gclsrc",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "ocid",
        "cmpid",
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "feedtype",
        "feedname",
    }
)
_TRACKING_PREFIXES = ("utm_",)

ITEM_ID_LENGTH = 32


def _is_tracking(pair: str) -> bool:
    key = unquote_plus(pair.split("=", 1)[0]).strip().lower()
    return key in _TRACKING_PARAMS or key.startswith(_TRACKING_PREFIXES)


def normalize_url(url: str) -> str:
    """Canonical form of a URL: lowercase scheme/host, no default port, fragment or tracking params."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        # Unparseable authority (bad port, broken IPv6 literal): keep it, minus the fragment.
        return url.split("#", 1)[0]
    scheme = parts.scheme.lower()
    netloc = parts.netloc
    if parts.hostname is not None:
        host = parts.hostname.lower().rstrip(".")
        if ":" in host:
            host = f"[{host}]"
        userinfo = netloc.rpartition("@")[0] if "@" in netloc else ""
        netloc = f"{userinfo}@{host}" if userinfo else host
        if port is not None and port != _DEFAULT_PORTS.get(scheme):
            netloc = f"{netloc}:{port}"
    path = parts.path
    if not path and netloc and scheme in _DEFAULT_PORTS:
        path = "/"
    # Filter the raw query so the remaining parameters keep their exact order and encoding.
    query = "&".join(p for p in parts.query.split("&") if p and not _is_tracking(p))
    return urlunsplit((scheme, netloc, path, query, ""))


def item_id(guid: str | None, link: str | None) -> str:
    """Stable id of an entry: hash of its GUID, else of its normalised link (never its date)."""
    key = (guid or "").strip()
    if not key:
        key = normalize_url(link or "")
    if not key:
        raise ValueError("an entry needs a GUID or a link to be identified")
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:ITEM_ID_LENGTH]
