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


def redactor_for(home: str | os.PathLike[str] | KeyStore, pii_kinds: tuple[str, ...] | None = None) -> Callable[[str], str]:
    """text -> text with every detected secret, and the personal data kinds that are always redacted
    (payment cards, SSNs, national ids; more when the policy's ``data.redact`` asks), replaced by markers."""
    from warden.core.pii import DEFAULT_REDACT, redact_pii
    from warden.core.secrets import redact

    key = fingerprint_key(home)
    kinds = tuple(dict.fromkeys((*DEFAULT_REDACT, *(pii_kinds or ()))))

    def redact_text(text: str) -> str:
        out = redact(text, key).text
        if (len(out) >= 9 and any(c.isdigit() for c in out)) or (len(out) >= 9 and len(kinds) > len(DEFAULT_REDACT)):  # every default kind has digits
            out = redact_pii(out, key, kinds)[0]
        return out

    return redact_text
