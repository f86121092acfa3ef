"""The keyed redactor every adapter uses: secrets engine + the fingerprint key in $WARDEN_HOME.

Markers look like ``[REDACTED:github-pat:3f9a1c]``: the rule and a keyed fingerprint, never
the secret, so the same secret maps to the same marker across tool outputs and audit events
on one machine without being recoverable from either.
"""

from __future__ import annotations

import os
from collections.abc import Callable

FINGERPRINT_KEY = "fingerprint"


def fingerprint_key(home: str | os.PathLike[str]) -> bytes:
    from warden.adapters.keys import load_or_create_key

    return load_or_create_key(home, FINGERPRINT_KEY)


def redactor_for(home: str | os.PathLike[str]) -> Callable[[str], str]:
    """text -> text with every detected secret replaced by its marker (calls the engine directly)."""
    from warden.core.secrets import redact

    key = fingerprint_key(home)

    def redact_text(text: str) -> str:
        return redact(text, key).text

    return redact_text
