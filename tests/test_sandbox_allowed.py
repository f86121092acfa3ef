"""What the sandbox must still allow: builds, workspace writes, allowlisted egress, and a clear
refusal (never an unconfined run) when bubblewrap is missing."""

from __future__ import annotations

import http.server
import threading

import pytest
from sandbox_env import PY, needs_bwrap, out

from warden.adapters.exec import Profile, SandboxUnavailable, run_sandboxed

pytestmark = [needs_bwrap, pytest.mark.e2e]




def test_python_build_in_workspace(world):
    (world.ws / "pkg").mkdir()
    (world.ws / "pkg" / "mod.py").write_text("def f():\n    return 42\n")
    (world.ws / "build.py").write_text(
        "import compileall, pathlib, sys, tempfile\n"
        "assert compileall.compile_dir('pkg', quiet=1, force=True)\n"
        "pathlib.Path('dist').mkdir(exist_ok=True)\n"
        "pathlib.Path('dist/out.txt').write_text('built')\n"
        "tempfile.NamedTemporaryFile().write(b'scratch')\n"
        "print('stdout-line'); print('stderr-line', file=sys.stderr); sys.exit(5)\n")
    r = run_sandboxed([PY, "build.py"], Profile(), str(world.ws), cwd=str(world.ws), env=world.env, capture=True,
                      warden_home=str(world.warden_home))
    assert r.returncode == 5
    assert r.stdout == b"stdout-line\n" and r.stderr == b"stderr-line\n"
    assert (world.ws / "dist" / "out.txt").read_text() == "built"
    assert list((world.ws / "pkg" / "__pycache__").glob("mod.*.pyc"))


def test_stdin_and_signal_status_pass_through(world):
    r = run_sandboxed(["/bin/cat"], Profile(), str(world.ws), env=world.env, capture=True, input=b"piped\n")
    assert r.stdout == b"piped\n" and r.returncode == 0
    r = world.run("kill -TERM $$")
    assert r.returncode == 128 + 15


def test_extra_writable_path(world):
    r = world.run(f"echo ok > {world.outside}/granted.txt", Profile(writable=(str(world.outside),)))
    assert r.returncode == 0, out(r)
    assert (world.outside / "granted.txt").read_text() == "ok\n"


