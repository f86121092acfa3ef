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

    Implemented by ``warden.adapters.store`` (SQLite, PostgreSQL); both pass
    ``tests/audit/test_audit_port_contract.py``.

    ``append`` returns only after the event is durable; it raises on any failure, and the
    caller then fails closed (an action whose evidence cannot be written is denied).
    """

    def append(self, event: Mapping[str, Any]) -> str: ...

    def iter_events(self) -> Iterator[Mapping[str, Any]]: ...

    def close(self) -> None: ...


class KeyStoreError(RuntimeError):
    """A key cannot be loaded or created; the message says what to do. Callers fail closed."""


@runtime_checkable
class KeyStore(Protocol):
    """Holds secret keys outside the audit database (MAC keys, fingerprint keys).

    ``get_key(name)`` returns the same 32 bytes for the same name for the store's lifetime
    (creating the key on first use), different keys for different names, and raises
    :class:`KeyStoreError` for an invalid name or an unusable store: never a weak or guessed key.
    Implemented by ``warden.adapters.keys.FileKeyStore`` ($WARDEN_HOME/keys) and ``MemoryKeyStore``;
    both pass ``tests/test_key_port_contract.py``.
    """

    def get_key(self, name: str) -> bytes: ...


class Clock(Protocol):
    def now(self) -> float: ...  # seconds since the epoch

    def monotonic(self) -> float: ...


class PathResolver(Protocol):
    """Resolves symlinks for analyzers without giving the core file-system access."""

    def realpath(self, path: str) -> str: ...


class StateError(RuntimeError):
    """The control state (approvals, grants, kills, counters, taint) cannot be read or written.

    Callers fail closed: a kill switch or a limit whose state is unreadable denies, a grant that
    cannot be checked is not used.
    """


@runtime_checkable
class StateStore(Protocol):
    """Approvals, grants, kill switches, counters and taint: the memory of the control loop.

    Implemented by ``warden.adapters.state.sqlite`` (local, ``$WARDEN_HOME/state.db``) and
    ``warden.adapters.state.postgres`` (team server); both pass ``tests/control/test_state_contract.py``.
    Every method that changes state is one transaction, and every rule that protects a
    decision (separation of duties, quorum, single use of a ``once`` grant, the counter
    increment) is applied inside it, so concurrent processes cannot break it. All methods
    raise :class:`StateError` (or ``ApprovalError`` for a refused vote) and never return a
    guess. ``now`` is always passed in: the store never reads a clock.
    """

    location: str

    # approvals
    def create_request(self, req: Any) -> Any: ...  # ApprovalRequest -> the stored (maybe existing) one
    def get_request(self, request_id: str) -> Any | None: ...
    def find_request(self, *, action_digest: str = "", tool_use_id: str = "") -> Any | None: ...
    def list_requests(self, *, status: str | None = None, limit: int = 100) -> list[Any]: ...
    def vote(self, request_id: str, who: Any, approve: bool, reason: str, now: float, *,
             policy_digest: str | None = None, grant: str | None = None) -> tuple[Any, Any | None]: ...
    def expire_requests(self, now: float) -> list[Any]: ...
    def use_grant(self, *, rule_id: str, policy_digest: str, action_digest: str, shape: str, session: str,
                  now: float) -> Any | None: ...  # the Grant used (a once grant is consumed), or None
    def grants(self, *, active_at: float | None = None) -> list[Any]: ...
    def wait_request(self, request_id: str, timeout: float) -> Any | None: ...  # blocks until decided
    def listen(self) -> None: ...  # start receiving change notifications
    def wait_for_change(self, timeout: float) -> None: ...  # blocks until some change (or timeout)

    # kill switch
    def kill(self, switch: Any) -> int: ...  # KillSwitch -> number of grants/requests revoked
    def resume(self, scope: str, value: str) -> bool: ...
    def kills(self) -> list[Any]: ...

    # limits, loop breaker, tasks
    def hit(self, key: str, expires_at: float, now: float) -> int: ...  # atomic increment -> new count
    def count(self, keys: list[tuple[str, float]], repeat: tuple[str, str] | None,
              now: float) -> tuple[list[int], int]: ...  # several increments + the loop repeat, one transaction
    def counters(self, now: float) -> list[tuple[str, int, float]]: ...
    def repeat(self, session: str, digest: str) -> int: ...  # consecutive identical actions so far
    def next_task(self, session: str) -> int: ...
    def task(self, session: str) -> int: ...

    def control_snapshot(self, session: str) -> tuple[list[Any], list[Any]]: ...  # (kills, session taint)

    # taint
    def add_taint(self, session: str, origin: Any) -> None: ...
    def taint(self, session: str) -> list[Any]: ...

    # running sandboxes (so a kill can stop them)
    def register_run(self, run_id: str, pid: int, *, session: str, agent: str, actor: str, now: float) -> None: ...
    def unregister_run(self, run_id: str) -> None: ...
    def runs(self) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...
