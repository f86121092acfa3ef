"""A real `warden model-gateway` process for tests (imported by conftest and the e2e tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "e2e"))

WARDEN = str(Path(sys.executable).parent / "warden")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GatewayProcess:
    def __init__(self, root: Path, upstreams: list[str], policy: str = "", dev: bool = True,
                 extra_env: dict[str, str] | None = None, args: list[str] | None = None) -> None:
        self.root = root
        self.home = root / "warden-home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.workspace = root / "ws"
        self.workspace.mkdir(exist_ok=True)
        (self.workspace / ".git").mkdir(exist_ok=True)
        self.policy = self.workspace / "warden.yaml"
        self.policy.write_text(policy or "version: 1\n")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "WARDEN_HOME": str(self.home), "HOME": str(root / "home"),
                    "WARDEN_ACTOR": "dev@example.com", **(extra_env or {})}
        cmd = [WARDEN, "model-gateway", "--listen", f"127.0.0.1:{self.port}", "--policy", str(self.policy),
               "--cwd", str(self.workspace)]
        for up in upstreams:
            cmd += ["--upstream", up]
        if dev:
            cmd.append("--dev")
        cmd += args or []
        self.cmd = cmd
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> GatewayProcess:
        self.stderr = open(self.root / "gateway.stderr", "wb")  # noqa: SIM115 — closed in stop()
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited: {(self.root / 'gateway.stderr').read_text()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("gateway did not come up")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.stderr.close()

    def events(self, kind: str = "model") -> list[dict]:
        """The audit log's events of one kind (read with the real store)."""
        from warden.adapters.store import open_store
        from warden.adapters.store.base import Filters

        store = open_store(None, self.home, keys="optional", create=False)
        try:
            return store.query(Filters(kind=kind))
        finally:
            store.close()

    def wait_events(self, n: int, kind: str = "model", timeout: float = 10) -> list[dict]:
        # the event is written after the last byte went out: poll briefly
        deadline = time.monotonic() + timeout
        while True:
            evs = self.events(kind)
            if len(evs) >= n or time.monotonic() > deadline:
                return evs
            time.sleep(0.05)


