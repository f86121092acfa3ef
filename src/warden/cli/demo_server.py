"""`warden demo --server`: the team server and a logged-in laptop, end to end, in a throw-away directory.

A real `warden server --dev` process on a free loopback port, a laptop home that logs in to it, the link
(the same one the warm daemon runs), and real decisions through the hook entry point: the organisation's
policy arrives as a signed bundle, a queued approval is routed to the server and approved there by
another person while the hook waits, the requester's own approval is refused, a kill switch set on the
server stops the laptop within a second, and the laptop's evidence arrives in the central store.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

CENTRAL = """version: 1
rules:
  - id: org-no-curl
    effect: deny
    reason: The organisation forbids curl from agents (use the package mirror)
    program: [curl]
  - id: org-deploy-approval
    effect: ask
    reason: Deploys need another person's approval
    program: [deploy]
    approval: {route: queue, expires: 10m, grant: once}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Step:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.n = 0
        self.results: list[dict[str, Any]] = []

    def __call__(self, title: str, fn: Callable[[], tuple[bool, str]]) -> bool:
        self.n += 1
        t0 = time.monotonic()
        try:
            ok, detail = fn()
        except Exception as exc:  # noqa: BLE001 — a demo step that breaks says so and the tour goes on
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        ms = (time.monotonic() - t0) * 1000
        self.results.append({"step": self.n, "title": title, "ok": ok, "detail": detail, "ms": round(ms, 1)})
        if not self.as_json:
            mark = click.style("ok  ", fg="green") if ok else click.style("FAIL", fg="red")
            click.echo(f"{mark} {self.n:>2}. {title}\n         {detail}")
        return ok


