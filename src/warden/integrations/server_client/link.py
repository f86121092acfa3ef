"""The link between this machine and its team server, run by the warm daemon or ``warden sync --follow``.

Four kinds of thread, so a slow answer in one never holds up the others:

* **watch** — one long-poll on ``GET /v1/sync/watch``: the server answers within milliseconds of a
  kill switch or a policy change (on any replica), the kills are mirrored into the local state store
  (:mod:`.kills`) and a new policy version is pulled and verified (:mod:`.bundle`). This is what makes a
  server kill bite locally within a second.
* **work** — every half second, or at once when the local state store announces a change: route new
  queued approval requests to the server (:mod:`.approvals`), ship the audit outbox (:mod:`.outbox`),
  pull the bundle every few minutes anyway;
* **report** — this machine's `warden doctor` summary to the dashboard every ten minutes.
* **one waiter per routed request** — a long-poll on ``GET /v1/approvals/{id}/wait``; the server's
  votes are replayed into the local store, which wakes the hook that waits on it.

Only one link runs per ``$WARDEN_HOME`` (an exclusive lock in ``run/``). Its state is written to
``run/server-link.json`` for ``warden doctor`` and ``warden sync --status``. Offline, nothing is
lost or loosened: kills stay in force, events wait in the local store, requests wait to be routed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from warden.integrations.server_client import config

STATUS_FILE = "server-link.json"
LOCK_FILE = "server-link.lock"
WATCH_TIMEOUT_S = 25.0
BUNDLE_EVERY_S = 300.0
REPORT_EVERY_S = 600.0
TICK_S = 0.5


def run_dir(home: Path) -> Path:
    d = home / "run"
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    return d


def read_status(home: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((home / "run" / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def link_alive(home: Path) -> bool:
    """True when some process holds the link lock for this home."""
    from warden.adapters.locks import held

    return held(run_dir(home) / LOCK_FILE)


class Link:
    def __init__(self, home: Path, environ: Mapping[str, str], link: config.ServerLink | None = None) -> None:
        self.home = home
        self.environ = dict(environ)
        loaded = link or config.load(home)
        if loaded is None:
            raise config.NotLoggedIn("this machine is not logged in to a team server: warden login URL --key wk_...")
        self.link = loaded
        self.stop = threading.Event()
        self._wake = threading.Event()
        self._lock_fd: int | None = None
        self._store: Any = None
        self._store_lock = threading.Lock()
        self._waiting: dict[str, str] = {}  # local request id -> server request id, with a waiter running
        self._threads: list[threading.Thread] = []
        self._status_lock = threading.Lock()
        self.status: dict[str, Any] = {"pid": os.getpid(), "server": self.link.url, "machine": self.link.machine,
                                       "started": time.time(), "online": False, "last_contact": 0.0, "error": "",
                                       "kills_version": "", "kills": 0, "policy_version": "", "bundle": {},
                                       "outbox": {}, "routed": 0, "answered": 0, "kill_latency_ms": None}
        self._last_bundle = 0.0
        self._last_report = 0.0
        self._server_kills: list[Any] | None = None  # the server's switches as last seen (None: not yet)
        self._shipped_stamp: tuple[Any, ...] | None = None

    # -- plumbing ---------------------------------------------------------------------------------
    def acquire(self) -> bool:
        """Take the per-home link lock; False when another link already runs."""
        fd = os.open(run_dir(self.home) / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def state(self) -> Any:
        with self._store_lock:
            if self._store is None:
                from warden.adapters.state import open_state

                self._store = open_state(self.home, environ=self.environ)
            return self._store

    def client(self, timeout: float = 10.0) -> Any:
        import httpx

        return httpx.Client(base_url=self.link.url, headers=self.link.headers(),
                            timeout=httpx.Timeout(timeout, connect=5.0))

    def _update(self, **changes: Any) -> None:
        with self._status_lock:
            self.status.update(changes)
            snapshot = json.dumps(self.status, default=str)
        with contextlib.suppress(OSError):
            config.write_private(run_dir(self.home) / STATUS_FILE, snapshot)

    def _online(self) -> None:
        self._update(online=True, last_contact=time.time(), error="")

    def _offline(self, what: str, exc: BaseException) -> None:
        self._update(online=False, error=f"{what}: {type(exc).__name__}: {exc}"[:500])

    def _audit(self, events: list[dict[str, Any]]) -> None:
        """Control events the link caused (mirrored kills, server votes), in the local chain."""
        if not events:
            return
        try:
            from warden.adapters.audit import open_recorder
            from warden.adapters.control import audit_events

            rec = open_recorder(str(self.home), self.environ)
            try:
                rec.record_many(audit_events(events, "", lambda s: s, time.time()))
            finally:
                rec.close()
        except Exception as exc:  # noqa: BLE001 — the state change stands; say that its record is missing
            self._update(error=f"could not record {events[0].get('op')}: {exc}"[:500])

    # -- the parts ------------------------------------------------------------------------------
    def apply_kills(self, answer: Mapping[str, Any]) -> None:
        from warden.integrations.server_client.kills import mirror

        self._server_kills = list(answer.get("kills") or [])
        set_, lifted = mirror(self.state(), self._server_kills)
        self._update(kills_version=str(answer.get("kills_version", "")), kills=len(answer.get("kills") or []))
        self._audit([{"op": "kill.mirrored", "scope": k.scope, "value": k.value, "reason": k.reason, "by": k.by,
                      "server": self.link.url} for k in set_] +
                    [{"op": "kill.lifted", "scope": k.scope, "value": k.value, "by": k.by, "server": self.link.url}
                     for k in lifted])

    def reassert_kills(self) -> None:
        """A mirrored switch removed behind Warden's back (its database edited) comes back within a tick."""
        from warden.integrations.server_client.kills import mirror

        if self._server_kills is not None:
            set_, _ = mirror(self.state(), self._server_kills)
            if set_:
                self._audit([{"op": "kill.reasserted", "scope": k.scope, "value": k.value, "by": k.by,
                              "server": self.link.url} for k in set_])

    def pull_bundle(self) -> None:
        try:
            from warden.integrations.server_client import bundle
        except ImportError:
            return
        try:
            result = bundle.pull(self.link, self.home)
        except bundle.BundleError as exc:
            self._update(bundle={"error": str(exc), "at": time.time()})
            return
        self._last_bundle = time.time()
        self.link = config.load(self.home) or self.link  # a followed key rotation re-pins in server.json
        self._update(bundle={"version": result.version, "changed": result.changed, "at": time.time()},
                     policy_version=result.version)

    def _push(self, http: Any, req: Any) -> str | None:
        """Route one local request to the server; the server's id for it (None: refused, recorded in status)."""
        from warden.integrations.server_client.approvals import payload

        r = http.post("/v1/approvals", json=payload(req, self.link.machine))
        if r.status_code != 200:
            self._update(error=f"the server refused request {req.id} ({r.status_code}): {r.text[:200]}")
            return None
        self._update(routed=self.status["routed"] + 1)
        return str(r.json().get("request") or req.id)

    def route_requests(self, http: Any) -> None:
        for req in self.state().list_requests(status="pending", limit=200):
            if req.id in self._waiting or time.time() >= req.expires_at:
                continue
            server_id = self._push(http, req)
            if server_id is None:
                continue
            self._waiting[req.id] = server_id
            t = threading.Thread(target=self._wait_one, args=(req.id, server_id), daemon=True,
                                 name=f"warden-link-wait-{req.id}")
            t.start()

    def _wait_one(self, local_id: str, server_id: str) -> None:
        from warden.integrations.server_client.approvals import apply_answer

        backoff = 1.0
        with self.client(WATCH_TIMEOUT_S + 10) as http:
            while not self.stop.is_set():
                local = self.state().get_request(local_id)
                if local is None or local.status != "pending" or time.time() >= local.expires_at:
                    self._waiting.pop(local_id, None)
                    return
                try:
                    r = http.get(f"/v1/approvals/{server_id}/wait", params={"timeout": WATCH_TIMEOUT_S})
                except Exception as exc:  # noqa: BLE001 — offline: keep the request, retry
                    self._offline("waiting for an approval", exc)
                    self.stop.wait(backoff)
                    backoff = min(backoff * 2, 10.0)
                    continue
                backoff = 1.0
                if r.status_code == 404:
                    self._waiting.pop(local_id, None)  # the server lost it (a reset): route it again
                    return
                if r.status_code != 200:
                    self.stop.wait(1.0)
                    continue
                self._online()
                answer = r.json()
                if answer.get("status") == "pending":
                    continue
                # answered: it stays in _waiting, so a vote the local rules refused is not routed again
                done = apply_answer(self.state(), local_id, answer, self.link.url)
                self._update(answered=self.status["answered"] + 1)
                self._audit([{"op": "approval.remote", "request": local_id, "server_request": server_id,
                              "status": answer.get("status"), "applied": done, "server": self.link.url}])
                return

    def _audit_stamp(self) -> tuple[Any, ...] | None:
        """A cheap sign that the local audit log changed (None: a database we cannot stat, e.g. PostgreSQL)."""
        if self.environ.get("WARDEN_AUDIT_DB"):
            return None
        from warden.adapters.store import default_db_path

        db = str(default_db_path(self.home))
        out: list[Any] = []
        for p in (db, db + "-wal"):
            try:
                st = os.stat(p)
                out.append((st.st_mtime_ns, st.st_size))
            except OSError:
                out.append(None)
        return tuple(out)

    def ship_due(self) -> bool:
        """Opening the audit log costs milliseconds: ship when it changed, when a batch is left, to retry
        after a failure (5 s) and at least every 30 s; a log we cannot stat every 2 s."""
        box = self.status.get("outbox") or {}
        since = time.time() - float(box.get("at") or 0)
        if box.get("error"):
            return since > 5.0
        if box.get("pending") or since > 30.0:
            return True
        stamp = self._audit_stamp()
        if stamp is None:
            return since > 2.0
        if stamp != self._shipped_stamp:
            self._shipped_stamp = stamp
            return True
        return False

    def ship_if_due(self) -> None:
        if self.ship_due():
            self.ship()

    def ship(self) -> None:
        from warden.integrations.server_client import outbox

        result = outbox.ship(self.link, self.home, self.environ)
        self._update(outbox={"sent": result.sent, "accepted": result.accepted, "replayed": result.replayed,
                             "pending": result.pending, "error": result.error, "at": time.time()})

    def report(self, http: Any) -> None:
        from warden import __version__
        from warden.integrations.server_client.report import doctor_summary

        summary = doctor_summary(self.environ)
        summary["link"] = {k: self.status.get(k) for k in ("online", "kills", "routed", "answered")}
        summary["outbox_pending"] = (self.status.get("outbox") or {}).get("pending")
        r = http.post("/v1/machines/report", json={"machine": self.link.machine, "version": __version__,
                                                   "doctor": summary})
        if r.status_code == 200:
            self._last_report = time.time()

    # -- loops ----------------------------------------------------------------------------------
    def watch_loop(self) -> None:
        backoff = 1.0
        with self.client(WATCH_TIMEOUT_S + 10) as http:
            while not self.stop.is_set():
                try:
                    r = http.get("/v1/sync/watch", params={"kills": self.status["kills_version"],
                                                           "policy_version": self.status["policy_version"],
                                                           "timeout": WATCH_TIMEOUT_S})
                    if r.status_code != 200:
                        raise RuntimeError(f"the server answered {r.status_code}: {r.text[:200]}")
                    answer = r.json()
                    self._online()
                    backoff = 1.0
                    if answer.get("kills_version") != self.status["kills_version"]:
                        self.apply_kills(answer)
                    pv = str(answer.get("policy_version", ""))
                    if pv and pv != self.status["policy_version"]:
                        self.pull_bundle()
                        self._update(policy_version=pv)
                except Exception as exc:  # noqa: BLE001 — offline or a restart: the last kills stay in force
                    self._offline("watching the server", exc)
                    self.stop.wait(backoff)
                    backoff = min(backoff * 2, 10.0)

    def work_loop(self) -> None:
        store = self.state()
        with self.client() as http:
            while not self.stop.is_set():
                for part, fn in (("routing approvals", lambda: self.route_requests(http)),
                                 ("re-applying the server's kill switches", self.reassert_kills),
                                 ("shipping audit events", self.ship_if_due)):
                    try:
                        fn()
                    except ImportError:
                        pass  # a part this install does not have
                    except Exception as exc:  # noqa: BLE001
                        self._offline(part, exc)
                if time.time() - self._last_bundle > BUNDLE_EVERY_S:
                    with contextlib.suppress(Exception):
                        self.pull_bundle()
                try:
                    store.wait_for_change(TICK_S)  # a new queued request wakes us at once
                except Exception:  # noqa: BLE001
                    self.stop.wait(TICK_S)

    def report_loop(self) -> None:
        """Health reports on their own thread: `warden doctor` takes seconds and must not delay routing."""
        with self.client() as http:
            while not self.stop.is_set():
                try:
                    self.report(http)
                except Exception as exc:  # noqa: BLE001
                    self._update(error=f"health report: {type(exc).__name__}: {exc}"[:500])
                self.stop.wait(REPORT_EVERY_S if time.time() - self._last_report < REPORT_EVERY_S else 30.0)

    def sync_once(self) -> dict[str, Any]:
        """One pass of everything (``warden sync``): kills, bundle, routing, outbox, report."""
        with self.client() as http:
            r = http.get("/v1/sync/watch", params={"timeout": 0})
            r.raise_for_status()
            self._online()
            self.apply_kills(r.json())
            for fn in (self.pull_bundle, lambda: self.route_requests_once(http), self.ship,
                       lambda: self.report(http)):
                try:
                    fn()
                except ImportError:
                    pass
        return dict(self.status)

    def route_requests_once(self, http: Any) -> None:
        """Route pending requests without waiting for their answers (one-shot sync)."""
        from warden.integrations.server_client.approvals import apply_answer

        for req in self.state().list_requests(status="pending", limit=200):
            sid = self._push(http, req)
            if sid is None:
                continue
            got = http.get(f"/v1/approvals/{sid}/wait", params={"timeout": 0})
            if got.status_code == 200 and got.json().get("status") != "pending":
                apply_answer(self.state(), req.id, got.json(), self.link.url)

    def start(self) -> None:
        for target, name in ((self.watch_loop, "watch"), (self.work_loop, "work"), (self.report_loop, "report")):
            t = threading.Thread(target=target, name=f"warden-link-{name}", daemon=True)
            t.start()
            self._threads.append(t)
        self._update()

    def close(self) -> None:
        self.stop.set()
        for t in self._threads:
            t.join(timeout=2)
        if self._store is not None:
            with contextlib.suppress(Exception):
                self._store.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def start_in_background(environ: Mapping[str, str]) -> Link | None:
    """For the warm daemon: start the link when this home is logged in and no other link runs."""
    from warden.adapters.policy_files import warden_home

    home = warden_home(environ)
    if environ.get("WARDEN_SERVER_LINK") == "0" or not config.path(home).exists():
        return None
    try:
        link = Link(home, environ)
    except config.NotLoggedIn:
        return None
    if not link.acquire():
        return None
    link.start()
    return link
