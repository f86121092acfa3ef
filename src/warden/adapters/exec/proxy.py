"""Egress proxy: the sandbox's only way out, enforcing a domain allowlist.

The sandbox has its own empty network namespace, so it cannot reach any host address — not even
127.0.0.1 of the host. This proxy listens on a *unix socket* that is bind-mounted into the sandbox;
a tiny relay inside (``relay.py``) turns ``127.0.0.1:3128`` into that socket, and the sandbox's
``HTTP(S)_PROXY`` point there. Unix sockets cross network namespaces, TCP does not.

Each connection carries one request: ``CONNECT host:port`` (HTTPS and anything else over TLS) or an
absolute-form ``GET http://host/...`` (plain HTTP). The proxy
- refuses IP literals (including inet_aton's odd forms like ``2130706433``) and cloud metadata names;
- allows only hosts matching ``allow_domains`` (``example.com`` exact, ``*.example.com`` subdomains,
  optional ``:port``; ports 80 and 443 otherwise);
- resolves the name itself and refuses non-public addresses (loopback, private, link-local such as
  169.254.169.254), then connects to the address it checked (no second lookup to rebind);
- reports every decision to the audit callback; if recording an allowed connection fails, the
  connection is refused (no evidence, no egress).

``hosts`` maps names to addresses the caller trusts (tests map ``allowed.test`` to 127.0.0.1);
those addresses skip the public-address check because the operator chose them.
Known limit: without TLS interception the proxy sees the CONNECT name, not the TLS SNI or Host
header, so domain fronting through an allowed CDN is not prevented.
"""

from __future__ import annotations

import ipaddress
import os
import re
import selectors
import socket
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Mapping

AuditFn = Callable[[dict[str, Any]], Any]
Resolver = Callable[[str, int], list[str]]

DEFAULT_PORTS = frozenset({80, 443})
METADATA_HOSTS = frozenset({
    "169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200", "metadata.google.internal",
    "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal", "metadata.azure.com",
})
_HOSTNAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$")
MAX_HEADER = 64 * 1024
MAX_CONNECTIONS = 128
IO_TIMEOUT = 30.0
CONNECT_TIMEOUT = 10.0


def is_ip_literal(host: str) -> bool:
    h = host.strip("[]")
    try:
        ipaddress.ip_address(h)
        return True
    except ValueError:
        pass
    try:  # inet_aton accepts 127.1, 0x7f000001, 2130706433 ...; all are addresses, not names
        socket.inet_aton(h)
        return True
    except OSError:
        return False


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _is_public(addr: str) -> bool:
    ip = ipaddress.ip_address(addr)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _never_private_ok(addr: str) -> bool:
    """Metadata and link-local addresses: refused even where private addresses are allowed."""
    ip = ipaddress.ip_address(addr)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return addr in METADATA_HOSTS or ip.is_link_local or ip.is_multicast or ip.is_unspecified


def _private_allowed(host: str, addr: str, allow: tuple[str, ...]) -> bool:
    import fnmatch

    for entry in allow:
        if "/" in entry:
            try:
                if ipaddress.ip_address(addr) in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
        elif fnmatch.fnmatchcase(host, entry):
            return True
    return False


