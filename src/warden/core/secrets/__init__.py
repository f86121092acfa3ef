"""Secret detection and redaction (pure: text in, findings out).

    from warden.core.secrets import scan_text, redact
    findings = scan_text(text)                 # [Finding(rule_id, start, end, line, ...)]
    red = redact(text, key)                    # red.text has [REDACTED:<rule-id>:<6 hex>]

Findings never expose the secret in ``repr`` or ``to_json``; identify them with
``finding.fingerprint(key)`` (HMAC-SHA256). See docs/secrets.md.
"""

from __future__ import annotations

from functools import lru_cache
from collections.abc import Iterable, Iterator

from typing import TYPE_CHECKING, Any

from warden.core.secrets.engine import ALLOW_MARKERS, RuleError, Ruleset
from warden.core.secrets.model import Allowlist, Finding, Redaction, Rule

if TYPE_CHECKING:
    from warden.core.secrets.gitleaks import GitleaksConfigError, load_gitleaks_toml

__all__ = [
    "ALLOW_MARKERS",
    "MARKER_PATTERN",
    "Allowlist",
    "Finding",
    "GitleaksConfigError",
    "Redaction",
    "Rule",
    "RuleError",
    "Ruleset",
    "default_ruleset",
    "load_gitleaks_toml",
    "redact",
    "redact_data",
    "redact_stream",
    "scan_stream",
    "scan_text",
]

# What a redaction marker looks like, for consumers that must recognise one.
MARKER_PATTERN = r"\[REDACTED:[A-Za-z0-9_.\-]+:[0-9a-f]{6}\]"


def __getattr__(name: str) -> Any:
    # The TOML loader (and tomllib) stay out of the hook's import path until asked for.
    if name in ("GitleaksConfigError", "load_gitleaks_toml"):
        from warden.core.secrets import gitleaks

        return getattr(gitleaks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@lru_cache(maxsize=1)
def default_ruleset() -> Ruleset:
    """The built-in rules (cached: regexes compile lazily and stay compiled)."""
    from warden.core.secrets.rules import RULES

    return Ruleset(rules=RULES)


def scan_text(text: str, ruleset: Ruleset | None = None, *, path: str = "") -> list[Finding]:
    return (ruleset or default_ruleset()).scan(text, path)


def scan_stream(chunks: Iterable[str], ruleset: Ruleset | None = None, *, path: str = "") -> Iterator[Finding]:
    return (ruleset or default_ruleset()).scan_stream(chunks, path)


def redact(text: str, key: bytes, ruleset: Ruleset | None = None) -> Redaction:
    from warden.core.secrets.redaction import redact_text

    return redact_text(text, key, ruleset or default_ruleset())


def redact_data(value: Any, key: bytes, ruleset: Ruleset | None = None) -> tuple[Any, list[str], list[Finding]]:
    """Redact every string in JSON-like data: ``(copy, masked field paths, findings)``."""
    from warden.core.secrets.redaction import redact_data as _redact_data

    return _redact_data(value, key, ruleset or default_ruleset())


def redact_stream(
    chunks: Iterable[str], key: bytes, ruleset: Ruleset | None = None, found: list[Finding] | None = None
) -> Iterator[str]:
    from warden.core.secrets.redaction import redact_chunks

    return redact_chunks(chunks, key, ruleset or default_ruleset(), found)
