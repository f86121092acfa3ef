"""Canonical JSON: the exact bytes that are hashed, MAC'd and stored.

Sorted keys, no insignificant whitespace, UTF-8, no NaN/Infinity. Stores keep these bytes
verbatim and the verifier hashes the stored bytes, so a reader never has to reproduce the
serialization (floats included) to check the chain.
"""

from __future__ import annotations

import json
from typing import Any


class CanonicalError(ValueError):
    """The event cannot be serialized canonically (NaN, non-string keys, unknown types)."""


def canonical_json(obj: Any) -> str:
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise CanonicalError(f"audit event is not plain JSON: {exc}") from None


def canonical_bytes(obj: Any) -> bytes:
    return canonical_json(obj).encode("utf-8")