@dataclass
class EgressPolicy:
    allow_domains: tuple[str, ...] = ()
    hosts: Mapping[str, str] = field(default_factory=dict)
    resolver: Resolver = _system_resolver
    allow_private: tuple[str, ...] = ()  # host globs / CIDRs allowed to resolve to private addresses
    upstream: tuple[str, int] | None = None  # a corporate proxy every allowed connection goes through
    closed: str = ""  # network: none — every connection is refused with this explanation

    def _allowed(self, host: str, port: int) -> bool:
        for entry in self.allow_domains:
            pattern, _, port_s = entry.partition(":")
            if port_s:
                if not port_s.isdigit() or int(port_s) != port:
                    continue
            elif port not in DEFAULT_PORTS:
                continue
            if pattern.startswith("*."):
                if host.endswith(pattern[1:]) and host != pattern[2:]:
                    return True
            elif host == pattern:
                return True
        return False

    def check(self, host: str, port: int) -> tuple[bool, str, list[str]]:
        """-> (allowed, reason, addresses to connect to)."""
        host = host.strip().lower().rstrip(".")
        if self.closed:
            return False, self.closed, []
        if not 0 < port < 65536:
            return False, f"invalid port {port}", []
        if host in METADATA_HOSTS or host.strip("[]") in METADATA_HOSTS:
            return False, f"{host} is a cloud metadata endpoint", []
        if is_ip_literal(host):
            return False, f"IP literal {host} refused: name the host so the allowlist can judge it", []
        if not _HOSTNAME.match(host) or len(host) > 253:
            return False, f"malformed host name {host[:80]!r}", []
        if not self._allowed(host, port):
            return False, f"{host}:{port} is not in the profile's allow_domains", []
        if host in self.hosts:
            return True, "allowlisted (address from the operator's hosts map)", [self.hosts[host]]
        if self.upstream is not None:
            return True, f"allowlisted (through the upstream proxy {self.upstream[0]}:{self.upstream[1]})", []
        try:
            addrs = self.resolver(host, port)
        except OSError as exc:
            return False, f"cannot resolve {host}: {exc}", []
        public = [a for a in addrs if _is_public(a)]
        if public:
            return True, "allowlisted", public
        private = [a for a in addrs if not _never_private_ok(a) and _private_allowed(host, a, self.allow_private)]
        if private:
            return True, "allowlisted (private address permitted by allow_private)", private
        hint = "" if any(_never_private_ok(a) for a in addrs) else " (allow it with the profile's allow_private)"
        return False, f"{host} resolves only to non-public addresses ({', '.join(addrs[:4])}){hint}", []