def run_server_demo(as_json: bool, keep: bool) -> int:
    import httpx

    from warden.cli.common import emit_json

    tmp = Path(tempfile.mkdtemp(prefix="warden-server-demo-"))
    policy = tmp / "central.yaml"
    policy.write_text(CENTRAL)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server_env = {**os.environ, "WARDEN_HOME": str(tmp / "server-home"), "HOME": str(tmp), "WARDEN_MANAGED_POLICY": ""}
    warden = str(Path(sys.executable).parent / "warden")
    log = open(tmp / "server.log", "w+b")  # noqa: SIM115 — closed below
    proc = subprocess.Popen([warden, "server", "--dev", "--listen", f"127.0.0.1:{port}", "--policy", str(policy)],
                            env=server_env, stdout=subprocess.DEVNULL, stderr=log)
    laptop = tmp / "laptop"
    env = {**os.environ, "WARDEN_HOME": str(laptop), "HOME": str(tmp), "WARDEN_MANAGED_POLICY": "",
           "WARDEN_ACTOR": "alice", "WARDEN_HOOK_DAEMON": "0", "WARDEN_SERVER_LINK": "0"}
    step = _Step(as_json)
    link: Any = None
    try:
        admin = _wait_for_server(proc, url, log)
        http = httpx.Client(base_url=url, timeout=20)

        def key(owner: str, role: str) -> str:
            r = http.post("/v1/keys", json={"owner": owner, "role": role}, headers=_h(admin))
            r.raise_for_status()
            return str(r.json()["key"])

        alice_agent, alice, bob = key("alice", "agent"), key("alice", "approver"), key("bob", "approver")
        if not as_json:
            click.echo(f"Warden team server (dev) at {url}; a laptop logs in as alice; bob approves.\n")

        def login() -> tuple[bool, str]:
            r = subprocess.run([warden, "login", url, "--key", alice_agent, "--machine", "alice-laptop", "--json"],
                               env=env, capture_output=True, timeout=60)
            out = json.loads(r.stdout or b"{}")
            return r.returncode == 0, f"signed policy bundle {out.get('bundle', {}).get('version')} verified and " \
                                      f"cached as the managed layer" if r.returncode == 0 else r.stderr.decode()[-300:]

        step("`warden login`: the laptop pins the server's key and pulls the organisation's policy", login)

        from warden.integrations.server_client.link import Link

        link = Link(laptop, env)
        link.acquire()
        link.start()
        _until(lambda: link.status.get("online"), 10)

        def hook(payload: dict[str, Any], event: str = "PreToolUse", wait: float = 60) -> dict[str, Any]:
            r = subprocess.run([warden, "hook", "claude-code", "--deadline", str(wait)], env=env, timeout=wait + 30,
                               input=json.dumps({**payload, "hook_event_name": event, "cwd": str(tmp)}).encode(),
                               capture_output=True)
            return dict(json.loads(r.stdout)) if r.stdout.strip() else {}

        curl = {"tool_name": "Bash", "tool_input": {"command": "curl -s https://example.com"}, "session_id": "demo"}
        step("alice's agent runs curl: the organisation's rule denies it on the laptop",
             lambda: _verdict(hook(curl), "deny", "org-no-curl"))

        deploy = {"tool_name": "Bash", "tool_input": {"command": "deploy prod"}, "session_id": "demo",
                  "tool_use_id": "demo-1"}
        first = hook(deploy)
        queued: dict[str, str] = {}

        def routed() -> tuple[bool, str]:
            got = _until(lambda: http.get("/v1/approvals", headers=_h(bob)).json(), 10)
            if not got:
                return False, f"no request reached the server; the hook said {first}"
            queued["id"] = got[0]["id"]
            by = got[0]["card"].get("requested_by", {})
            return True, f"request {got[0]['id']} is in the server's queue, asked by {by.get('key_owner')} from " \
                         f"{by.get('machine')} (open {url}/ui/approvals to see its card)"

        step("alice's agent runs `deploy prod`: asked, queued, routed to the team server", routed)
        rid = queued.get("id", "")

        def self_approval() -> tuple[bool, str]:
            r = http.post(f"/v1/approvals/{rid}/approve", json={"reason": "mine"}, headers=_h(alice))
            return r.status_code == 409, f"the server answered {r.status_code}: {r.json().get('error', '')[:120]}"

        step("alice tries to approve her own request on the server: refused", self_approval)

        answer: dict[str, Any] = {}
        waiter = threading.Thread(target=lambda: answer.update(hook(deploy, "PermissionRequest", 60)), daemon=True)
        waiter.start()

        def approve() -> tuple[bool, str]:
            time.sleep(1.0)
            t0 = time.monotonic()
            r = http.post(f"/v1/approvals/{rid}/approve", json={"reason": "release window"}, headers=_h(bob))
            waiter.join(30)
            took = time.monotonic() - t0
            decision = (answer.get("hookSpecificOutput") or {}).get("decision", {})
            return r.status_code == 200 and decision.get("behavior") == "allow", \
                f"bob approved on the server; the waiting hook answered {decision.get('behavior')} {took:.2f}s later"

        step("bob approves it on the server while alice's hook waits", approve)

        def kill() -> tuple[bool, str]:
            from warden.adapters.state import open_state

            store = open_state(laptop)
            try:
                t0 = time.monotonic()
                http.post("/v1/kill", json={"scope": "all", "reason": "incident drill"}, headers=_h(admin))
                _until(store.kills, 5, 0.005)
                took = time.monotonic() - t0
            finally:
                store.close()
            ok, detail = _verdict(hook({"tool_name": "Bash", "tool_input": {"command": "ls"}}), "deny", "incident drill")
            return ok and took < 1.0, f"in force on the laptop {took * 1000:.0f} ms after the admin's click; {detail}"

        step("an admin hits the kill switch on the server", kill)

        def resume() -> tuple[bool, str]:
            http.post("/v1/resume", json={"scope": "all"}, headers=_h(admin))
            _until(lambda: link.status.get("kills") == 0, 5)
            return _verdict(hook({"tool_name": "Bash", "tool_input": {"command": "ls"}}), "allow", "")

        step("the admin lifts it: the laptop works again", resume)

        def evidence() -> tuple[bool, str]:
            try:
                link.ship()
            except ImportError:
                return True, "(this build has no outbox yet)"
            box = link.status.get("outbox") or {}
            evs = http.get("/v1/events", params={"limit": 1000}, headers=_h(admin)).json()
            mine = [e for e in evs if (e.get("origin") or {}).get("machine") == "alice-laptop"]
            return bool(mine) and not box.get("error"), f"{box.get('accepted', 0)} events shipped from the laptop " \
                                                        f"({box.get('pending', 0)} pending); the central store holds " \
                                                        f"{len(mine)} from alice-laptop"

        step("the laptop's evidence arrives in the central store, exactly once", evidence)
        ok = all(r["ok"] for r in step.results)
        if as_json:
            emit_json({"ok": ok, "server": url, "steps": step.results, "kept": str(tmp) if not ok else ""})
        elif ok:
            click.echo("\nAll steps passed. Next: `warden demo --server --keep` leaves the server running to look at "
                       "its web pages; docs/server.md shows how to run it for a team.")
        else:
            click.echo(f"\nSome steps failed; the server's log and the laptop's home are kept in {tmp}")
        if keep:
            click.echo(f"The server keeps running at {url} — sign in with the admin key {admin}\nCtrl-C stops it.",
                       err=True)
            try:
                proc.wait()
            except KeyboardInterrupt:
                pass
        return 0 if ok else 1
    finally:
        if link is not None:
            link.close()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if step.results and all(r["ok"] for r in step.results):
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)


def _h(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def _until(pred: Callable[[], Any], timeout: float, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(step)


def _verdict(out: dict[str, Any], want: str, mentions: str) -> tuple[bool, str]:
    hso = out.get("hookSpecificOutput") or {}
    decision = hso.get("permissionDecision", "")
    reason = str(hso.get("permissionDecisionReason", ""))
    return decision == want and mentions in reason, f"{decision}: {reason[:160]}"


def _wait_for_server(proc: subprocess.Popen[bytes], url: str, log: Any) -> str:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise click.ClickException(f"the server did not start: {log.read().decode()[-500:]}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    log.seek(0)
    m = re.search(r"(wk_[A-Za-z0-9_\-]+)", log.read().decode())
    if not m:
        raise click.ClickException("the server printed no admin key")
    return m.group(1)