def test_missing_bwrap_refuses_with_the_fix(world, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        run_sandboxed(["/bin/true"], Profile(), str(world.ws), env=world.env)


def test_workspace_cannot_be_home_or_root(world):
    from warden.adapters.exec import MountError

    for ws in ("/", str(world.home)):
        with pytest.raises(MountError, match="refusing"):
            run_sandboxed(["/bin/true"], Profile(), ws, env=world.env)


# -- egress ----------------------------------------------------------------------------------------

class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = f"hello from {self.headers.get('Host')}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


@pytest.fixture
def http_server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


FETCH = r"""
import os, socket, sys, urllib.request
url = sys.argv[1]
try:
    print("BODY", urllib.request.urlopen(url, timeout=10).read().decode())
except Exception as e:
    print("FAILED", e)
"""


def _fetch(world, url, profile, events, hosts):
    return run_sandboxed([PY, "-c", FETCH, url], profile, str(world.ws), env=world.env, capture=True,
                         audit=events.append, hosts=hosts)


def test_proxy_allows_allowlisted_host(world, http_server):
    events: list = []
    prof = Profile(network="proxy", allow_domains=(f"allowed.test:{http_server}",))
    r = _fetch(world, f"http://allowed.test:{http_server}/x", prof, events, {"allowed.test": "127.0.0.1"})
    assert f"BODY hello from allowed.test:{http_server}" in out(r), out(r)
    egress = [e for e in events if e["type"] == "sandbox.egress"]
    assert egress and egress[0]["decision"] == "allow" and egress[0]["host"] == "allowed.test"
    assert any(e["type"] == "sandbox.exec" for e in events)


def test_proxy_connect_tunnel_to_allowlisted_host(world, http_server):
    # CONNECT is what HTTPS clients use; the test server speaks plain HTTP inside the tunnel.
    code = (f"import socket\ns = socket.create_connection(('127.0.0.1', 3128))\n"
            f"s.sendall(b'CONNECT allowed.test:{http_server} HTTP/1.1\\r\\n\\r\\n')\n"
            "print(s.recv(100).decode().splitlines()[0])\n"
            "s.sendall(b'GET / HTTP/1.1\\r\\nHost: allowed.test\\r\\nConnection: close\\r\\n\\r\\n')\n"
            "data = b''\nwhile True:\n    c = s.recv(4096)\n    if not c: break\n    data += c\n"
            "print(data.decode().split('\\r\\n\\r\\n')[1])")
    events: list = []
    prof = Profile(network="proxy", allow_domains=(f"allowed.test:{http_server}",))
    r = run_sandboxed([PY, "-c", code], prof, str(world.ws), env=world.env, capture=True, audit=events.append,
                      hosts={"allowed.test": "127.0.0.1"})
    assert "200 Connection Established" in out(r) and "hello from allowed.test" in out(r), out(r)


@pytest.mark.parametrize("url,why", [
    ("http://blocked.test:{port}/", "not in the profile's allow_domains"),
    ("http://127.0.0.1:{port}/", "IP literal"),
    ("http://2130706433:{port}/", "IP literal"),
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://metadata.google.internal/computeMetadata/v1/", "metadata"),
    ("http://[fd00:ec2::254]/latest/", "metadata"),
])
def test_proxy_refuses(world, http_server, url, why):
    events: list = []
    prof = Profile(network="proxy", allow_domains=(f"allowed.test:{http_server}", "metadata.google.internal"))
    hosts = {"allowed.test": "127.0.0.1", "blocked.test": "127.0.0.1"}
    r = _fetch(world, url.format(port=http_server), prof, events, hosts)
    assert "FAILED" in out(r) and "BODY" not in out(r), out(r)
    denied = [e for e in events if e["type"] == "sandbox.egress" and e["decision"] == "deny"]
    assert denied and why in denied[0]["reason"], events


def test_proxy_refuses_allowlisted_name_resolving_to_private_address(world, http_server):
    events: list = []
    prof = Profile(network="proxy", allow_domains=(f"rebind.test:{http_server}",))
    r = run_sandboxed([PY, "-c", FETCH, f"http://rebind.test:{http_server}/"], prof, str(world.ws), env=world.env,
                      capture=True, audit=events.append, resolver=lambda host, port: ["127.0.0.1"])
    assert "FAILED" in out(r)
    assert "non-public" in events[0]["reason"]


def test_audit_failure_refuses_egress(world, http_server):
    def broken(event):
        if event["type"] == "sandbox.egress":
            raise OSError("disk full")

    prof = Profile(network="proxy", allow_domains=(f"allowed.test:{http_server}",))
    r = run_sandboxed([PY, "-c", FETCH, f"http://allowed.test:{http_server}/"], prof, str(world.ws), env=world.env,
                      capture=True, audit=broken, hosts={"allowed.test": "127.0.0.1"})
    assert "FAILED" in out(r) and "BODY" not in out(r)


def test_proxy_network_is_still_closed_for_direct_connections(world, http_server):
    prof = Profile(network="proxy", allow_domains=("allowed.test",))
    code = (f"import socket\ntry:\n socket.create_connection(('127.0.0.1', {http_server}), timeout=3)\n"
            " print('CONNECTED')\nexcept OSError as e:\n print('refused', e)")
    r = run_sandboxed([PY, "-c", code], prof, str(world.ws), env=world.env, capture=True,
                      hosts={"allowed.test": "127.0.0.1"})
    assert "refused" in out(r) and "CONNECTED" not in out(r)
