"""Sandbox profiles: the ``sandbox`` section of the policy, validated defensively.

The policy engine hands us ``gw.policy.sandbox`` as a plain dict. We do not trust its shape:
every field is checked here and a bad value raises :class:`ProfileError` naming the field and
what to write instead. Callers fail closed on that error (the command does not run).
"""

from __future__ import annotations


from typing import Any, NamedTuple
from collections.abc import Mapping

NETWORK_MODES = ("none", "proxy")

DEFAULT_LIMITS: dict[str, int] = {
    "cpu_seconds": 600,
    "memory_mb": 4096,
    "processes": 512,
    "wall_seconds": 1800,
    "tmp_mb": 1024,  # each of the private /tmp and /dev/shm (tmpfs: memory RLIMIT_AS does not count)
    "file_mb": 16384,  # RLIMIT_FSIZE: the largest file any sandboxed process may write, workspace included
}
# A profile may raise limits, but not to absurd values that amount to "no limit" by typo.
_LIMIT_MAX: dict[str, int] = {
    "cpu_seconds": 7 * 24 * 3600,
    "memory_mb": 1024 * 1024,
    "processes": 1_000_000,
    "wall_seconds": 7 * 24 * 3600,
    "tmp_mb": 1024 * 1024,
    "file_mb": 1024 * 1024 * 1024,
}
_PROFILE_KEYS = {"writable", "read_only", "masked", "network", "allow_domains", "allow_private", "upstream_proxy",
                 "env_allow", "limits"}
# The built-in `net` profile (`warden exec --profile net -- pip install ...`): the package registries and
# code hosts a build needs, through the allowlisting proxy. A policy's own `net` profile replaces it.
NET_DOMAINS = ("pypi.org", "files.pythonhosted.org", "registry.npmjs.org", "registry.yarnpkg.com", "github.com",
               "codeload.github.com", "objects.githubusercontent.com", "crates.io", "static.crates.io",
               "index.crates.io", "proxy.golang.org", "sum.golang.org", "rubygems.org", "repo.maven.apache.org")
_SECTION_KEYS = {"claude_code", "allow_unsandboxed", "profiles"}


class ProfileError(ValueError):
    """The sandbox section of the policy is malformed; the message says how to fix it."""


# NamedTuples rather than dataclasses: immutable values, and ten times cheaper to define at import
# time, which every `warden exec` pays.
class Limits(NamedTuple):
    cpu_seconds: int = DEFAULT_LIMITS["cpu_seconds"]
    memory_mb: int = DEFAULT_LIMITS["memory_mb"]
    processes: int = DEFAULT_LIMITS["processes"]
    wall_seconds: int = DEFAULT_LIMITS["wall_seconds"]
    tmp_mb: int = DEFAULT_LIMITS["tmp_mb"]
    file_mb: int = DEFAULT_LIMITS["file_mb"]

    @property
    def tmpfs_bytes(self) -> int:
        """Size of each private tmpfs: never above memory_mb, which tmpfs pages would otherwise escape."""
        return min(self.tmp_mb, self.memory_mb) * 1024 * 1024


class Profile(NamedTuple):
    name: str = "default"
    writable: tuple[str, ...] = ()
    read_only: tuple[str, ...] = ()
    masked: tuple[str, ...] = ()
    network: str = "none"
    allow_domains: tuple[str, ...] = ()
    env_allow: tuple[str, ...] = ()
    limits: Limits = Limits()
    # allowlisted hosts that may resolve to private addresses (internal registries, mirrors): host
    # globs or CIDRs; metadata endpoints stay refused whatever this says
    allow_private: tuple[str, ...] = ()
    upstream_proxy: str = ""  # http://host:port of a corporate proxy the egress proxy goes through


class SandboxSettings(NamedTuple):
    claude_code: bool = False
    allow_unsandboxed: bool = False
    profiles: Mapping[str, Profile] = {"default": Profile()}  # never mutated: parse builds a new dict

    def profile(self, name: str) -> Profile:
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles)) or "(none)"
            raise ProfileError(
                f"no sandbox profile named {name!r}; the policy defines: {known}. "
                f"Add it under sandbox.profiles in warden.yaml or pick one with --profile."
            ) from None


