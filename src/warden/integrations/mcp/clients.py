"""``warden mcp wrap|unwrap``: put every stdio server of a client's MCP config behind the proxy.

Formats: Claude Code's ``.mcp.json``, Claude Desktop's ``claude_desktop_config.json`` and Cursor's
``mcp.json`` keep servers under ``mcpServers``; VS Code's ``mcp.json`` under ``servers``. A wrapped
server is ``{"command": WARDEN, "args": ["mcp", "proxy", "--name", NAME, "--", ORIGINAL...]}`` with
every other key (env, cwd, type) kept, so wrapping is idempotent (wrapped servers are recognised)
and unwrapping is exact: when the file is unchanged since wrapping, its original bytes come back
from ``$WARDEN_HOME/mcp/wrapped/``; when the user edited it since, each server is unwrapped in place.
HTTP servers cannot sit behind a stdio proxy; they are reported (use ``warden mcp gateway``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CLIENTS = ("claude-code", "claude-desktop", "cursor", "vscode")
PROXY_ARGS = ("mcp", "proxy")


class ConfigError(Exception):
    """The config file cannot be wrapped or unwrapped; the message says what to do."""


def config_path(client: str, cwd: str, environ: Mapping[str, str]) -> Path:
    home = Path(environ.get("HOME") or Path.home())
    if client == "claude-code":
        return Path(cwd) / ".mcp.json"
    if client == "claude-desktop":
        mac = home / "Library" / "Application Support" / "Claude" / "claude_desktop_config.json"
        return mac if mac.exists() else home / ".config" / "Claude" / "claude_desktop_config.json"
    if client == "cursor":
        return home / ".cursor" / "mcp.json"
    if client == "vscode":
        project = Path(cwd) / ".vscode" / "mcp.json"
        return project if project.exists() else home / ".config" / "Code" / "User" / "mcp.json"
    raise ConfigError(f"unknown client {client!r}: one of {', '.join(CLIENTS)}")


def _servers_key(doc: Mapping[str, Any]) -> str:
    if isinstance(doc.get("servers"), dict) and not isinstance(doc.get("mcpServers"), dict):
        return "servers"
    return "mcpServers"


def _load(path: Path) -> tuple[bytes, dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist; add your MCP servers to it first (or pass --file)") from None
    if len(raw) > 4 * 1024 * 1024:
        raise ConfigError(f"{path} is larger than 4 MiB; that is not an MCP configuration")
    try:
        doc = json.loads(_strip_jsonc(raw.decode("utf-8-sig")))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc}); fix it and run the command again") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path} must hold a JSON object")
    return raw, doc


def _strip_jsonc(text: str) -> str:
    """VS Code's mcp.json may carry // and /* */ comments and trailing commas."""
    out = re.sub(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', lambda m: m.group(1) or "", text, flags=re.S)
    return re.sub(r'("(?:\\.|[^"\\])*")|,(\s*[}\]])', lambda m: m.group(1) or m.group(2), out)


def is_wrapped(server: Mapping[str, Any]) -> bool:
    args = server.get("args")
    return (isinstance(args, list) and tuple(args[:2]) == PROXY_ARGS and "--" in args
            and isinstance(server.get("command"), str))


def proxy_name(key: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", key.lower()).strip("-")[:64]
    return name or "server"


def _backup_path(path: Path, environ: Mapping[str, str]) -> Path:
    from warden.adapters.policy_files import warden_home

    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]
    return warden_home(environ) / "mcp" / "wrapped" / f"{digest}.json"


def wrap_file(path: str | os.PathLike[str], *, warden: list[str], approve_first: bool = False,
              environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    target = Path(path)
    raw, doc = _load(target)
    key = _servers_key(doc)
    servers = doc.get(key)
    if not isinstance(servers, dict) or not servers:
        raise ConfigError(f"{target} has no {key!r} object with servers to wrap")
    wrapped, skipped, already = [], [], []
    for name, server in servers.items():
        if not isinstance(server, dict):
            skipped.append(f"{name} (not an object)")
        elif is_wrapped(server):
            already.append(name)
        elif not isinstance(server.get("command"), str) or server.get("url"):
            skipped.append(f"{name} (an HTTP server: put it behind `warden mcp gateway` instead)")
        else:
            orig_args = server.get("args") or []
            if not isinstance(orig_args, list) or not all(isinstance(a, str) for a in orig_args):
                skipped.append(f"{name} (args is not a list of strings)")
                continue
            flags = ["--approve-first"] if approve_first else []
            server["args"] = [*warden[1:], *PROXY_ARGS, "--name", proxy_name(name), *flags, "--",
                              server["command"], *orig_args]
            server["command"] = warden[0]
            wrapped.append(name)
    if wrapped:
        new = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()
        backup = _backup_path(target, environ)
        backup.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not already or not backup.exists():  # keep the first original across repeated wraps
            record = {"path": str(target.resolve()), "original": base64.b64encode(raw).decode()}
        else:
            record = json.loads(backup.read_text())
        record["wrapped_sha256"] = hashlib.sha256(new).hexdigest()
        backup.write_text(json.dumps(record))
        tmp = target.with_name(target.name + ".warden-tmp")
        tmp.write_bytes(new)
        os.chmod(tmp, target.stat().st_mode & 0o777)
        os.replace(tmp, target)
    message = (f"wrapped {len(wrapped)} server(s) in {target}" if wrapped else
               f"nothing to wrap in {target}: {len(already)} server(s) already behind Warden")
    if wrapped:
        message += ("; their tools start quarantined: run the client once, then "
                    "`warden mcp pins list` and `warden mcp pins approve NAME --all`" if not approve_first else "")
    return {"file": str(target), "wrapped": wrapped, "already": already, "skipped": skipped,
            "servers": wrapped + [f"{s} (skipped)" for s in skipped], "message": message}


def _unwrap_server(server: dict[str, Any]) -> None:
    args = server["args"]
    original = args[args.index("--") + 1:]
    if original:
        server["command"], server["args"] = original[0], original[1:]


def unwrap_file(path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    target = Path(path)
    raw, doc = _load(target)
    backup = _backup_path(target, environ)
    record = json.loads(backup.read_text()) if backup.exists() else None
    if record and hashlib.sha256(raw).hexdigest() == record.get("wrapped_sha256"):
        target.write_bytes(base64.b64decode(record["original"]))
        backup.unlink()
        return {"file": str(target), "restored": "exact", "servers": [],
                "message": f"restored {target} to its original bytes"}
    servers = doc.get(_servers_key(doc))
    if not isinstance(servers, dict):
        servers = {}
    names = [n for n, s in servers.items() if isinstance(s, dict) and is_wrapped(s)]
    if not names:
        return {"file": str(target), "restored": "none", "servers": [], "message": f"nothing wrapped in {target}"}
    for n in names:
        _unwrap_server(servers[n])
    target.write_bytes((json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode())
    if backup.exists():
        backup.unlink()
    return {"file": str(target), "restored": "servers", "servers": names,
            "message": f"unwrapped {len(names)} server(s) in {target} (the file changed since wrapping, so "
                       "each server was restored in place rather than the whole file)"}


def doctor_findings(cwd: str, environ: Mapping[str, str]) -> list[dict[str, str]]:
    """For ``warden doctor``: every stdio MCP server in a known client config that is not behind Warden."""
    findings = []
    for client in CLIENTS:
        path = config_path(client, cwd, environ)
        if not path.exists():
            continue
        try:
            _, doc = _load(path)
        except ConfigError as exc:
            findings.append({"check": "mcp.config", "severity": "warn", "file": str(path), "server": "",
                             "message": str(exc), "fix": f"fix {path}"})
            continue
        servers = doc.get(_servers_key(doc))
        for name, server in (servers or {}).items():
            if not isinstance(server, dict) or is_wrapped(server):
                continue
            http = bool(server.get("url")) or not isinstance(server.get("command"), str)
            findings.append({
                "check": "mcp.unwrapped", "severity": "warn", "file": str(path), "server": name,
                "message": f"MCP server {name!r} in {path} runs without Warden: its tool calls are not checked",
                "fix": ("put it behind `warden mcp gateway` (HTTP server)" if http else
                        f"warden mcp wrap --client {client}" + ("" if client != "claude-code" else f" --file {path}")),
            })
    return findings
