"""Redaction: replace each secret with ``[REDACTED:<rule-id>:<6 hex>]``.

The six hex digits are a prefix of HMAC-SHA256(key, secret): the same secret under the
same key always gets the same marker (so a log reader can tell "the same token again"),
yet the marker reveals nothing without the key. Works on a string or a stream of chunks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from warden.core.secrets.engine import Ruleset
from warden.core.secrets.model import Finding, Redaction


def apply_markers(text: str, findings: Sequence[Finding], key: bytes, base: int = 0) -> str:
    """Replace the (non-overlapping, sorted) findings' spans in ``text``."""
    parts: list[str] = []
    pos = 0
    for f in findings:
        s, e = f.start - base, f.end - base
        if s < pos:  # defensive: overlapping spans were already merged by the engine
            continue
        parts.append(text[pos:s])
        parts.append(f.marker(key))
        pos = e
    parts.append(text[pos:])
    return "".join(parts)


def redact_text(text: str, key: bytes, ruleset: Ruleset) -> Redaction:
    findings = ruleset.scan(text)
    return Redaction(apply_markers(text, findings, key) if findings else text, tuple(findings))


def redact_chunks(chunks: Iterable[str], key: bytes, ruleset: Ruleset, counts: list[Finding] | None = None
                  ) -> Iterator[str]:
    """Redacted text for a stream, piece by piece, in bounded memory.

    Findings are appended to ``counts`` when given (for reporting how many were replaced).
    """
    offset = 0
    for piece, findings in ruleset._stream(chunks, "", emit_text=True):
        if counts is not None:
            counts.extend(findings)
        yield apply_markers(piece, findings, key, base=offset) if findings else piece
        offset += len(piece)
