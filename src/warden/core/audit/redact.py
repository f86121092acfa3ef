"""A small last-line redactor used when no secrets engine is handed to the event builders.

The real detector (``warden.core.secrets``) knows hundreds of rules; this one only keeps the
most common credential shapes out of the log if a caller forgot to pass ``redact=``. Every
pattern is bounded (no nested quantifiers, capped repetitions) so it runs in linear time.
"""

from __future__ import annotations

import re

_PATTERNS: list[tuple[str, re.Pattern[str], str]] = [
    ("private-key", re.compile(r"-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----[\s\S]{0,16384}?-----END [A-Z ]{0,40}PRIVATE KEY-----"),
     "[REDACTED:private-key]"),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "[REDACTED:aws-access-key]"),
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})"),
     "[REDACTED:github-token]"),
    ("slack-token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,250}"), "[REDACTED:slack-token]"),
    ("api-key", re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,250}"), "[REDACTED:api-key]"),
    ("bearer", re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/-]{16,1024}=*"), r"\1[REDACTED:bearer]"),
    ("url-password", re.compile(r"(://[^/\s:@]{1,256}:)[^@\s/]{1,256}@"), r"\1[REDACTED:password]@"),
    ("assignment", re.compile(
        r"(?i)\b((?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)[A-Za-z0-9_]{0,32}\s{0,4}[=:]\s{0,4}[\"']?)"
        r"([^\s\"'&;\[]{4,512})"), r"\1[REDACTED:assignment]"),
]


_MARKER = re.compile(r"(\[REDACTED[^\]\s]{0,160}\])")


def basic_redact(text: str) -> str:
    if len(text) < 8:
        return text
    if "[REDACTED" in text:  # already redacted upstream: keep its markers (and fingerprints) intact
        parts = _MARKER.split(text)
        return "".join(p if i % 2 else _apply(p) for i, p in enumerate(parts))
    return _apply(text)


def _apply(text: str) -> str:
    for _name, pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text
