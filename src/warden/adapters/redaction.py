"""The keyed redactor every adapter uses: secrets engine + the fingerprint key in $WARDEN_HOME.

Markers look like ``[REDACTED:github-pat:3f9a1c]``: the rule and a keyed fingerprint, never
the secret, so the same secret maps to the same marker across tool outputs and audit events
on one machine without being recoverable from either.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from warden.ports import KeyStore

FINGERPRINT_KEY = "fingerprint"


def fingerprint_key(home: str | os.PathLike[str] | KeyStore) -> bytes:
    """The fingerprint key from a :class:`~warden.ports.KeyStore`, or from ``$WARDEN_HOME/keys``."""
    if isinstance(home, (str, os.PathLike)):
        from warden.adapters.keys import FileKeyStore

        home = FileKeyStore(home)
    return home.get_key(FINGERPRINT_KEY)


def redactor_for(home: str | os.PathLike[str] | KeyStore) -> Callable[[str], str]:
    """text -> text with every detected secret replaced by its marker (calls the engine directly)."""
    from warden.core.secrets import redact

    key = fingerprint_key(home)

    def redact_text(text: str) -> str:
        return redact(text, key).text

    return redact_text
