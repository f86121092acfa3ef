"""Redact every string of a model request body with one pass of the secrets engine.

A request is hundreds of strings (system prompt, tool definitions, messages, tool results). Calling
the engine once per string costs a fixed overhead each time; instead every string is joined into
one text (with a separator no rule matches across), scanned once, and the findings are mapped back
to the strings they fall in. Only strings with a finding are rewritten, and a body without any
finding is forwarded byte for byte.

Fields that are opaque to the model or integrity-checked by the provider (thinking signatures,
encrypted reasoning, base64 media) are left alone: changing them would break the request, and they
carry no text the model reads as text.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from warden.core.secrets.engine import Ruleset
from warden.core.secrets.redaction import apply_markers

SKIP_KEYS = frozenset({"signature", "encrypted_content", "data", "model", "type", "role", "id", "tool_use_id",
                       "call_id", "tool_call_id", "media_type", "cache_control", "stop_reason"})
_SEP = "\n\x00\n"  # no rule matches across a NUL between blank-ish lines
MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class Redacted:
    path: str
    rule: str


class CleanCache:
    """Digests of strings already scanned and found clean.

    An agent sends the whole conversation again every turn: the system prompt, the tool definitions
    and every earlier tool result are the same strings as last time. Remembering which long strings
    were clean means each turn scans only what is new. Bounded (LRU); a string with a finding is
    never cached, so it is redacted again every time it is sent.
    """

    MIN_CHARS = 256  # shorter strings cost less to scan than to hash and look up

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self.hits = 0

    @staticmethod
    def digest(text: str) -> bytes:
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def known(self, d: bytes) -> bool:
        if d in self._seen:
            self._seen.move_to_end(d)
            self.hits += 1
            return True
        return False

    def add(self, d: bytes) -> None:
        self._seen[d] = None
        if len(self._seen) > self.size:
            self._seen.popitem(last=False)


@dataclass(frozen=True, slots=True)
class _PiiAsFinding:
    """A personal-data finding shaped like a secrets finding, so one marker pass handles both."""

    kind: str
    start: int
    end: int
    value: str

    @property
    def rule_id(self) -> str:
        return f"pii-{self.kind}"

    def marker(self, key: bytes) -> str:
        from warden.core.pii import marker

        return marker(self.kind, self.value, key)


def _collect(value: Any, path: str, depth: int, out: list[tuple[Any, Any, str, str]], parent: Any, key: Any) -> None:
    if isinstance(value, str):
        out.append((parent, key, path, value))
    elif depth >= MAX_DEPTH:
        out.append((parent, key, path, ""))  # too deep to judge: replaced below
    elif isinstance(value, dict):
        for k, v in value.items():
            if k in SKIP_KEYS and not isinstance(v, (dict, list)):
                continue
            _collect(v, f"{path}.{k}" if path else str(k), depth + 1, out, value, k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _collect(v, f"{path}[{i}]", depth + 1, out, value, i)


def redact_body(body: Any, ruleset: Ruleset, key: bytes, cache: CleanCache | None = None,
                pii_kinds: tuple[str, ...] = ("card", "ssn", "national_id")) -> tuple[bool, list[Redacted]]:
    """Redact ``body`` in place; returns (changed, what was redacted: field path and rule id)."""
    slots: list[tuple[Any, Any, str, str]] = []
    _collect(body, "", 0, slots, None, None)
    digests: dict[int, bytes] = {}
    if cache is not None:
        keep: list[tuple[Any, Any, str, str]] = []
        for slot in slots:
            text = slot[3]
            if len(text) >= cache.MIN_CHARS:
                d = cache.digest(text)
                if cache.known(d):
                    continue
                digests[len(keep)] = d
            keep.append(slot)
        slots = keep
    if not slots:
        return False, []
    starts: list[int] = []
    pos = 0
    for _, _, _, text in slots:
        starts.append(pos)
        pos += len(text) + len(_SEP)
    joined = _SEP.join(s[3] for s in slots)
    findings: list[Any] = list(ruleset.scan(joined))
    if pii_kinds:  # personal data, with the same markers as everywhere else (pii-<kind>)
        from warden.core.pii import scan_pii

        taken = [(f.start, f.end) for f in findings]
        for p in scan_pii(joined, pii_kinds):
            if not any(a < p.end and p.start < b for a, b in taken):
                findings.append(_PiiAsFinding(p.kind, p.start, p.end, joined[p.start:p.end]))
        findings.sort(key=lambda f: f.start)
    too_deep = [i for i, s in enumerate(slots) if s[3] == "" and s[0] is not None and not isinstance(s[0][s[1]], str)]
    per_slot: dict[int, list[Any]] = {}
    for f in findings:
        i = bisect_right(starts, f.start) - 1
        per_slot.setdefault(i, []).append(f)
    if cache is not None:
        for i, d in digests.items():
            if i not in per_slot:
                cache.add(d)
    if not findings and not too_deep:
        return False, []
    out: list[Redacted] = []
    for i, found in per_slot.items():
        parent, k, path, text = slots[i]
        base = starts[i]
        # clip a finding to its own string (the separator keeps rules from spanning two)
        own = [f for f in found if f.end - base <= len(text)]
        if not own or parent is None:
            continue
        parent[k] = apply_markers(text, own, key, base=base)
        out.extend(Redacted(path, f.rule_id) for f in own)
    for i in too_deep:
        parent, k, path, _ = slots[i]
        parent[k] = "[REDACTED:too-deep]"
        out.append(Redacted(path, "too-deep"))
    return bool(out), out
