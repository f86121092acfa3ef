"""What the core needs from the outside world, as narrow Protocols.

Adapters implement these (``warden.adapters.*``); tests may use the in-memory ones
shipped next to them. The core never imports an adapter (house rule 1).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class AuditStore(Protocol):
    """Append-only, tamper-evident event log.

    ``append`` returns only after the event is durable; it raises on any failure, and the
    caller then fails closed (an action whose evidence cannot be written is denied).
    """

    def append(self, event: Mapping[str, Any]) -> str: ...

    def iter_events(self) -> Iterator[Mapping[str, Any]]: ...

    def close(self) -> None: ...


class KeyStore(Protocol):
    """Holds secret keys outside the audit database (MAC keys, fingerprint keys)."""

    def get_key(self, name: str) -> bytes: ...


class Clock(Protocol):
    def now(self) -> float: ...  # seconds since the epoch

    def monotonic(self) -> float: ...


class PathResolver(Protocol):
    """Resolves symlinks for analyzers without giving the core file-system access."""

    def realpath(self, path: str) -> str: ...
