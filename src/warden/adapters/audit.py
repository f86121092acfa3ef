"""The recorder the gateway calls for every decision: durable append, then telemetry.

    recorder = open_recorder(warden_home, os.environ)
    event = decision_event(action, verdict, policy_digest=..., policy_sources=..., started_at=...,
                           duration_ms=..., redact=recorder.redact)
    recorder.record(event)        # returns the event id once durable; raises AuditError otherwise
    recorder.close()              # flushes telemetry (bounded wait)

``record`` raising is the signal to fail closed: an action whose evidence cannot be written is
denied. Telemetry is best effort and never raises into the decision path.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

from warden.adapters.store import SqlAuditStore, StoreError, open_store, options_from_env
from warden.core.audit import Record, basic_redact
from warden.core.audit.canonical import CanonicalError


class AuditError(StoreError):
    """The audit event was not written; the caller must fail closed (deny)."""


class _Batch:
    __slots__ = ("done", "error", "events", "records")

    def __init__(self, events: list[Mapping[str, Any]]) -> None:
        self.events = events
        self.records: list[Record] = []
        self.error: AuditError | None = None
        self.done = False


class Recorder:
    """Thread-safe. Concurrent ``record`` calls in one process are group-committed: whoever finds
    the log idle writes every event queued so far in one durable transaction, and each caller
    returns once its own events are durable (or raises if they are not)."""

    def __init__(self, store: SqlAuditStore, telemetry: Any | None = None,
                 redact: Callable[[str], str] | None = None) -> None:
        self.store = store
        self.telemetry = telemetry
        self.redact: Callable[[str], str] = redact or basic_redact
        self.commits = 0  # durable transactions so far (group commit makes this < events)
        self._cond = threading.Condition()
        self._queue: list[_Batch] = []
        self._writing = False
        self._store_lock = threading.Lock()

    def record(self, event: Mapping[str, Any]) -> str:
        """Append one event durably, then export it. Raises :class:`AuditError` on any failure."""
        return self.record_many([event])[0]

    def record_many(self, events: Sequence[Mapping[str, Any]]) -> list[str]:
        """Append events in one durable transaction (all land or none do); returns their ids."""
        batch = _Batch(list(events))
        with self._cond:
            self._queue.append(batch)
            while self._writing and not batch.done:
                self._cond.wait()
            if not batch.done:  # the log is idle: lead a group commit of everything queued
                self._writing = True
                taken, self._queue = self._queue, []
        if not batch.done:
            try:
                self._commit(taken)
            finally:
                with self._cond:
                    self._writing = False
                    self._cond.notify_all()
        if batch.error is not None:
            raise batch.error
        if self.telemetry is not None:
            for event, rec in zip(batch.events, batch.records, strict=True):
                self.telemetry.emit({**event, "seq": rec.seq, "hash": rec.hash})
        return [str(e["id"]) for e in batch.events]

    def _commit(self, batches: list[_Batch]) -> None:
        try:
            self._append_all(batches)
        except AuditError:
            if len(batches) == 1:
                raise
            for b in batches:  # one caller's bad event must not fail the others: retry one by one
                try:
                    self._append_all([b])
                except AuditError as exc:
                    b.error = exc
        except BaseException as exc:
            for b in batches:
                b.error = AuditError(f"audit log write interrupted: {type(exc).__name__}: {exc}")
            raise
        finally:
            for b in batches:
                b.done = True

    def _append_all(self, batches: list[_Batch]) -> None:
        events = [e for b in batches for e in b.events]
        try:
            with self._store_lock:
                records = self.store.append_records(events)
                self.commits += 1
        except Exception as exc:  # noqa: BLE001 — an adapter bug must still fail closed, with a reason
            err = _audit_error(exc)
        else:
            i = 0
            for b in batches:
                b.records, i = records[i:i + len(b.events)], i + len(b.events)
                b.error = None
            return
        for b in batches:
            b.error = err
        raise err

    def record_new(self, events: Sequence[Mapping[str, Any]]) -> list[Record]:
        """Append only the events whose ids the log does not hold yet; returns the records appended.

        The id check and the append are one transaction under the log's write lock, so a server that
        re-sends ingested events after a crash (or two replicas handling one retried batch) stores each
        event exactly once. Raises :class:`AuditError` like :meth:`record`.
        """
        try:
            with self._store_lock:
                records = self.store.append_records(events, only_new_ids=True)
                self.commits += 1
        except Exception as exc:  # noqa: BLE001 — see _append_all
            raise _audit_error(exc) from None
        return records

    def find_decision(self, tool_use_id: str) -> dict[str, Any] | None:
        """The latest recorded decision for a tool call (PostToolUse links outcome/approval to it)."""
        try:
            with self._store_lock:
                return self.store.find_decision(tool_use_id)
        except StoreError as exc:
            raise AuditError(str(exc)) from None

    def remember_policy(self, digest: str, texts: Mapping[str, str], sources: Sequence[str] = ()) -> None:
        """Keep the policy text in force (by digest) so evidence packs can include it."""
        try:
            with self._store_lock:
                self.store.remember_policy(digest, texts, sources)
        except StoreError as exc:
            raise AuditError(str(exc)) from None

    def close(self) -> None:
        try:
            if self.telemetry is not None:
                self.telemetry.shutdown()
        finally:
            with self._store_lock:
                self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _audit_error(exc: Exception) -> AuditError:
    if isinstance(exc, StoreError):
        return exc if isinstance(exc, AuditError) else AuditError(str(exc))
    if isinstance(exc, (CanonicalError, TypeError, ValueError, KeyError)):
        return AuditError(f"audit event rejected: {exc}")
    return AuditError(f"audit log write failed unexpectedly: {type(exc).__name__}: {exc}")


def resolve_home(warden_home: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> Path:
    raw = warden_home or environ.get("WARDEN_HOME") or "~/.warden"
    return Path(os.path.expanduser(str(raw)))


OTEL_MODES = ("inline", "background", "outbox")


def otel_mode(environ: Mapping[str, str]) -> str | None:
    """How decisions reach OpenTelemetry: None (off), inline, background or outbox."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if not (environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")):
        return None
    # background by default: a hook must not pay ~180 ms of SDK import plus a network round trip
    mode = environ.get("WARDEN_OTEL_MODE", "").strip().lower() or "background"
    if mode not in OTEL_MODES:
        raise AuditError(f"WARDEN_OTEL_MODE must be one of {', '.join(OTEL_MODES)}, got {mode!r}")
    return mode


