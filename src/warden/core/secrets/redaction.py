"""Redaction: replace each secret with ``[REDACTED:<rule-id>:<6 hex>]``.

The six hex digits are a prefix of HMAC-SHA256(key, secret): the same secret under the
same key always gets the same marker (so a log reader can tell "the same token again"),
yet the marker reveals nothing without the key. Works on a string or a stream of chunks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

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


def redact_data(value: Any, key: bytes, ruleset: Ruleset, *, max_depth: int = 64) -> tuple[Any, list[str], list[Finding]]:
    """Redact every string inside JSON-like data (dicts, lists, strings; keys too).

    Returns ``(redacted copy, masked field paths, findings)``; the paths (``tool_input.content``,
    ``edits[2].new_string``) say exactly which fields were changed, for audit records.
    Containers nested deeper than ``max_depth`` are replaced by a marker, never passed on
    unscanned.
    """
    masked: list[str] = []
    found: list[Finding] = []

    def walk(v: Any, path: str, depth: int) -> Any:
        if isinstance(v, str):
            red = redact_text(v, key, ruleset)
            if red.findings:
                masked.append(path or "$")
                found.extend(red.findings)
            return red.text
        if isinstance(v, (dict, list, tuple)) and depth >= max_depth:
            masked.append(path or "$")
            return "[REDACTED:too-deep]"
        if isinstance(v, dict):
            out = {}
            for k, item in v.items():
                new_k = walk(k, f"{path}.<key>" if path else "<key>", depth + 1) if isinstance(k, str) else k
                out[new_k] = walk(item, f"{path}.{k}" if path else str(k), depth + 1)
            return out
        if isinstance(v, (list, tuple)):
            return [walk(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(v)]
        return v

    return walk(value, "", 0), masked, found
