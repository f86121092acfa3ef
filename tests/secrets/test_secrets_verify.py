"""`warden scan --verify`: checked against a local fake issuer; never without the flag.

The fake is a small honest HTTP server: it implements GitHub's GET /user and Slack's
POST /api/auth.test the way the real services answer (200 for a live token, 401 or
{"ok": false} for a dead one) and records every request it gets.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from samplegen import fill

WARDEN = str(Path(sys.executable).parent / "warden")
LIVE = fill("ghp_{an36}", seed="verify-live")
DEAD = fill("ghp_{an36}", seed="verify-dead")
SLOW = fill("ghp_{an36}", seed="verify-slow")
SLACK_LIVE = fill("xoxb-{d12}-{d13}-{an24}", seed="verify")


class Issuer(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str]] = []

    def _answer(self, code: int, doc: object) -> None:
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _token(self) -> str:
        return (self.headers.get("Authorization") or "").removeprefix("Bearer ")

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        token = self._token()
        Issuer.seen.append(("GET", self.path, token))
        if self.path == "/user" and token == SLOW:
            time.sleep(3)
        if self.path == "/user" and token == LIVE:
            self._answer(200, {"login": "octocat"})
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.end_headers()
        else:
            self._answer(401, {"message": "Bad credentials"})

    def do_POST(self) -> None:  # noqa: N802
        token = self._token()
        Issuer.seen.append(("POST", self.path, token))
        self._answer(200, {"ok": token == SLACK_LIVE, "error": None if token == SLACK_LIVE else "invalid_auth"})

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def issuer() -> Iterator[str]:
    Issuer.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Issuer)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def env(tmp_path: Path, issuer: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("WARDEN_")}
    e["WARDEN_HOME"] = str(tmp_path / "home")
    e["WARDEN_VERIFY_ENDPOINTS"] = json.dumps({"github": issuer, "slack": issuer})
    e["NO_PROXY"] = "127.0.0.1"
    return e


def scan(args: list[str], env: dict[str, str]) -> tuple[int, dict]:
    p = subprocess.run([WARDEN, "scan", "--format", "json", *args], capture_output=True, env=env, timeout=60)
    return p.returncode, json.loads(p.stdout)


def test_verify_asks_the_issuer_and_reports_live_dead_and_timeouts(tmp_path: Path, env: dict[str, str]) -> None:
    f = tmp_path / "leak.env"
    f.write_text(f"A={LIVE}\nB={DEAD}\nC={SLOW}\nD={SLACK_LIVE}\nE={LIVE}\nPASSWORD=Walnut7Harbor\n")
    code, doc = scan([str(f), "--verify", "--verify-timeout", "1"], env)
    assert code == 1
    status = {x["line"]: x["verified"] for x in doc["findings"]}
    assert status[1] == "valid" and status[5] == "valid"
    assert status[2] == "invalid"
    assert status[3].startswith("error: no answer within 1")
    assert status[4] == "valid"  # Slack: 200 with {"ok": true}
    assert status[6] == "unverifiable"  # no issuer to ask about a generic password
    gets = [s for s in Issuer.seen if s[0] == "GET"]
    assert sorted(tok for _, _, tok in gets) == sorted([LIVE, DEAD, SLOW])  # one request per distinct secret
    assert all(path == "/user" for _, path, _ in gets)


def test_no_request_without_verify(tmp_path: Path, env: dict[str, str]) -> None:
    f = tmp_path / "leak.env"
    f.write_text(f"A={LIVE}\n")
    code, doc = scan([str(f)], env)
    assert code == 1 and "verified" not in doc["findings"][0]
    assert Issuer.seen == []


def test_redirects_are_not_followed_and_bad_endpoints_fail_loudly(issuer: str) -> None:
    from warden.adapters.scan import verify

    v = verify.VERIFIERS["github-pat"]
    verify.VERIFIERS["test-redirect"] = verify.Verifier("github", v.base, "/redirect", "GET", v.headers)
    try:
        status = verify.check("test-redirect", LIVE, 2, {"github": issuer})
    finally:
        del verify.VERIFIERS["test-redirect"]
    assert status == "error: issuer answered HTTP 302"
    assert [s[1] for s in Issuer.seen] == ["/redirect"]  # the credential went nowhere else
    assert verify.check("github-pat", LIVE, 1, {"github": "http://127.0.0.1:9"}).startswith("error: ")


def test_bad_endpoint_config_is_an_error(tmp_path: Path, env: dict[str, str]) -> None:
    f = tmp_path / "leak.env"
    f.write_text(f"A={LIVE}\n")
    env["WARDEN_VERIFY_ENDPOINTS"] = "{not json"
    p = subprocess.run([WARDEN, "scan", str(f), "--verify"], capture_output=True, env=env, timeout=60)
    assert p.returncode == 2 and b"WARDEN_VERIFY_ENDPOINTS" in p.stderr
