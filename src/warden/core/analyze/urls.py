"""A URL judged as a whole: where it points, what it carries, whether it is a plain public read.

Shared by WebFetch, URLs in MCP tool arguments and (for metadata endpoints) the network
commands. Facts:

- ``net.metadata``: a cloud instance-metadata endpoint (AWS/ECS/EKS, GCE, Azure, Alibaba,
  Oracle, DigitalOcean, OpenStack): these hand out the machine's credentials.
- ``net.file_url``: a ``file://`` URL (the file itself is judged as a read too).
- ``net.internal``: loopback, private, link-local or otherwise non-public address or name,
  including integer/hex spellings of IPv4 (``0x7f000001``) and IPv6 unique-local addresses.
- ``secret.in_url``: a credential in the URL (a password in userinfo, a token/key/secret query
  parameter, or a known token shape anywhere in it).
- ``net.encoded_query``: a query or path segment long and dense enough to carry encoded data.
- ``net.public_read``: a public DNS name, http(s), no credentials, no encoded payload, and a
  documentation-like host or path: a read of public information (the default policy allows it).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qsl, unquote, urlsplit

from warden.core.facts import Fact

METADATA_HOSTS = frozenset({
    "169.254.169.254", "169.254.170.2", "169.254.170.23", "fd00:ec2::254", "fd00:ec2::23", "metadata.google.internal",
    "metadata.goog", "metadata", "100.100.100.200", "169.254.169.253", "instance-data", "instance-data.ec2.internal",
    "metadata.azure.internal", "168.63.129.16", "192.0.0.192", "metadata.oraclecloud.com", "metadata.packet.net",
})
INTERNAL_SUFFIXES = (".internal", ".local", ".localdomain", ".lan", ".home", ".corp", ".intranet", ".private",
                     ".cluster.local", ".svc", ".localhost", ".home.arpa", ".test")
CREDENTIAL_PARAMS = frozenset({
    "access_token", "token", "api_key", "apikey", "api-key", "key", "secret", "client_secret", "password", "passwd",
    "pwd", "auth", "authorization", "sig", "signature", "x-amz-signature", "x-amz-credential", "private_token",
    "refresh_token", "id_token", "session", "sessionid", "aws_secret_access_key", "jwt", "bearer", "code",
})
DOC_HOST_PREFIXES = ("docs.", "doc.", "developer.", "developers.", "learn.", "wiki.", "help.", "support.", "guide.",
                     "manual.", "reference.", "devdocs.", "api-docs.", "documentation.", "book.", "handbook.", "blog.",
                     "registry.")
DOC_HOST_SUFFIXES = (".readthedocs.io", ".readthedocs.org", ".github.io", ".gitbook.io", ".gitlab.io", ".netlify.app",
                     ".pages.dev", ".rtfd.io", ".mintlify.app")
DOC_PATH_WORDS = ("/docs", "/doc/", "/documentation", "/reference", "/guide", "/manual", "/tutorial", "/learn",
                  "/wiki", "/blog", "/api/", "/handbook", "/faq", "/getting-started", "/quickstart", "/issues/",
                  "/pull/", "/discussions/", "/releases", "/changelog", "/questions/", "/en/", "/en-us/", "/latest/",
                  "/stable/", "/book/", "/spec", "/rfc", "/library/", "/packages/", "/package/", "/project/",
                  "/crates/", "/readme", "/blob/", "/tree/", "/guides/", "/articles/", "/posts/", "/post/", "/@",
                  "/tutorials/", "/examples/", "/api-reference", "/cli/", "/concepts/", "/how-to", "/howto", "/man/",
                  "/news/", "/changelog", "/docs-", "/pkg/", "/gems/", "/modules/")
DOC_PATH_ENDINGS = (".html", ".htm", ".md", ".txt", ".rst", ".pdf", "/")
MAX_PLAIN_VALUE = 40


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    h = host.strip("[]")
    try:
        return ipaddress.ip_address(h)
    except ValueError:
        pass
    # integer, hex and octal spellings that curl and browsers accept: 2130706433, 0x7f000001, 0177.0.0.1
    try:
        if h.isdigit():
            return ipaddress.IPv4Address(int(h))
        if h.lower().startswith("0x") and all(c in "0123456789abcdefABCDEF" for c in h[2:]) and h[2:]:
            return ipaddress.IPv4Address(int(h, 16))
        parts = h.split(".")
        if len(parts) == 4 and all(p and (p.isdigit() or p.lower().startswith("0x")) for p in parts):
            nums = [int(p, 16) if p.lower().startswith("0x") else int(p, 8) if p.startswith("0") and len(p) > 1
                    else int(p) for p in parts]
            if all(0 <= x < 256 for x in nums):
                return ipaddress.IPv4Address(".".join(map(str, nums)))
    except (ValueError, ipaddress.AddressValueError):
        return None
    return None


def is_metadata_host(host: str) -> bool:
    h = host.lower().strip("[]").rstrip(".")
    if h in METADATA_HOSTS:
        return True
    if not h or not (h[0].isdigit() or ":" in h):
        return False  # a name that is not on the list (the common case: no address parsing)
    ip = _ip(h)
    return ip is not None and str(ip) in METADATA_HOSTS


def is_internal_host(host: str) -> bool:
    h = host.lower().strip("[]").rstrip(".")
    if h in ("localhost",) or h.endswith(INTERNAL_SUFFIXES) or ("." not in h and not _ip(h)):
        return True
    ip = _ip(h)
    if ip is None:
        return False
    return bool(ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_unspecified
                or ip.is_multicast or (ip.version == 4 and ip in ipaddress.IPv4Network("100.64.0.0/10")))


def _loopback(host: str) -> bool:
    h = host.lower().strip("[]")
    if h in ("localhost", "::1") or h.endswith(".localhost"):
        return True
    ip = _ip(h) if h[:1].isdigit() or h.startswith("0x") else None
    return ip is not None and ip.is_loopback


def _dense(value: str) -> bool:
    """Long, unbroken and alphabet-mixed: looks like encoded data rather than words."""
    v = unquote(value)
    if len(v) <= MAX_PLAIN_VALUE:
        return False
    words = sum(1 for c in v if c in " -_/.,+")
    return words * 12 < len(v)


def url_facts(url: str, where: str = "") -> tuple[str, list[Fact]]:
    """(host, facts) for one URL."""
    at = f" ({where})" if where else ""
    facts: list[Fact] = []
    raw = url.strip()
    try:
        parts = urlsplit(raw if "://" in raw else f"//{raw}")
        host = (parts.hostname or "").lower().rstrip(".")
        scheme = parts.scheme.lower()
        password = parts.password
        query = parts.query
    except ValueError:
        return "", [Fact("net.bad_url", f"cannot parse the URL {raw[:120]!r}{at}")]
    if scheme == "file":
        facts.append(Fact("net.file_url", f"a file:// URL reads a local file{at}: {raw[:120]}", {"path": parts.path}))
        return "", facts
    if is_metadata_host(host):
        facts.append(Fact("net.metadata", f"a cloud instance-metadata endpoint, which hands out the machine's "
                          f"credentials{at}: {host}", {"host": host}))
    elif host and _loopback(host):
        facts.append(Fact("net.local", f"this machine{at}: {host}", {"host": host}))
    elif host and is_internal_host(host):
        facts.append(Fact("net.internal", f"an internal or local address{at}: {host}", {"host": host}))
    if password or (parts.username and ":" in (parts.netloc.split("@")[0] if "@" in parts.netloc else "")):
        facts.append(Fact("secret.in_url", f"the URL carries a password{at}", {"host": host}))
    encoded = False
    for key, value in parse_qsl(query, keep_blank_values=True)[:64]:
        k = key.lower()
        if k in CREDENTIAL_PARAMS and len(value) >= 8 and not (k == "code" and len(value) < 20):
            facts.append(Fact("secret.in_url", f"the URL's query carries a credential ({key}=...){at}", {"host": host}))
            break
        if _dense(value):
            encoded = True
    if any(_dense(seg) for seg in parts.path.split("/")[:32]):
        encoded = True
    if encoded:
        facts.append(Fact("net.encoded_query", f"the URL carries a long encoded value (data may leave this way){at}",
                          {"host": host}))
    if scheme not in ("http", "https", ""):
        facts.append(Fact("net.scheme", f"a {scheme}:// URL{at}", {"scheme": scheme}))
    elif host and not facts and _ip(host) is None and "." in host and _doc_like(host, parts.path.lower()):
        facts.append(Fact("net.public_read", f"a plain read of public documentation{at}: {host}", {"host": host}))
    return host, facts


def _doc_like(host: str, path: str) -> bool:
    if host.startswith(DOC_HOST_PREFIXES) or host.endswith(DOC_HOST_SUFFIXES):
        return True
    if any(w in path for w in DOC_PATH_WORDS):
        return True
    return path in ("", "/") or path.endswith(DOC_PATH_ENDINGS)
