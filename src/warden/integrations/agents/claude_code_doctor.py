"""``warden doctor`` checks for Claude Code: are Warden's hooks installed, and do they really answer?

For every Claude Code settings file that applies here (managed, user, project, local), the check
looks for Warden's entries, the events they cover, and settings that would silence them
(``disableAllHooks``). Each distinct hook command is then run the way Claude Code runs it
(``/bin/sh -c``) with probe payloads: ``rm -rf ~`` must come back ``deny`` and ``ls`` ``allow``,
within Warden's deadline. Probes run with ``WARDEN_AUDIT=0`` so they leave no audit events.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from warden.integrations.agents import claude_code_install as install
from warden.integrations.doctor import FAIL, OK, SKIP, WARN, DoctorContext, Finding

MANAGED_SETTINGS = "/etc/claude-code/managed-settings.json"
DEADLINE = 8.0  # Warden's own hook deadline: a slower answer is already a failure
PROBES = (("rm -rf ~", "deny"), ("ls", "allow"))
BLOCKING = ("PreToolUse", "PermissionRequest", "UserPromptSubmit")  # whose answers decide what runs


def settings_files(ctx: DoctorContext) -> list[tuple[str, Path]]:
    env = dict(ctx.environ)
    return [("managed", Path(env.get("WARDEN_CLAUDE_MANAGED_SETTINGS") or MANAGED_SETTINGS)),
            ("user", install.settings_path("user", environ=env)),
            ("project", install.settings_path("project", ctx.workspace, env)),
            ("local", install.settings_path("local", ctx.workspace, env))]


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _entries(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    hooks = data.get("hooks") if isinstance(data.get("hooks"), dict) else {}
    for event, groups in (hooks or {}).items():
        for group in groups if isinstance(groups, list) else []:
            for h in (group.get("hooks") or []) if isinstance(group, dict) else []:
                if install.is_ours(h):
                    found.setdefault(event, []).append(h)
    return found


def probe(command: str, ctx: DoctorContext) -> tuple[bool, str, float]:
    """Run one installed hook command with the probe payloads, as Claude Code would."""
    env = {**ctx.environ, "WARDEN_AUDIT": "0", "CLAUDE_PROJECT_DIR": ctx.workspace}
    worst = 0.0
    for command_text, want in PROBES:
        payload = {"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {"command": command_text},
                   "cwd": ctx.workspace, "session_id": "warden-doctor-probe", "tool_use_id": "warden-doctor-probe"}
        started = time.monotonic()
        try:
            proc = subprocess.run(["/bin/sh", "-c", command], input=json.dumps(payload).encode(), env=env,
                                  cwd=ctx.workspace, capture_output=True, timeout=install.HOOK_TIMEOUT)
        except subprocess.TimeoutExpired:
            return False, f"no answer within Claude Code's {install.HOOK_TIMEOUT} s hook timeout", install.HOOK_TIMEOUT
        took = time.monotonic() - started
        worst = max(worst, took)
        err = proc.stderr.decode(errors="replace").strip()[-300:]
        if proc.returncode != 0:
            return False, f"`{command_text}` probe: exit {proc.returncode}: {err}", worst
        try:
            got = json.loads(proc.stdout)["hookSpecificOutput"]["permissionDecision"]
        except Exception:
            return False, f"`{command_text}` probe: the answer is not Claude Code hook JSON: {proc.stdout[:200]!r}", worst
        if got != want:
            return False, f"`{command_text}` probe: expected {want}, got {got}", worst
        if took > DEADLINE:
            return False, f"`{command_text}` probe took {took:.1f} s, over Warden's {DEADLINE:g} s deadline", worst
    return True, "", worst


def _claude_in_use(ctx: DoctorContext) -> bool:
    home = Path(ctx.environ.get("HOME") or Path.home())
    return bool(shutil.which("claude", path=ctx.environ.get("PATH")) or (home / ".claude").is_dir()
                or (Path(ctx.workspace) / ".claude").is_dir() or ctx.environ.get("CLAUDE_CONFIG_DIR"))


def checks(ctx: DoctorContext) -> Iterator[Finding]:
    installed: list[tuple[str, Path, dict[str, list[dict[str, Any]]]]] = []
    for scope, path in settings_files(ctx):
        data = _read(path)
        if data is None:
            if path.exists():
                yield Finding(f"claude-code.settings.{scope}", FAIL, f"{path} is not valid JSON, so Claude Code "
                              "ignores it", "fix the JSON, then `warden install claude-code`")
            continue
        if data.get("disableAllHooks") is True:
            yield Finding(f"claude-code.hooks.{scope}", FAIL, f"{path} sets disableAllHooks: true, so no hook "
                          "(Warden's included) runs", f"remove disableAllHooks from {path}")
        ours = _entries(data)
        if ours:
            installed.append((scope, path, ours))
    if not installed:
        if _claude_in_use(ctx):
            yield Finding("claude-code.hooks", FAIL, "Claude Code is used here but Warden's hooks are not installed: "
                          "its tool calls are unguarded", "warden install claude-code (or --user for every project)")
        else:
            yield Finding("claude-code.hooks", SKIP, "Claude Code not found (no claude on PATH, no .claude directory)")
        return
    commands: dict[str, str] = {}  # command -> "scope:event" of a blocking event that runs it
    for scope, path, ours in installed:
        missing = [e for e in install.EVENTS if e not in ours]
        status, what = (WARN, f"missing events: {', '.join(missing)}") if missing else (OK, "all events")
        yield Finding(f"claude-code.hooks.{scope}", status, f"Warden's hooks are installed in {path} ({what})",
                      "warden install claude-code" + ("" if scope == "project" else f" --{scope}") if missing else "")
        for event, hooks in ours.items():
            for h in hooks:
                if event in BLOCKING:
                    commands.setdefault(str(h.get("command")), f"{scope}:{event}")
                if scope == "project" and os.sep + "warden " in f" {h.get('command')}".split(" hook claude-code")[0]:
                    yield Finding("claude-code.portable", WARN, f"{path} ({event}) names an absolute warden path: "
                                  "teammates' machines will not have it", "warden install claude-code --project")
    for command, where in commands.items():
        ok, why, took = probe(command, ctx)
        if ok:
            yield Finding(f"claude-code.answers.{where}", OK, f"the hook command answers the probes correctly "
                          f"(`rm -rf ~` deny, `ls` allow; slowest {took * 1000:.0f} ms)")
        else:
            yield Finding(f"claude-code.answers.{where}", FAIL, f"the hook command does not answer correctly: {why}",
                          "make `warden` runnable here (pipx install warden, or put the venv's bin on PATH), then "
                          "rerun `warden doctor`", detail={"command": command})
