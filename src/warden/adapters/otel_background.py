"""Background OpenTelemetry export for short-lived processes (``WARDEN_OTEL_MODE=background``).

A hook process must not pay for importing the OpenTelemetry SDK or for a network round trip.
In this mode it imports nothing: after recording, it starts ``warden audit otel-export
--linger`` detached (its own session, no inherited pipes, so Claude Code does not wait for it)
unless one is already running. The exporter ships everything after the cursor stored in the
log, keeps polling while decisions keep coming, and exits when idle. Delivery is at-least-once
and survives collector outages: the audit log is the outbox.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

LOCK_NAME = "otel-export.lock"
LOG_NAME = "otel-export.log"
MAX_LOG_BYTES = 1 << 20


def exporter_running(home: Path) -> bool:
    """True while some ``otel-export`` holds the lock (it will pick up new events itself)."""
    from warden.adapters.locks import held

    return held(home / LOCK_NAME)


class BackgroundExport:
    """Telemetry stand-in with the :class:`~warden.adapters.otel.Telemetry` interface."""

    min_interval_s = 1.0  # a long-lived process re-checks for an exporter at most this often

    def __init__(self, home: Path, db: str | None, environ: Mapping[str, str]) -> None:
        self.home = home
        self.db = db
        self.environ = dict(environ)
        self.dropped = 0
        self._pending = False
        self._last_check = 0.0

    def emit(self, event: Mapping[str, Any]) -> None:
        if event.get("kind") != "decision":
            return
        self._pending = True
        now = time.monotonic()
        if now - self._last_check >= self.min_interval_s and self._last_check:
            self._kick()  # long-lived callers (MCP proxy, HTTP server): export as we go
        self._last_check = self._last_check or now

    def shutdown(self) -> None:
        if self._pending:
            self._kick()

    def _kick(self) -> None:
        self._last_check = time.monotonic()
        self._pending = False
        try:
            if exporter_running(self.home):
                return
            cmd = [sys.executable, "-m", "warden", "audit", "otel-export", "--home", str(self.home), "--linger", "2"]
            if self.db:
                cmd += ["--db", self.db]
            log = self.home / LOG_NAME  # the exporter's own messages, for `cat ~/.warden/otel-export.log`
            with open(log, "ab") as out:
                if out.tell() > MAX_LOG_BYTES:
                    out.truncate(0)
                subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                 start_new_session=True, close_fds=True, env=self.environ)
        except OSError:
            self.dropped += 1  # the events stay in the log; the next decision or `otel-export` ships them
