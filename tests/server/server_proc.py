"""A real `warden server --dev` process on a free port, with its printed admin key."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

WARDEN = str(Path(sys.executable).parent / "warden")

POLICY = """version: 1
rules:
  - id: ask-deploy
    effect: ask
    reason: Deploys need another person's approval
    program: [deploy]
    approval: {route: queue, expires: 10m, grant: once}
"""
# the central policy plus a rule the organisation locks on every machine (the policy-bundle tests)
LOCKED = POLICY + """  - id: org-no-curl
    effect: deny
    reason: The organisation forbids curl on developer machines
    program: [curl]
"""

# what the web interface tests queue: a deploy, a push, a new dependency, a CI workflow change
UI_POLICY = POLICY.replace("grant: once", "grant: session") + """\
  - id: ask-push
    effect: ask
    reason: Pushes to shared branches need a second pair of eyes
    facts: [git.push*]
    approval: {route: queue, expires: 10m, grant: once}
  - id: ask-install
    effect: ask
    reason: New dependencies are reviewed before they land
    facts: [pkg.install]
    approval: {route: queue, expires: 10m, grant: 1h}
  - id: ask-ci
    effect: ask
    reason: CI workflow changes run with the repository's secrets
    facts: [ci.workflow_write]
    approval: {route: queue, expires: 10m, grant: once}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, root: Path, db: str | None = None, home: Path | None = None) -> None:
        self.root = root
        self.home = home or root / "server-home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.policy = root / "central.yaml"
        self.policy.write_text(POLICY)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "WARDEN_HOME": str(self.home), "HOME": str(root), "WARDEN_MANAGED_POLICY": ""}
        self.cmd = [WARDEN, "server", "--dev", "--listen", f"127.0.0.1:{self.port}", "--policy", str(self.policy)]
        if db:
            self.cmd += ["--db", db]
        self.db = db
        self.admin = ""

    def start(self) -> ServerProcess:
        self.err = open(self.root / f"server-{self.port}.log", "w+b")  # noqa: SIM115 — closed in stop()
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=self.err)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError((self.root / f"server-{self.port}.log").read_text())
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        self.err.seek(0)
        m = re.search(r"(wk_[A-Za-z0-9_\-]+)", self.err.read().decode())
        assert m, "no admin key printed"
        self.admin = m.group(1)
        return self

    def key(self, owner: str, role: str, **extra: object) -> str:
        r = httpx.post(self.url + "/v1/keys", json={"owner": owner, "role": role, **extra},
                       headers={"authorization": f"Bearer {self.admin}"}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["key"]

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, whatever was in flight is cut off."""
        self.proc.kill()
        self.proc.wait(10)
        self.err.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if not self.err.closed:
            self.err.close()


def h(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}
