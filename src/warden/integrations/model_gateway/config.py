"""What the model gateway is started with: upstreams, client keys, limits (parsed from the CLI)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("anthropic", "openai")


class ConfigError(ValueError):
    """A start-up option is wrong; the message says how to write it."""


@dataclass(frozen=True, slots=True)
class Upstream:
    name: str  # the provider name policies approve models by
    url: str  # base URL without the /v1 suffix's trailing slash
    kind: str  # anthropic | openai
    key_env: str = ""  # environment variable holding the provider key (the gateway's, never the agent's)

    def auth_headers(self, environ: Mapping[str, str]) -> dict[str, str]:
        key = environ.get(self.key_env, "") if self.key_env else ""
        if not key:
            return {}
        return {"x-api-key": key} if self.kind == "anthropic" else {"authorization": f"Bearer {key}"}


def parse_upstream(spec: str) -> Upstream:
    """``NAME=URL`` or ``NAME:KIND=URL``, optionally ``...,key_env=VAR``.

    The kind is ``anthropic`` when the name says so (anthropic*, claude*), else ``openai``.
    """
    if "=" not in spec:
        raise ConfigError(f"--upstream {spec!r}: write NAME=URL, e.g. anthropic=https://api.anthropic.com")
    head, rest = spec.split("=", 1)
    url, _, opts = rest.partition(",")
    name, _, kind = head.partition(":")
    name = name.strip()
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"--upstream {spec!r}: the name must be letters, digits, '-' or '_'")
    kind = kind or ("anthropic" if name.lower().startswith(("anthropic", "claude")) else "openai")
    if kind not in KINDS:
        raise ConfigError(f"--upstream {spec!r}: kind must be one of {', '.join(KINDS)}")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"--upstream {spec!r}: the URL must start with http:// or https://")
    key_env = ""
    for opt in filter(None, opts.split(",")):
        k, _, v = opt.partition("=")
        if k != "key_env" or not v:
            raise ConfigError(f"--upstream {spec!r}: unknown option {opt!r} (only key_env=VAR)")
        key_env = v
    url = url.rstrip("/")
    if url.endswith("/v1"):
        url = url[:-3]
    return Upstream(name, url, kind, key_env)


@dataclass(frozen=True, slots=True)
class ClientKey:
    actor: str
    agent: str = ""
    roles: tuple[str, ...] = ()


@dataclass
class KeyTable:
    """Gateway keys handed to agents, stored as SHA-256 digests (``$WARDEN_HOME/model-gateway/keys.json``)."""

    entries: dict[str, ClientKey] = field(default_factory=dict)

    @staticmethod
    def digest(key: str) -> str:
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    def lookup(self, key: str) -> ClientKey | None:
        d = self.digest(key)
        for stored, who in self.entries.items():
            if hmac.compare_digest(stored, d):
                return who
        return None

    @classmethod
    def load(cls, path: Path) -> KeyTable:
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text("utf-8"))
            return cls({str(d): ClientKey(str(v["actor"]), str(v.get("agent", "")), tuple(v.get("roles", [])))
                        for d, v in raw.items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"cannot read gateway keys {path}: {exc}; fix or remove the file") from None

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data: dict[str, Any] = {d: {"actor": k.actor, "agent": k.agent, "roles": list(k.roles)}
                                for d, k in self.entries.items()}
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
        os.replace(tmp, path)


def keys_path(warden_home: Path) -> Path:
    return warden_home / "model-gateway" / "keys.json"


@dataclass
class GatewayConfig:
    upstreams: list[Upstream]
    warden_home: Path
    environ: Mapping[str, str]
    cwd: str
    policy_file: str | None = None
    dev: bool = False
    keys: KeyTable = field(default_factory=KeyTable)
    max_body: int = 32 * 1024 * 1024
    upstream_timeout: float = 600.0
    connect_timeout: float = 10.0
    policy_ttl: float = 5.0

    def upstream_for(self, kind: str, name: str | None = None) -> Upstream | None:
        for up in self.upstreams:
            if (name is None or up.name == name) and up.kind == kind:
                return up
        return None
