"""Personal data: detectors (detect.py) and keyed redaction, beside the secrets engine.

    from warden.core.pii import scan_pii, redact_pii
    redact_pii("card 4539 1488 0343 6467", key, kinds=("card",))   # -> "card [REDACTED:pii-card:3f9a1c]"

Markers use the same keyed fingerprint as secrets (HMAC-SHA256 prefix): the same value maps to the
same marker on one machine, and the marker reveals nothing without the key.
"""

from __future__ import annotations

from collections.abc import Iterable

from warden.core.pii.detect import KINDS, PiiFinding, scan_pii
from warden.core.secrets.model import MARKER_HEX, keyed_digest

__all__ = ["DEFAULT_REDACT", "KINDS", "PiiFinding", "marker", "redact_pii", "scan_pii"]

# What the recommended policy redacts wherever data leaves (tool outputs, prompts, audit records):
# payment cards and national ids. The other kinds are opt-in per data class.
DEFAULT_REDACT = ("card", "ssn", "national_id")


def marker(kind: str, value: str, key: bytes) -> str:
    return f"[REDACTED:pii-{kind}:{keyed_digest(key, value)[:MARKER_HEX]}]"


def redact_pii(text: str, key: bytes, kinds: Iterable[str] = DEFAULT_REDACT) -> tuple[str, list[PiiFinding]]:
    found = scan_pii(text, kinds)
    if not found:
        return text, []
    parts, pos = [], 0
    for f in found:
        parts.append(text[pos:f.start])
        parts.append(marker(f.kind, text[f.start:f.end], key))
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts), found
