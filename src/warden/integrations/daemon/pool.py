"""Audit recorders kept open by the daemon between requests (opening one costs milliseconds)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class RecorderPool:
    """Daemon only: audit recorders kept open between events (opening one costs milliseconds).

    A recorder is reused only for the same audit destination and only while the database file is
    the same file (a rotated or deleted log gets a fresh connection). One that was in use when an
    event failed closed, or mentioned the audit log, is closed rather than reused; recorders are
    also recycled every ``max_uses`` events.
    """

    def __init__(self, max_uses: int = 200) -> None:
        self.max_uses = max_uses
        self._items: dict[tuple[str, ...], tuple[Any, Any, int]] = {}  # key -> (identity, recorder, uses)

    @staticmethod
    def _key(gw: Any) -> tuple[str, ...]:
        env = gw.environ
        otel = tuple(f"{k}={v}" for k, v in sorted(env.items()) if k.startswith("OTEL_"))
        return (str(gw.home), env.get("WARDEN_AUDIT_DB", ""), *otel)

    @staticmethod
    def _identity(gw: Any) -> Any:
        import os

        target = gw.environ.get("WARDEN_AUDIT_DB") or os.path.join(str(gw.home), "audit.db")
        if "://" in target:
            return target
        try:
            st = os.stat(target)
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    @staticmethod
    def _state_key(gw: Any) -> tuple[str, ...]:
        import os

        target = gw.environ.get("WARDEN_STATE_DB") or os.path.join(str(gw.home), "state.db")
        ident: Any = target
        if "://" not in target:
            try:
                st = os.stat(target)
                ident = f"{target}@{st.st_dev}:{st.st_ino}"
            except OSError:
                ident = ""
        return ("state", str(ident))

    def _lend_state(self, gw: Any) -> None:
        """The control loop's state store, kept open like the recorder (same file, same URL only)."""
        key = self._state_key(gw)
        item = self._items.pop(key, None)
        if item is not None and key[1] and item[2] < self.max_uses:
            gw._state = item[1]
            self._state_lent = (key, item[2])
        elif item is not None:
            _close_quietly(item[1])

    def _take_back_state(self, gw: Any, healthy: bool) -> None:
        state = getattr(gw, "_state", None)
        key, uses = getattr(self, "_state_lent", (self._state_key(gw), 0))
        self._state_lent = (self._state_key(gw), 0)
        from warden.adapters.state import SqlStateStore

        if not healthy or not isinstance(state, SqlStateStore):
            return  # gw.close() closes it (an UnavailableState stand-in is never pooled)
        gw._state = None
        old = self._items.pop(key, None)
        if old is not None:
            _close_quietly(old[1])
        self._items[key] = (None, state, uses + 1)

    def lend(self, gw: Any) -> None:
        self._lend_state(gw)
        key = self._key(gw)
        item = self._items.pop(key, None)
        if item is None:
            return
        identity, recorder, uses = item
        if identity is None or identity != self._identity(gw) or uses >= self.max_uses:
            _close_quietly(recorder)
            return
        gw._recorder = recorder  # Gateway's seam: an already open recorder
        self._lent = (key, uses)

    def take_back(self, gw: Any, *, healthy: bool) -> None:
        self._take_back_state(gw, healthy)
        recorder = getattr(gw, "_recorder", None)
        key, uses = getattr(self, "_lent", (self._key(gw), 0))
        self._lent = (self._key(gw), 0)
        if recorder is None or not healthy:
            return  # gw.close() closes it
        gw._recorder = None
        old = self._items.pop(key, None)
        if old is not None:
            _close_quietly(old[1])
        self._items[key] = (self._identity(gw), recorder, uses + 1)

    @contextmanager
    def borrowed(self, gw: Any) -> Iterator[dict[str, bool]]:
        """Lend a pooled recorder to ``gw`` for one request; set ``["healthy"] = True`` to keep it.

        An unhealthy recorder is not returned to the pool, and ``gw`` is closed either way.
        """
        outcome = {"healthy": False}
        self.lend(gw)
        try:
            yield outcome
        finally:
            self.take_back(gw, healthy=outcome["healthy"])
            gw.close()

    def close(self) -> None:
        for _identity, recorder, _uses in self._items.values():
            _close_quietly(recorder)
        self._items.clear()


def _close_quietly(recorder: Any) -> None:
    try:
        recorder.close()
    except Exception:
        pass  # a recorder that cannot close has already written what it will write