def telemetry_enabled(environ: Mapping[str, str]) -> bool:
    return otel_mode(environ) is not None


def make_redactor(home: Path) -> Callable[[str], str]:
    """The secrets engine's redactor when it is installed, then the built-in one as a backstop.

    Looks for ``warden.adapters.redaction.redactor_for(home)`` (keyed fingerprints) and falls back
    to the minimal built-in patterns, so an event is never sealed with a well-known credential
    shape in clear even if the engine is missing or fails.
    """
    try:
        from warden.adapters.redaction import redactor_for  # type: ignore[import-not-found]

        engine: Callable[[str], str] | None = redactor_for(home)
    except Exception:  # noqa: BLE001 — no engine: the built-in redactor still runs
        engine = None
    if engine is None:
        return basic_redact

    def redact(text: str) -> str:
        try:
            out = engine(text)
        except Exception:  # noqa: BLE001 — never let a detector bug put a clear secret in the log
            out = text
        return basic_redact(out if isinstance(out, str) else text)

    return redact


def open_recorder(warden_home: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> Recorder:
    """Open the audit log named by ``$WARDEN_AUDIT_DB`` (path or postgresql:// URL) or
    ``$WARDEN_HOME/audit.db``; add OTLP export when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.

    Raises :class:`AuditError` when the log cannot be opened (the caller fails closed).
    """
    home = resolve_home(warden_home, environ)
    try:
        store = open_store(environ.get("WARDEN_AUDIT_DB") or None, home, keys="create",
                           options=options_from_env(environ))
    except StoreError as exc:
        raise AuditError(str(exc)) from None
    telemetry: Any = None
    try:
        mode = otel_mode(environ)
    except AuditError:
        store.close()
        raise
    if mode == "inline":
        try:
            from warden.adapters.otel import Telemetry

            telemetry = Telemetry.from_env(environ)
        except Exception:  # noqa: BLE001 — telemetry is optional; the audit log is what must not fail
            telemetry = None
    elif mode == "background":
        from warden.adapters.otel_background import BackgroundExport

        telemetry = BackgroundExport(home, environ.get("WARDEN_AUDIT_DB") or None, environ)
    return Recorder(store, telemetry, make_redactor(home))