class EgressProxy:
    """Serves the allowlist on a unix socket in a private directory; run it with ``start()``."""

    def __init__(self, policy: EgressPolicy, audit: AuditFn | None = None, *, profile: str = "") -> None:
        self.policy = policy
        self._audit = audit
        self._audit_lock = threading.Lock()
        self._profile = profile
        self._dir = tempfile.mkdtemp(prefix="warden-egress-")
        self.socket_path = os.path.join(self._dir, "egress.sock")
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.socket_path)
        os.chmod(self.socket_path, 0o600)
        self._server.listen(64)
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self.events: list[dict[str, Any]] = []  # what this proxy decided, also kept for the caller

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> EgressProxy:
        self._thread = threading.Thread(target=self._serve, name="warden-egress", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._closed.set()
        try:
            self._server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._server.close()
        if self._thread:
            self._thread.join(timeout=2)
        for path in (self.socket_path,):
            try:
                os.unlink(path)
            except OSError:
                pass
        try:
            os.rmdir(self._dir)
        except OSError:
            pass

    def __enter__(self) -> EgressProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            if not self._slots.acquire(blocking=False):
                _reply(conn, 503, "too many connections through the sandbox proxy")
                conn.close()
                continue
            threading.Thread(target=self._handle_guarded, args=(conn,), daemon=True).start()

    # -- one connection --------------------------------------------------------------------------
    def _record(self, event: dict[str, Any]) -> bool:
        event = {"type": "sandbox.egress", "profile": self._profile, **event}
        with self._audit_lock:
            self.events.append(event)
            if self._audit is None:
                return True
            try:
                self._audit(event)
                return True
            except Exception:
                return False

    def _handle_guarded(self, conn: socket.socket) -> None:
        try:
            self._handle(conn)
        except Exception:
            pass
        finally:
            conn.close()
            self._slots.release()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(IO_TIMEOUT)
        head, rest = _read_head(conn)
        if head is None:
            _reply(conn, 400, "request header missing or larger than 64 KiB")
            return
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            _reply(conn, 400, "malformed request line")
            return
        method, target, version = parts
        if method.upper() == "CONNECT":
            host, port = _split_host_port(target, 443)
            path = ""
        else:
            m = re.match(r"^http://([^/?#]+)(.*)$", target, re.IGNORECASE)
            if not m:
                _reply(conn, 400, "only CONNECT and absolute http:// requests go through this proxy")
                return
            host, port = _split_host_port(m.group(1), 80)
            path = m.group(2) or "/"
        if host is None or port is None:
            _reply(conn, 400, f"cannot parse the target {target[:200]!r}")
            return
        ok, reason, addrs = self.policy.check(host, port)
        base = {"host": host.lower().rstrip("."), "port": port, "method": method.upper()}
        if not ok:
            self._record({**base, "decision": "deny", "reason": reason})
            _reply(conn, 403, f"warden sandbox: {reason}")
            return
        if not self._record({**base, "decision": "allow", "reason": reason, "address": addrs[0] if addrs else "via upstream proxy"}):
            _reply(conn, 403, "warden sandbox: the audit trail could not record this connection")
            return
        if self.policy.upstream is not None:
            self._via_upstream(conn, head, rest, method.upper(), host, port)
            return
        upstream = _connect(addrs, port)
        if upstream is None:
            _reply(conn, 502, f"cannot connect to {host}:{port}")
            return
        with upstream:
            if method.upper() == "CONNECT":
                conn.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                if rest:
                    upstream.sendall(rest)
            else:
                headers = [h for h in lines[1:] if h and not h.lower().startswith(("proxy-", "connection:"))]
                out = f"{method} {path} {version}\r\n" + "".join(h + "\r\n" for h in headers)
                out += "Connection: close\r\n\r\n"
                upstream.sendall(out.encode("latin-1") + rest)
            _splice(conn, upstream)


    def _via_upstream(self, conn: socket.socket, head: str, rest: bytes, method: str, host: str, port: int) -> None:
        """Hand an allowed request to the corporate proxy: CONNECT through it, or forward the request."""
        assert self.policy.upstream is not None
        up_host, up_port = self.policy.upstream
        try:
            upstream = socket.create_connection((up_host, up_port), timeout=CONNECT_TIMEOUT)
        except OSError as exc:
            _reply(conn, 502, f"warden sandbox: cannot reach the upstream proxy {up_host}:{up_port}: {exc}")
            return
        with upstream:
            upstream.settimeout(IO_TIMEOUT)
            if method == "CONNECT":
                upstream.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
                answer, extra = _read_head(upstream)
                status = answer.split(" ", 2)[1] if answer and answer.count(" ") >= 1 else ""
                if status != "200":
                    _reply(conn, 502, f"warden sandbox: the upstream proxy refused {host}:{port}: "
                                      f"{(answer or 'no answer').splitlines()[0][:200]}")
                    return
                conn.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n" + extra)
                if rest:
                    upstream.sendall(rest)
            else:  # a plain http:// request: the upstream takes the absolute form as it came
                lines = [h for h in head.split("\r\n") if h and not h.lower().startswith(("proxy-", "connection:"))]
                upstream.sendall(("\r\n".join(lines) + "\r\nConnection: close\r\n\r\n").encode("latin-1") + rest)
            _splice(conn, upstream)


def _read_head(conn: socket.socket) -> tuple[str | None, bytes]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        if len(buf) > MAX_HEADER:
            return None, b""
        chunk = conn.recv(8192)
        if not chunk:
            return None, b""
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def _split_host_port(text: str, default: int) -> tuple[str | None, int | None]:
    if "@" in text:  # userinfo in the authority: refuse rather than guess which part is the host
        return None, None
    if text.startswith("["):
        host, _, tail = text[1:].partition("]")
        port_s = tail[1:] if tail.startswith(":") else ""
        host = "[" + host + "]"
    else:
        host, _, port_s = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
    if port_s and not port_s.isdigit():
        return None, None
    return (host or None), (int(port_s) if port_s else default)


def _connect(addrs: list[str], port: int) -> socket.socket | None:
    for addr in addrs:
        family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(CONNECT_TIMEOUT)
        try:
            sock.connect((addr, port))
            sock.settimeout(IO_TIMEOUT)
            return sock
        except OSError:
            sock.close()
    return None


def _splice(a: socket.socket, b: socket.socket) -> None:
    sel = selectors.DefaultSelector()
    sel.register(a, selectors.EVENT_READ, b)
    sel.register(b, selectors.EVENT_READ, a)
    open_ends = 2
    try:
        while open_ends:
            events = sel.select(timeout=IO_TIMEOUT * 10)
            if not events:
                return  # idle for 5 minutes
            for key, _ in events:
                src: socket.socket = key.fileobj  # type: ignore[assignment]
                dst: socket.socket = key.data
                data = src.recv(65536)
                if not data:
                    sel.unregister(src)
                    open_ends -= 1
                    try:
                        dst.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    continue
                dst.sendall(data)
    except OSError:
        return
    finally:
        sel.close()


def _reply(conn: socket.socket, status: int, message: str) -> None:
    phrase = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway", 503: "Service Unavailable"}[status]
    body = (message + "\n").encode("utf-8", "replace")
    head = (f"HTTP/1.1 {status} {phrase}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    try:
        conn.sendall(head.encode("ascii") + body)
    except OSError:
        pass