def _str_list(where: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise ProfileError(f"{where} must be a list of non-empty strings, e.g. [\"build/\", \"~/.cache/pip\"]")
    return tuple(value)


def _bool(where: str, value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ProfileError(f"{where} must be true or false, got {value!r}")
    return value


def _limits(where: str, value: Any) -> Limits:
    if value is None:
        return Limits()
    if not isinstance(value, Mapping):
        raise ProfileError(f"{where} must be a mapping like {{cpu_seconds: 600, memory_mb: 4096}}")
    unknown = set(value) - set(DEFAULT_LIMITS)
    if unknown:
        raise ProfileError(f"{where}: unknown limit(s) {sorted(unknown)}; known: {sorted(DEFAULT_LIMITS)}")
    out = dict(DEFAULT_LIMITS)
    for key, raw in value.items():
        # bool is an int subclass; `memory_mb: true` is a typo, not a number.
        if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= _LIMIT_MAX[key]:
            raise ProfileError(f"{where}.{key} must be an integer between 1 and {_LIMIT_MAX[key]}, got {raw!r}")
        out[key] = raw
    return Limits(**out)


def parse_profile(name: str, raw: Any) -> Profile:
    where = f"sandbox.profiles.{name}"
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ProfileError(f"{where} must be a mapping (writable, read_only, masked, network, ...)")
    unknown = set(raw) - _PROFILE_KEYS
    if unknown:
        raise ProfileError(f"{where}: unknown field(s) {sorted(unknown)}; known: {sorted(_PROFILE_KEYS)}")
    network = raw.get("network", "none")
    if network is None or network is False:
        network = "none"
    if network not in NETWORK_MODES:
        raise ProfileError(f"{where}.network must be one of {list(NETWORK_MODES)}, got {network!r}")
    domains = tuple(d.strip().lower().rstrip(".") for d in _str_list(f"{where}.allow_domains",
                                                                     raw.get("allow_domains")))
    if network == "none" and domains:
        raise ProfileError(f"{where}: allow_domains needs `network: proxy` (the network is closed with `none`)")
    private = tuple(x.strip().lower() for x in _str_list(f"{where}.allow_private", raw.get("allow_private")))
    upstream = raw.get("upstream_proxy") or ""
    if not isinstance(upstream, str) or (upstream and not _proxy_url(upstream)):
        raise ProfileError(f"{where}.upstream_proxy must be http://HOST:PORT or `env` ($HTTPS_PROXY), got {upstream!r}")
    if network == "none" and (private or upstream):
        raise ProfileError(f"{where}: allow_private and upstream_proxy need `network: proxy`")
    return Profile(
        name=name,
        writable=_str_list(f"{where}.writable", raw.get("writable")),
        read_only=_str_list(f"{where}.read_only", raw.get("read_only")),
        masked=_str_list(f"{where}.masked", raw.get("masked")),
        network=network,
        allow_domains=domains,
        env_allow=_str_list(f"{where}.env_allow", raw.get("env_allow")),
        limits=_limits(f"{where}.limits", raw.get("limits")),
        allow_private=private,
        upstream_proxy=upstream,
    )


def _proxy_url(value: str) -> bool:
    if value == "env":
        return True
    rest = value.removeprefix("http://")
    host, _, port = rest.rstrip("/").rpartition(":")
    return rest != value and bool(host) and port.isdigit() and "/" not in host


def upstream_address(profile: Profile, environ: Mapping[str, str]) -> tuple[str, int] | None:
    """(host, port) of the profile's upstream proxy; ``env`` reads $HTTPS_PROXY / $https_proxy."""
    value = profile.upstream_proxy
    if value == "env":
        value = environ.get("HTTPS_PROXY") or environ.get("https_proxy") or ""
        if not value:
            raise ProfileError(f"sandbox.profiles.{profile.name}.upstream_proxy is `env` but $HTTPS_PROXY is not set")
        if not _proxy_url(value):
            raise ProfileError(f"$HTTPS_PROXY must be http://HOST:PORT for the sandbox's upstream, got {value!r}")
    if not value:
        return None
    host, _, port = value.removeprefix("http://").rstrip("/").rpartition(":")
    return host.strip("[]"), int(port)


def parse_sandbox_section(raw: Any) -> SandboxSettings:
    """``gw.policy.sandbox`` (or None) -> :class:`SandboxSettings`; raises :class:`ProfileError`."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ProfileError("the policy's sandbox section must be a mapping (claude_code, allow_unsandboxed, profiles)")
    unknown = set(raw) - _SECTION_KEYS
    if unknown:
        raise ProfileError(f"sandbox: unknown field(s) {sorted(unknown)}; known: {sorted(_SECTION_KEYS)}")
    profiles_raw = raw.get("profiles") or {}
    if not isinstance(profiles_raw, Mapping):
        raise ProfileError("sandbox.profiles must be a mapping of profile name -> profile")
    profiles = {"default": Profile(), "net": Profile(name="net", network="proxy", allow_domains=NET_DOMAINS)}
    for name, body in profiles_raw.items():
        if not isinstance(name, str) or not name:
            raise ProfileError(f"sandbox.profiles: profile names must be non-empty strings, got {name!r}")
        profiles[name] = parse_profile(name, body)
    return SandboxSettings(
        claude_code=_bool("sandbox.claude_code", raw.get("claude_code")),
        allow_unsandboxed=_bool("sandbox.allow_unsandboxed", raw.get("allow_unsandboxed")),
        profiles=profiles,
    )
