"""Value types of the secrets engine: rules, allowlists, findings, redactions.

A :class:`Finding` carries the matched secret only in a private slot so that it can be
fingerprinted and redacted; it never appears in ``repr``, ``to_json`` or equality.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

# Marker shape shared by redaction, docs and tests: [REDACTED:<rule-id>:<6 hex>]
MARKER_HEX = 6
# Baseline fingerprints are longer prefixes of the same HMAC, so a marker's 6 hex digits
# are always a prefix of the finding's baseline fingerprint.
FINGERPRINT_HEX = 16


IDENTITY_HEX = 32
SECRET_MASK = "\x00secret\x00"  # what a secret becomes in the context line before hashing


def masked_line_hash(line: str, spans: list[tuple[int, int]]) -> str:
    """SHA-256 of ``line`` with every secret span masked and outer whitespace dropped.

    The mask is what makes this safe to publish: the hash depends on the words around the
    secret (``DB_PASSWORD=``), never on the secret, so it is no guessing oracle.
    """
    parts: list[str] = []
    pos = 0
    for s, e in sorted(spans):
        if s < pos:
            continue
        parts.append(line[pos:s])
        parts.append(SECRET_MASK)
        pos = e
    parts.append(line[pos:])
    return hashlib.sha256("".join(parts).strip().encode("utf-8", "surrogatepass")).hexdigest()[:IDENTITY_HEX]


def keyed_digest(key: bytes, secret: str) -> str:
    """HMAC-SHA256 of the secret, hex. The one place secrets are hashed."""
    return hmac.new(key, secret.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Allowlist:
    """gitleaks-style allowlist: a finding is dropped when the allowlist matches it.

    ``condition`` OR: any configured check matching is enough; AND: every configured check
    must match. ``regex_target`` picks what ``regexes`` test: the secret, the whole match or
    the line.
    """

    description: str = ""
    regexes: tuple[str, ...] = ()
    regex_target: str = "secret"  # secret | match | line
    paths: tuple[str, ...] = ()
    stopwords: tuple[str, ...] = ()  # lower-case substrings of the secret
    condition: str = "OR"
    target_rules: tuple[str, ...] = ()  # global allowlists only: empty = all rules
    commits: tuple[str, ...] = ()  # history scans: commit shas (or unique prefixes) to allow


@dataclass(frozen=True, slots=True)
class Rule:
    """One credential type.

    ``keywords`` feed the Aho-Corasick prefilter (lower-case; the rule runs only where one
    occurs). ``window`` says how much text around a keyword hit the regex sees: ``line``
    (the hit's line, clipped on huge lines), ``block`` (from the hit's line onward, for
    multi-line PEM blocks) or ``fragment`` (the whole text, gitleaks semantics, used for
    imported rules). ``checks`` name post-match validators in :mod:`.filters`.
    """

    id: str
    description: str
    regex: str
    keywords: tuple[str, ...] = ()
    secret_group: int | None = None  # None: first non-empty group, else the whole match
    entropy: float = 0.0
    window: str = "line"
    checks: tuple[str, ...] = ("placeholder",)
    allowlists: tuple[Allowlist, ...] = ()
    path: str = ""  # regex on the file path; with no regex the path itself is the finding
    tags: tuple[str, ...] = ()
    generic: bool = False  # generic rules lose to specific ones on overlapping spans


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    description: str
    start: int  # offsets of the secret in the scanned text (characters)
    end: int
    line: int  # 1-based
    column: int  # 1-based
    path: str = ""
    end_line: int = 0  # line and column just past the secret (multi-line keys span lines)
    end_column: int = 0
    entropy: float = 0.0
    line_hash: str = ""  # masked_line_hash of the line it is on (keyless, reveals nothing about the secret)
    _secret: str = field(default="", repr=False, compare=False)

    def identity(self, path: str | None = None, commit: str = "") -> str:
        """Portable, keyless identity: rule, file, masked context line and (history) commit.

        The same on every machine and in CI, with no shared key: what baselines and SARIF
        ``partialFingerprints`` use. Moving the line keeps it; changing the words around the
        secret, renaming the file, or (for history findings) another commit changes it.
        """
        doc = f"{self.rule_id}\0{self.path if path is None else path}\0{self.line_hash}\0{commit}"
        return hashlib.sha256(doc.encode("utf-8", "surrogatepass")).hexdigest()[:IDENTITY_HEX]

    def fingerprint(self, key: bytes, length: int = FINGERPRINT_HEX) -> str:
        """Keyed fingerprint of the secret (HMAC-SHA256, hex prefix)."""
        return keyed_digest(key, self._secret)[:length]

    def marker(self, key: bytes) -> str:
        return f"[REDACTED:{self.rule_id}:{self.fingerprint(key, MARKER_HEX)}]"

    def to_json(self, key: bytes | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule_id": self.rule_id,
            "description": self.description,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "start": self.start,
            "end": self.end,
            "length": self.end - self.start,
            "entropy": round(self.entropy, 2),
        }
        if key is not None:
            out["fingerprint"] = self.fingerprint(key)
        return out


@dataclass(frozen=True, slots=True)
class Redaction:
    text: str
    findings: tuple[Finding, ...]

    @property
    def changed(self) -> bool:
        return bool(self.findings)
