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


class CleanMemo:
    """A redactor that remembers the texts it found nothing in, so a long-running service (the team
    server) does not rescan the same rule reasons, sources, paths and commands on every decision.

    Only texts the engine left unchanged are remembered: a text holding a secret is never kept, and is
    scanned again every time. :meth:`known_clean` also answers for the built-in backstop
    (:func:`basic_redact`), asked once per text the second time it is seen. Bounded in entries and in
    text length; the whole memo is dropped when full (cheap, and it refills with what is common). The
    answer for any text is exactly the wrapped redactor's.
    """

    MAX_ENTRIES = 16384
    MAX_TEXT = 1024
    _ENGINE_CLEAN, _CLEAN, _BACKSTOP_CHANGES = 1, 2, 3

    def __init__(self, engine: Callable[[str], str]) -> None:
        self.engine = engine
        self._seen: dict[str, int] = {}

    def __call__(self, text: str) -> str:
        if text in self._seen:
            return text
        out = self.engine(text)
        if out == text and len(text) <= self.MAX_TEXT:
            if len(self._seen) >= self.MAX_ENTRIES:
                self._seen = {}
            self._seen[text] = self._ENGINE_CLEAN
        return out

    def known_clean(self, text: str) -> bool:
        """True when this text is known to come out of the engine and the backstop unchanged."""
        state = self._seen.get(text)
        if state == self._ENGINE_CLEAN:
            from warden.core.audit.redact import basic_redact

            state = self._CLEAN if basic_redact(text) == text else self._BACKSTOP_CHANGES
            self._seen[text] = state
        return state == self._CLEAN
