"""The sandbox's network says why it is closed; `--profile net` exists; private-address allowlists and
an upstream corporate proxy per profile, with metadata endpoints still refused. Real bubblewrap, real
sockets on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import subprocess
import threading

import pytest
from sandbox_env import PY, needs_bwrap, out
from test_sandbox_allowed import FETCH, _Hello, http_server  # noqa: F401 - fixture
from warden_cli import WARDEN

from warden.adapters.exec import Profile, run_sandboxed

pytestmark = [needs_bwrap, pytest.mark.e2e]

SCRIPT = ("import sys, urllib.request\n"
          "try:\n    urllib.request.urlopen('https://pypi.org/simple/', timeout=10)\n"
          "except Exception as e:\n    print('client:', e, file=sys.stderr); sys.exit(3)\n")


def test_closed_network_says_why_on_stderr_and_in_the_outcome(world):
    (world.ws / "fetch.py").write_text(SCRIPT)
    r = subprocess.run([WARDEN, "exec", "--", "python3", "fetch.py"], cwd=world.ws, capture_output=True, timeout=60,
                       env={**world.env, "WARDEN_MANAGED_POLICY": ""})
    err = r.stderr.decode()
    assert r.returncode == 3, err
    assert "blocked network connection to pypi.org:443: the sandbox's network is closed" in err
    assert "allow_domains" in err and "--profile net" in err
    query = subprocess.run([WARDEN, "audit", "query", "--kind", "outcome", "--json"], cwd=world.ws,
                           capture_output=True, text=True, env=world.env, timeout=60)
    events = [json.loads(line) for line in query.stdout.splitlines()]
    run = next(json.loads(e["outcome"]["summary"]) for e in events if e["tool"] == "sandbox.exec")
    assert run["network_blocked"] == ["pypi.org:443"] and "network is closed" in run["network_closed"]
    egress = next(json.loads(e["outcome"]["summary"]) for e in events if e["tool"] == "sandbox.egress")
    assert egress["decision"] == "deny" and "network is closed" in egress["reason"]


def test_direct_connections_stay_impossible_with_the_explaining_proxy(world, http_server):  # noqa: F811
    r = world.py(f"import socket; socket.create_connection(('127.0.0.1', {http_server}), timeout=3)")
    assert r.returncode != 0  # the host's loopback is not the sandbox's


def test_profile_net_exists_as_the_help_says(world):
    r = subprocess.run([WARDEN, "exec", "--profile", "net", "--json-explain", "--", "true"], cwd=world.ws,
                       capture_output=True, text=True, env={**world.env, "WARDEN_MANAGED_POLICY": ""}, timeout=60)
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["network"] == "proxy" and "pypi.org" in plan["allow_domains"] and "registry.npmjs.org" in plan[
        "allow_domains"]


def test_private_addresses_need_allow_private_and_metadata_stays_refused(world, http_server):  # noqa: F811
    url = f"http://registry.internal:{http_server}/simple"
    to_loopback = {"registry.internal": ["127.0.0.1"], "imds.internal": ["169.254.169.254"]}

    def resolver(host, port):
        return to_loopback[host]

    events: list = []
    plain = Profile(network="proxy", allow_domains=(f"registry.internal:{http_server}",))
    r = run_sandboxed([PY, "-c", FETCH, url], plain, str(world.ws), env=world.env, capture=True,
                      audit=events.append, resolver=resolver)
    assert "FAILED" in out(r) and "allow_private" in events[0]["reason"]
    events.clear()
    private = plain._replace(allow_private=("registry.internal",))
    r = run_sandboxed([PY, "-c", FETCH, url], private, str(world.ws), env=world.env, capture=True,
                      audit=events.append, resolver=resolver)
    assert f"BODY hello from registry.internal:{http_server}" in out(r), out(r)
    events.clear()
    everything = Profile(network="proxy", allow_private=("*", "0.0.0.0/0"),
                         allow_domains=(f"imds.internal:{http_server}", "metadata.google.internal"))
    for target in (f"http://imds.internal:{http_server}/", "http://metadata.google.internal/"):
        r = run_sandboxed([PY, "-c", FETCH, target], everything, str(world.ws), env=world.env, capture=True,
                          audit=events.append, resolver=resolver)
        assert "FAILED" in out(r), out(r)
    reasons = [e["reason"] for e in events if e["type"] == "sandbox.egress"]
    assert "non-public" in reasons[0] and "metadata endpoint" in reasons[1], reasons


class _CorporateProxy:
    """An upstream proxy on 127.0.0.1: records what it is asked and forwards to the local web server."""

    def __init__(self, target_port: int) -> None:
        self.seen: list[str] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.target_port = target_port
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            line = data.split(b"\r\n", 1)[0].decode()
            self.seen.append(line)
            with socket.create_connection(("127.0.0.1", self.target_port)) as up:
                if line.startswith("CONNECT"):
                    conn.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                    data = conn.recv(65536)
                up.sendall(data.replace(line.encode(), line.replace(line.split()[1], "/", 1).encode(), 1)
                           if not line.startswith("CONNECT") else data)
                while chunk := up.recv(65536):
                    conn.sendall(chunk)

    def close(self) -> None:
        self.sock.close()


def test_upstream_corporate_proxy_per_profile_with_metadata_still_refused(world, http_server):  # noqa: F811
    corp = _CorporateProxy(http_server)
    try:
        events: list = []
        prof = Profile(network="proxy", allow_domains=(f"site.test:{http_server}", "metadata.google.internal"),
                       upstream_proxy="env")
        env = {**world.env, "HTTPS_PROXY": f"http://127.0.0.1:{corp.port}"}
        r = run_sandboxed([PY, "-c", FETCH, f"http://site.test:{http_server}/x"], prof, str(world.ws), env=env,
                          capture=True, audit=events.append)
        assert f"BODY hello from site.test:{http_server}" in out(r), out(r)
        assert corp.seen == [f"GET http://site.test:{http_server}/x HTTP/1.1"]
        r = run_sandboxed([PY, "-c", FETCH, "http://metadata.google.internal/computeMetadata/v1/"], prof,
                          str(world.ws), env=env, capture=True, audit=events.append)
        assert "FAILED" in out(r) and len(corp.seen) == 1  # refused before it could reach the upstream
        egress = [e for e in events if e["type"] == "sandbox.egress"]
        assert "upstream proxy" in egress[0]["reason"] and "metadata" in egress[-1]["reason"], egress
    finally:
        corp.close()


def test_profile_fields_are_validated():
    from warden.adapters.exec.profile import ProfileError, parse_profile

    with pytest.raises(ProfileError, match="upstream_proxy must be"):
        parse_profile("p", {"network": "proxy", "upstream_proxy": "socks5://x:1"})
    with pytest.raises(ProfileError, match="need `network: proxy`"):
        parse_profile("p", {"allow_private": ["10.0.0.0/8"]})
    assert parse_profile("p", {"network": "proxy", "allow_private": ["10.0.0.0/8"]}).allow_private == ("10.0.0.0/8",)
