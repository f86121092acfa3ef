"""The agent-neutral ``warden doctor`` checks: policy, managed layer, audit log, sandbox, daemon.

Each function is a provider for :mod:`warden.integrations.doctor`; each finding says what was
found and, when something is wrong, what to do.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from warden.adapters.environment import flag_on
from warden.integrations.doctor import FAIL, OK, SKIP, WARN, DoctorContext, Finding

DEFAULT_MANAGED = "/etc/warden/managed.yaml"


def _policy(ctx: DoctorContext) -> Any:
    from warden.gateway import Gateway

    gw = Gateway(cwd=ctx.cwd, policy_file=ctx.policy_file, home=ctx.home, environ=ctx.environ, audit=False)
    return gw.policy_for(ctx.workspace)


def policy(ctx: DoctorContext) -> Iterator[Finding]:
    try:
        p = _policy(ctx)
    except Exception as exc:
        yield Finding("policy.loads", FAIL, f"the policy does not load, so every action is denied: {exc}",
                      "run `warden policy validate FILE` on the file it names and fix what it reports")
        return
    layers = ", ".join(s["path"] if s["layer"] == "builtin" else f"{s['layer']}:{s['path']}" for s in p.sources)
    yield Finding("policy.loads", OK, f"{len(p.rules)} rules, default {p.default.label}, digest {p.digest[:12]} "
                  f"({layers})", detail={"digest": p.digest, "sources": p.sources})
    for item in getattr(p, "untrusted", []) or []:
        yield Finding("policy.untrusted", WARN, f"{item['path']}:{item['line']}: ignored: {item['what']}",
                      item["fix"], detail=item)
    for warning in p.warnings:
        if "ignored until you trust" not in warning:
            yield Finding("policy.warning", WARN, warning, "edit the file named, or ask whoever owns the managed policy")


def _managed_path(ctx: DoctorContext) -> str:
    return ctx.environ.get("WARDEN_MANAGED_POLICY") or DEFAULT_MANAGED


def managed(ctx: DoctorContext) -> Iterator[Finding]:
    path = _managed_path(ctx)
    expected = flag_on(ctx.environ, "WARDEN_EXPECT_MANAGED") if "WARDEN_EXPECT_MANAGED" in ctx.environ \
        else Path(DEFAULT_MANAGED).parent.is_dir()
    if not ctx.environ.get("WARDEN_MANAGED_POLICY") and "WARDEN_MANAGED_POLICY" in ctx.environ:
        path = ""  # explicitly switched off ($WARDEN_MANAGED_POLICY="")
    if not path or not Path(path).is_file():
        if expected:
            yield Finding("managed.in_force", FAIL, f"a managed policy is expected but none is in force "
                          f"({path or '$WARDEN_MANAGED_POLICY is empty'})",
                          "install it: `warden policy template managed | sudo tee /etc/warden/managed.yaml`, "
                          "or unset WARDEN_EXPECT_MANAGED if this machine has none")
        else:
            yield Finding("managed.in_force", SKIP, "no managed policy (none expected on this machine)")
        return
    try:
        p = _policy(ctx)
    except Exception:
        yield Finding("managed.in_force", FAIL, f"{path} is present, but the policy does not load (see policy.loads)",
                      "fix the policy first")
        return
    if not any(s["layer"] == "managed" for s in p.sources):
        yield Finding("managed.in_force", FAIL, f"{path} exists but is not part of the effective policy",
                      "check $WARDEN_MANAGED_POLICY")
        return
    st = os.stat(path)
    if st.st_uid != 0 or st.st_mode & 0o022:
        yield Finding("managed.in_force", WARN, f"{path} is in force but writable by someone other than root, "
                      "so it is not a control", f"sudo chown root {path} && sudo chmod 0644 {path}")
        return
    yield Finding("managed.in_force", OK, f"{path} is in force (root-owned)")


def audit(ctx: DoctorContext) -> Iterator[Finding]:
    from warden.adapters.store import open_store

    target = ctx.environ.get("WARDEN_AUDIT_DB") or str(ctx.home / "audit.db")
    if "://" not in target and not Path(target).exists():
        yield Finding("audit.verifies", OK, f"no audit log yet at {target} (created with the first decision)")
        return
    try:
        store = open_store(target, ctx.home, keys="optional", create=False)
        try:
            report = store.verify()
        finally:
            store.close()
    except Exception as exc:
        yield Finding("audit.verifies", FAIL, f"the audit log at {target} cannot be read: {exc}",
                      "check the file and $WARDEN_HOME/keys; `warden audit verify` shows details")
        return
    if not report.ok:
        broken = report.broken.to_json() if report.broken else {}
        yield Finding("audit.verifies", FAIL, f"the audit log does not verify: {broken.get('message', broken)}",
                      "keep the file as evidence, then `warden audit verify --json` for where it breaks",
                      detail=report.to_json())
        return
    yield Finding("audit.verifies", OK, f"{report.count} events verify (hash chain, MACs, "
                  f"{report.checkpoints} signed checkpoints)", detail=report.to_json())


def sandbox(ctx: DoctorContext) -> Iterator[Finding]:
    from warden.adapters.exec import SandboxUnavailable, parse_sandbox_section, run_sandboxed

    try:
        profile = parse_sandbox_section(_policy(ctx).sandbox).profile("default")
    except Exception as exc:
        yield Finding("sandbox.works", FAIL, f"the sandbox profile cannot be read: {exc}",
                      "fix the policy's sandbox section (docs/sandbox.md)")
        return
    try:
        result = run_sandboxed(["/bin/sh", "-c", 'test -n "$WARDEN_SANDBOX" && ! touch /warden-doctor-probe'],
                               profile, ctx.workspace, cwd=ctx.workspace, warden_home=str(ctx.home), capture=True)
    except SandboxUnavailable as exc:
        yield Finding("sandbox.works", FAIL, f"bubblewrap cannot build the sandbox: {exc}",
                      "install bubblewrap (apt-get install bubblewrap) and allow unprivileged user namespaces "
                      "(sysctl kernel.unprivileged_userns_clone=1)")
        return
    if result.returncode != 0:
        yield Finding("sandbox.works", FAIL, f"the sandbox probe failed (exit {result.returncode}): "
                      f"{(result.stderr or b'').decode(errors='replace')[-300:]}", "run `warden exec -- true` to see why")
        return
    yield Finding("sandbox.works", OK, "bubblewrap runs commands confined (read-only root, $WARDEN_SANDBOX set)")


PROBE = {"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {"command": "rm -rf ~"},
         "session_id": "warden-doctor-probe", "tool_use_id": "warden-doctor-probe"}


def daemon(ctx: DoctorContext) -> Iterator[Finding]:
    import json
    import time

    from warden.integrations.daemon import client

    if not flag_on(ctx.environ, "WARDEN_HOOK_DAEMON"):
        yield Finding("daemon.healthy", SKIP, "the hook daemon is switched off (WARDEN_HOOK_DAEMON=0)")
        return
    path = client.socket_path(ctx.environ)
    if not os.path.exists(path):
        yield Finding("daemon.healthy", OK, f"no daemon running ({path}); the next hook call starts one")
        return
    body = json.dumps({**PROBE, "cwd": ctx.workspace}).encode()
    os.environ["WARDEN_AUDIT"] = "0"  # the client hands this process's environment over: keep probes out of the log
    started = time.monotonic()
    answer = client.ask(body, ctx.environ, ctx.workspace, [client.HOOK, "claude-code"], 8.0)
    elapsed = time.monotonic() - started
    if answer is None:
        yield Finding("daemon.healthy", OK, "the daemon socket is stale or from another version; the next hook "
                      "call replaces it")
        return
    code, out, err = answer
    try:
        decision = json.loads(out)["hookSpecificOutput"]["permissionDecision"]
    except Exception:
        decision = ""
    if code != 0 or decision != "deny":
        yield Finding("daemon.healthy", FAIL, f"the daemon answered the probe wrongly (exit {code}, decision "
                      f"{decision or 'none'}): {err.decode(errors='replace')[-300:]}",
                      f"remove its socket so a fresh one starts: rm {path}")
        return
    yield Finding("daemon.healthy", OK, f"the daemon denied the probe `rm -rf ~` in {elapsed * 1000:.0f} ms",
                  detail={"socket": path, "ms": round(elapsed * 1000, 1)})
