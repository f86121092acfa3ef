"""`warden install|uninstall codex`, and the doctor checks for Codex's silent-skip states.

Codex runs a hook from ``hooks.json`` only when it is *trusted*: ``config.toml`` must hold
``[hooks.state."<hooks.json path>:<event>:<group>:<handler>"] trusted_hash = "sha256:..."``, the
hash of the hook's normalised definition (Codex's own ``/hooks`` screen writes the same). An
untrusted, or since-modified, hook is skipped without a word, and so is a project's whole
``.codex/`` folder while Codex does not trust the project. So install writes the trust records
next to the hooks (in a marked block of the user's ``config.toml``), and :func:`doctor_checks`
recomputes every hash and reports any hook Codex would skip.

Warden's entries are appended after the user's own hooks: Codex keys trust by position, so
putting Warden first would untrust every hook the user already had.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from warden.integrations.agents import hookfile
from warden.integrations.agents.checks import Check, binary_version, version_checks
from warden.integrations.agents.hookfile import Change, HookSpec, SettingsError

AGENT = "codex"
TESTED_VERSION = "0.171.0"
HOOK_TIMEOUT = 30  # seconds; Warden's own deadline (8 s) answers first, failing closed
SNAKE = {"PreToolUse": "pre_tool_use", "PermissionRequest": "permission_request", "PostToolUse": "post_tool_use",
         "UserPromptSubmit": "user_prompt_submit", "SessionStart": "session_start", "Stop": "stop"}
SPEC = HookSpec(
    agent=AGENT,
    events={"PreToolUse": "", "PermissionRequest": "", "PostToolUse": "", "UserPromptSubmit": None,
            "SessionStart": None, "Stop": None},
    handler=lambda command, _event: {"type": "command", "command": command, "timeout": HOOK_TIMEOUT},
    first=False,
)
SCOPES = ("project", "user")
SCOPE_HELP = {"project": "<dir>/.codex/hooks.json (the project must be trusted by Codex).",
              "user": "$CODEX_HOME/hooks.json (default ~/.codex)."}
NEXT_STEP = ("Codex runs the hooks from its next start; `warden doctor` checks that Codex trusts them "
             "(an untrusted hook is skipped silently).")
_BEGIN = "# >>> warden hook trust for "
_END = "# <<< warden hook trust for "


def codex_home(environ: Mapping[str, str]) -> Path:
    configured = environ.get("CODEX_HOME")
    return Path(configured) if configured else Path(environ.get("HOME") or Path.home()) / ".codex"


def hooks_path(scope: str, directory: str | None, environ: Mapping[str, str]) -> Path:
    if scope == "user":
        return codex_home(environ) / "hooks.json"
    return Path(os.path.abspath(directory or os.getcwd())) / ".codex" / "hooks.json"


def config_path(environ: Mapping[str, str]) -> Path:
    return codex_home(environ) / "config.toml"


def trust_hash(event: str, matcher: str | None, handler: Mapping[str, Any]) -> str:
    """Codex's hash of one hook: sha256 over the compact, key-sorted JSON of its normalised
    identity (event, matcher, the handler with Codex's defaults filled in)."""
    normalised = {"type": "command", "command": handler.get("command"), "timeout": handler.get("timeout", 600),
                  "async": bool(handler.get("async", False))}
    if handler.get("statusMessage") is not None:
        normalised["statusMessage"] = handler["statusMessage"]
    identity: dict[str, Any] = {"event_name": SNAKE.get(event, event), "hooks": [normalised]}
    if matcher is not None:
        identity["matcher"] = matcher
    blob = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return "sha256:" + hashlib.sha256(blob).hexdigest()


def wanted_trust(path: Path, data: Mapping[str, Any]) -> dict[str, str]:
    """trust key -> hash, for each Warden hook in the hooks file ``data`` at ``path``."""
    out: dict[str, str] = {}
    hooks = data.get("hooks") or {}
    for event, entries in hookfile.installed_entries(data, SPEC).items():
        for gi, hi, handler in entries:
            group = hooks[event][gi]
            out[f"{path}:{SNAKE.get(event, event)}:{gi}:{hi}"] = trust_hash(event, group.get("matcher"), handler)
    return out


def _toml_key(key: str) -> str:
    return json.dumps(key, ensure_ascii=False)  # a TOML basic string is a JSON string for our characters


def _split_blocks(text: str, path: Path) -> tuple[str, str | None, str]:
    """(before, Warden's block for ``path`` or None, after)."""
    begin = re.search(r"(?m)^" + re.escape(_BEGIN + str(path)) + r" .*\n", text)
    if begin is None:
        return text, None, ""
    end = re.compile(r"(?m)^" + re.escape(_END + str(path)) + r"\n?").search(text, begin.end())
    if end is None:
        raise SettingsError(f"Warden's trust block for {path} in config.toml has no end marker; fix it by hand")
    return text[:begin.start()], text[begin.start():end.end()], text[end.end():]


def _block(path: Path, trust: Mapping[str, str], project: str | None, sep: str, created: bool) -> str:
    lines = [f"{_BEGIN}{path} (sep={len(sep)}, created={int(created)}; `warden uninstall codex` removes it)"]
    if project:
        lines += [f"[projects.{_toml_key(project)}]", 'trust_level = "trusted"']
    for key, value in trust.items():
        lines += [f"[hooks.state.{_toml_key(key)}]", f"trusted_hash = {_toml_key(value)}"]
    lines.append(f"{_END}{path}")
    return "\n".join(lines) + "\n"


def _without_block(text: str, path: Path) -> tuple[str, bool]:
    """``text`` with Warden's block for ``path`` removed exactly as it was added; and whether the
    file existed before Warden created it."""
    before, block, after = _split_blocks(text, path)
    if block is None:
        return text, False
    meta = re.search(r"\(sep=(\d+), created=(\d)", block)
    sep_len, created = (int(meta.group(1)), meta.group(2) == "1") if meta else (0, False)
    if not after and sep_len and before.endswith("\n" * sep_len):
        before = before[: len(before) - sep_len]
    return before + after, created


def _parse(text: str, where: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{where} is not valid TOML ({exc}); fix it, then retry") from None


def _project_trusted(config: Mapping[str, Any], project: str) -> bool:
    entry = (config.get("projects") or {}).get(project)
    return isinstance(entry, dict) and entry.get("trust_level") == "trusted"


def _write_trust(path: Path, trust: Mapping[str, str], project: str | None, environ: Mapping[str, str]) -> Change:
    cfg = config_path(environ)
    try:
        original = cfg.read_text(encoding="utf-8")
        existed = True
    except FileNotFoundError:
        original, existed = "", False
    base, created_before = _without_block(original, path)
    created = created_before or not existed
    users = _parse(base, cfg)
    # A key the user already trusts with the same hash needs no record of ours; a different hash
    # in the user's own text cannot be fixed without editing it.
    state = ((users.get("hooks") or {}).get("state") or {})
    mine: dict[str, str] = {}
    for key, value in trust.items():
        theirs = (state.get(key) or {}).get("trusted_hash") if isinstance(state.get(key), dict) else None
        if theirs == value:
            continue
        if key in state:
            raise SettingsError(f"{cfg} already has [hooks.state.{_toml_key(key)}] with another hash; remove that "
                                "table (Warden will write the right one), then retry")
        mine[key] = value
    if project and _project_trusted(users, project):
        project = None
    if not mine and not project:
        new = base
    else:
        sep = "" if not base else "\n" if base.endswith("\n") else "\n\n"
        new = base + sep + _block(path, mine, project, sep, created)
        _parse(new, cfg)  # never write a config Codex could not read
    if new == original:
        return Change(cfg, False, None, [], 0)
    if new == "" and created:
        cfg.unlink()
        return Change(cfg, True, None, [], len(trust), deleted_file=True)
    first_write = _split_blocks(original, path)[1] is None
    saved = hookfile.backup(cfg, original.encode("utf-8")) if existed and first_write else None
    hookfile.write_atomic(cfg, new.encode("utf-8"), hookfile.mode_of(cfg))
    return Change(cfg, True, saved, sorted(mine), 0)


def install(scope: str, directory: str | None, command: str | None, environ: dict[str, str] | None = None,
            trust_project: bool = False) -> list[Change]:
    environ = dict(os.environ) if environ is None else environ
    path = hooks_path(scope, directory, environ)
    project = str(path.parent.parent) if scope == "project" else None
    if project is not None:
        config = _parse(_read(config_path(environ)), config_path(environ))
        if not _project_trusted(config, project) and not trust_project:
            raise SettingsError(
                f"Codex ignores {path.parent} (and any hooks in it) until it trusts the project {project}; "
                "trust it in Codex (it asks on first start), rerun with --trust-project to let Warden record the "
                "trust, or install with --user")
    change = hookfile.install(path, SPEC, command)
    data, _raw = hookfile.load(path)
    trust_change = _write_trust(path, wanted_trust(path, data), project if trust_project else None, environ)
    return [change, trust_change]


def uninstall(scope: str, directory: str | None, environ: dict[str, str] | None = None) -> list[Change]:
    environ = dict(os.environ) if environ is None else environ
    path = hooks_path(scope, directory, environ)
    change = hookfile.uninstall(path, SPEC)
    cfg = config_path(environ)
    text = _read(cfg)
    new, created = _without_block(text, path)
    if new == text:
        return [change, Change(cfg, False, None, [], 0)]
    if not new and created:
        cfg.unlink()
        return [change, Change(cfg, True, None, [], 1, deleted_file=True)]
    hookfile.write_atomic(cfg, new.encode("utf-8"), hookfile.mode_of(cfg))
    return [change, Change(cfg, True, None, [], 1)]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror or exc}") from None


# --- doctor --------------------------------------------------------------------------------------


def live_hook_status(exe: str, environ: Mapping[str, str], cwd: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Codex's own view of the hooks it would run in ``cwd`` (``codex app-server``, ``hooks/list``):
    each with ``key``, ``command``, ``source`` and ``trustStatus`` (trusted/untrusted/modified/managed).
    Raises RuntimeError when Codex cannot be asked."""
    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"clientInfo": {"name": "warden-doctor",
                                                                                      "version": "1"}}},
        {"jsonrpc": "2.0", "method": "initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "hooks/list", "params": {"cwds": [cwd]}},
    ]
    try:
        proc = subprocess.Popen([exe, "app-server"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, cwd=cwd, env=dict(environ), text=True)
    except OSError as exc:
        raise RuntimeError(f"cannot start `codex app-server`: {exc}") from None
    try:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write("".join(json.dumps(r) + "\n" for r in requests))
            proc.stdin.flush()
        except OSError as exc:  # it exited before reading (not a Codex that speaks app-server)
            raise RuntimeError(f"`codex app-server` did not take requests: {exc}") from None
        import selectors
        import time

        deadline = time.monotonic() + timeout
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            line = proc.stdout.readline()
            if not line:
                break
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("id") == 2:
                if "error" in msg:
                    raise RuntimeError(f"codex app-server: {msg['error']}")
                return [h for entry in msg["result"]["data"] for h in entry.get("hooks", [])]
        raise RuntimeError("`codex app-server` did not list its hooks in time")
    finally:
        proc.kill()
        proc.wait()


def doctor_checks(environ: Mapping[str, str] | None = None, project_dir: str | None = None,
                  *, probe_binary: bool = True) -> list[Check]:
    """Findings for every state in which Codex would run without Warden's hooks, silently."""
    environ = dict(os.environ) if environ is None else dict(environ)
    checks: list[Check] = []
    cfg_path = config_path(environ)
    try:
        config = _parse(_read(cfg_path), cfg_path)
    except SettingsError as exc:
        return [Check(AGENT, "codex.config", "error", str(exc), f"fix {cfg_path}")]
    if (config.get("features") or {}).get("hooks") is False:
        checks.append(Check(AGENT, "codex.hooks.feature", "error", f"{cfg_path} turns hooks off ([features] "
                            "hooks = false): Codex runs no hook at all", "remove that line"))
    state = (config.get("hooks") or {}).get("state") or {}
    found_any = False
    for scope in SCOPES:
        path = hooks_path(scope, project_dir, environ)
        try:
            data, _raw = hookfile.load(path)
        except SettingsError as exc:
            checks.append(Check(AGENT, f"codex.hooks.{scope}", "error", str(exc), f"fix {path}"))
            continue
        wanted = wanted_trust(path, data)
        if not wanted:
            continue
        found_any = True
        present = set(hookfile.installed_entries(data, SPEC))
        missing = [e for e in SPEC.events if e not in present]
        if missing:
            checks.append(Check(AGENT, f"codex.hooks.{scope}", "error",
                                f"{path} lacks Warden's hooks for {', '.join(missing)}",
                                f"run `warden install codex --{scope}`"))
        bad = []
        for key, value in wanted.items():
            entry = state.get(key)
            have = entry.get("trusted_hash") if isinstance(entry, dict) else None
            if have != value:
                bad.append(f"{key.rsplit(':', 3)[1]} ({'modified since trusted' if have else 'untrusted'})")
        if bad:
            checks.append(Check(AGENT, f"codex.hooks.{scope}.trusted", "error",
                                f"Codex will silently skip Warden's hooks in {path}: {', '.join(bad)}",
                                f"run `warden install codex --{scope}` (it records the trust) or trust them in "
                                "Codex's /hooks screen"))
        else:
            checks.append(Check(AGENT, f"codex.hooks.{scope}.trusted", "ok",
                                f"{len(wanted)} Warden hooks in {path}, all trusted by Codex"))
        if scope == "project" and not _project_trusted(config, str(path.parent.parent)):
            checks.append(Check(AGENT, "codex.project.trusted", "error",
                                f"Codex does not trust {path.parent.parent}, so it ignores {path.parent} entirely",
                                "trust the project in Codex, or `warden install codex --project --trust-project`"))
    if not found_any:
        checks.append(Check(AGENT, "codex.hooks", "error", "Warden's hooks are not installed for Codex "
                            "(neither the user's nor this project's hooks.json)", "run `warden install codex --user`"))
    if probe_binary:
        checks.extend(_live_checks(environ, project_dir))
        version = binary_version("codex", environ, {"CODEX_HOME": str(codex_home(environ))})
        checks.extend(version_checks(AGENT, "codex", version, TESTED_VERSION, refuses_newer=True))
    return checks


def _live_checks(environ: Mapping[str, str], project_dir: str | None) -> list[Check]:
    """Ask Codex itself which of Warden's hooks it would run (the authoritative answer)."""
    exe = shutil.which("codex", path=environ.get("PATH"))
    if not exe:
        return []
    cwd = os.path.abspath(project_dir or os.getcwd())
    try:
        hooks = live_hook_status(exe, {**environ, "CODEX_HOME": str(codex_home(environ))}, cwd)
    except RuntimeError as exc:
        return [Check(AGENT, "codex.hooks.live", "warn", f"could not ask Codex which hooks it runs: {exc}")]
    ours = [h for h in hooks if SPEC.is_ours({"command": h.get("command")})]
    skipped = [f"{h.get('eventName')} ({h.get('trustStatus')})" for h in ours
               if h.get("trustStatus") not in ("trusted", "managed") or h.get("enabled") is False]
    if not ours:
        return [Check(AGENT, "codex.hooks.live", "error", f"Codex lists none of Warden's hooks for {cwd}",
                      "run `warden install codex --user`")]
    if skipped:
        return [Check(AGENT, "codex.hooks.live", "error", f"Codex would skip Warden's hooks: {', '.join(skipped)}",
                      "run `warden install codex` again, or trust them in Codex's /hooks screen")]
    return [Check(AGENT, "codex.hooks.live", "ok", f"Codex runs {len(ours)} Warden hooks for {cwd}")]
