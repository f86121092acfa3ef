"""Environment scrubbing: credential-looking variables never reach the sandboxed command.

A variable is removed when its *name* looks like a credential (TOKEN, SECRET, PASSWORD, API_KEY,
AWS_*, ...), when it points at an agent or credential socket (SSH_AUTH_SOCK, GPG_AGENT_INFO), or
when its *value* looks like one (known token prefixes, PEM blocks, URLs with a password, or a hit of
the secrets engine ``warden.core.secrets`` when that module is installed). Names matching the
profile's ``env_allow`` globs are kept whatever they look like: that is the explicit escape hatch.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping

from warden.core.credentials import catalogue

# Plain substring and prefix tests rather than regexes: this runs on every `warden exec`, and
# compiling patterns would cost more than scanning a few dozen variables. The name rules are the
# catalogue's (warden/core/credentials.json), like the file locations the sandbox masks.
_NAMES = catalogue().env_names
_NAME_PARTS = _NAMES.parts
_NAME_SUFFIXES = _NAMES.suffixes
_NAME_PREFIXES = _NAMES.prefixes
_SOCKET_NAMES = _NAMES.exact
_NAME_OK = _NAMES.ok
# (prefix, minimum length of the token body after it, allowed body characters)
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_TOKEN = _ALNUM | frozenset("_-")
_UPPER_DIGITS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_VALUE_PREFIXES: tuple[tuple[str, int, frozenset[str]], ...] = (
    ("ghp_", 20, _TOKEN), ("gho_", 20, _TOKEN), ("ghu_", 20, _TOKEN), ("ghs_", 20, _TOKEN), ("ghr_", 20, _TOKEN),
    ("github_pat_", 20, _TOKEN), ("glpat-", 20, _TOKEN), ("AKIA", 16, _UPPER_DIGITS), ("ASIA", 16, _UPPER_DIGITS),
    ("sk-", 20, _TOKEN), ("xoxb-", 10, _TOKEN), ("xoxp-", 10, _TOKEN), ("xoxa-", 10, _TOKEN),
    ("xoxs-", 10, _TOKEN), ("xoxr-", 10, _TOKEN), ("AIza", 35, _TOKEN), ("npm_", 36, _ALNUM),
    ("hf_", 30, _ALNUM), ("eyJ", 30, _TOKEN | frozenset(".")),
)
_MAX_VALUE_SCAN = 64 * 1024


def _has_token(value: str, prefix: str, minimum: int, chars: frozenset[str]) -> bool:
    start = value.find(prefix)
    while start >= 0:
        if start == 0 or value[start - 1] not in _TOKEN:  # a token starts at a word boundary
            body = value[start + len(prefix):start + len(prefix) + minimum]
            if len(body) == minimum and all(c in chars for c in body):
                return True
        start = value.find(prefix, start + 1)
    return False


def _url_with_password(value: str) -> bool:
    """``scheme://user:password@host`` anywhere in the value."""
    start = value.find("://")
    while start >= 0:
        authority = value[start + 3:].split("/", 1)[0]
        userinfo, at, _ = authority.rpartition("@")
        if at and ":" in userinfo and userinfo.split(":", 1)[1]:
            return True
        start = value.find("://", start + 3)
    return False


_STRICT: list[object] = []


def _strict_ruleset() -> object:
    """The secrets engine's rules without the entropy floors, placeholder checks and example
    allowlists that keep *text* scans quiet: in an environment a low-entropy tail
    (``ghp_aaaa...``, ``sk-ant-...xxxx``) is still a token of that shape, and dropping a variable
    by mistake costs far less than passing a real one."""
    if not _STRICT:
        from dataclasses import replace

        from warden.core.secrets import Ruleset
        from warden.core.secrets.rules import RULES

        _STRICT.append(Ruleset(rules=tuple(
            replace(r, entropy=0.0, allowlists=(), checks=tuple(c for c in r.checks if c != "placeholder"))
            for r in RULES), allow_markers=()))
    return _STRICT[0]


def _engine_detector() -> Callable[[str], bool] | None:
    """The secrets engine (strict, see above) as a value detector; None (built-in patterns only) if it cannot load."""
    try:
        from warden.core.secrets import scan_text

        ruleset = _strict_ruleset()
    except Exception:
        return None

    def detect(value: str) -> bool:
        try:
            return bool(scan_text(value, ruleset))  # type: ignore[arg-type]
        except Exception:
            return False  # the built-in patterns still apply

    return detect


def engine_flags(env: Mapping[str, str]) -> list[str]:
    """Names whose values the secrets engine recognises as credentials (run where it is warm)."""
    detect = _engine_detector()
    if detect is None:
        return []
    return sorted(name for name, value in env.items() if detect(value[:_MAX_VALUE_SCAN]))


def is_credential_name(name: str) -> bool:
    upper = name.upper()
    if upper in _NAME_OK:
        return False
    if upper in _SOCKET_NAMES or upper.startswith(_NAME_PREFIXES) or upper.endswith(_NAME_SUFFIXES):
        return True
    return any(part in upper for part in _NAME_PARTS)


def is_credential_value(value: str, detector: Callable[[str], bool] | None = None) -> bool:
    sample = value[:_MAX_VALUE_SCAN]
    if "PRIVATE KEY-----" in sample or _url_with_password(sample):
        return True
    if any(_has_token(sample, p, n, chars) for p, n, chars in _VALUE_PREFIXES):
        return True
    return bool(detector and detector(sample))


def scrub_env(
    env: Mapping[str, str],
    allow: Iterable[str] = (),
    *,
    use_engine: bool = True,
    flagged: Iterable[str] | None = None,
) -> tuple[dict[str, str], list[str]]:
    """Return ``(kept, removed_names)``. Values are never returned for removed variables.

    ``flagged``: names the secrets engine already judged (by the warm daemon, over this same
    environment), which spares this process from loading the engine.
    """
    allow = tuple(allow)
    if flagged is not None:
        known = frozenset(flagged)
        detector: Callable[[str], bool] | None = None
    else:
        known = frozenset()
        detector = _engine_detector() if use_engine else None
    kept: dict[str, str] = {}
    removed: list[str] = []
    for name, value in env.items():
        if any(fnmatch.fnmatchcase(name, pat) for pat in allow):
            kept[name] = value
        elif name in known or is_credential_name(name) or is_credential_value(value, detector):
            removed.append(name)
        else:
            kept[name] = value
    return kept, sorted(removed)
