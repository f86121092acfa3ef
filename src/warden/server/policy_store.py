"""The central policy, versioned in the server's database, so every replica decides with and hands out the
same one and an admin can change it over the API (``PUT /v1/policy``) without touching any host.

Each version is kept (text, who, why, when). The current one is written atomically to
``$WARDEN_HOME/central-policy.yaml`` on every replica — the file the replica's decisions and signed bundles
read. Every replica checks the database's current version whenever its change hub wakes (on a state
notification, at least once a second), so a policy pushed to one replica is served by all of them within
a second. ``warden server --policy FILE`` seeds the store: the file's text becomes a new version at start
and whenever the file changes, unless that exact text was stored before (a restart with an old file does
not roll back a policy pushed over the API).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request

EFFECTIVE = "central-policy.yaml"
MAX_POLICY = 1024 * 1024
SETTLE_S = 0.2  # a --policy file modified this recently may be half written


def version_of(text: str) -> str:
    """The bundle version of a policy text (the same 16 hex digits the signed bundle carries)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class PolicyRejected(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:5]))
        self.problems = problems


@dataclass(frozen=True)
class PolicyVersion:
    seq: int
    version: str
    text: str
    at: float
    by: str
    reason: str

    def to_json(self, with_text: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"seq": self.seq, "version": self.version, "at": self.at, "by": self.by,
                               "reason": self.reason}
        if with_text:
            out["text"] = self.text
        return out


def check(text: str) -> list[str]:
    """Problems that keep ``text`` from loading as the managed layer (empty when it loads)."""
    from warden.adapters.policy_files import BUILTIN
    from warden.core.policy.load import LayerSource, PolicyLoadError, compile_policy

    if len(text.encode("utf-8", "surrogatepass")) > MAX_POLICY:
        return [f"the policy is larger than {MAX_POLICY} bytes"]
    try:  # as the clients will load it: the managed layer over the built-in one
        compile_policy([LayerSource("builtin", "builtin:recommended.yaml", BUILTIN.read_text(encoding="utf-8")),
                        LayerSource("managed", "central", text)])
    except PolicyLoadError as exc:
        return [str(p) for p in exc.problems] or [str(exc)]
    return []


class PolicyStore:
    def __init__(self, keys: Any, home: Path, seed_file: str | None) -> None:
        self.keys = keys
        self.path = home / EFFECTIVE
        self.seed_file = seed_file
        self._seed_stamp: tuple[int, int, int] | None = None
        self._written = ""
        self._lock = threading.Lock()
        self._seed_lock = threading.Lock()
        self.seed_error = ""  # a --policy file edited into one that does not load (the previous one is served)
        self._import_seed(at_start=True)
        self._materialize()

    # -- reading ----------------------------------------------------------------------------------
    def current(self) -> PolicyVersion | None:
        rows = self.keys.execute("SELECT seq, version, text, at, by_who, reason FROM central_policy "
                                 "ORDER BY seq DESC LIMIT 1")
        return PolicyVersion(*rows[0]) if rows else None

    def history(self, limit: int = 50) -> list[PolicyVersion]:
        rows = self.keys.execute("SELECT seq, version, '', at, by_who, reason FROM central_policy "
                                 "ORDER BY seq DESC LIMIT ?", (limit,))
        return [PolicyVersion(*r) for r in rows]

    def get(self, version: str) -> PolicyVersion | None:
        rows = self.keys.execute("SELECT seq, version, text, at, by_who, reason FROM central_policy "
                                 "WHERE version = ? ORDER BY seq DESC LIMIT 1", (version,))
        return PolicyVersion(*rows[0]) if rows else None

    def issued_at(self, version: str) -> int | None:
        """When ``version`` was last stored, in whole seconds, kept strictly increasing along the history (at
        least a second apart): a signed bundle carries it, and clients refuse a new version whose time is not
        after the one they hold, so two versions stored within one second must still be ordered. It depends on
        the stored rows only, so every replica signs the same time."""
        rows = self.keys.execute("SELECT seq, version, at FROM central_policy ORDER BY seq")
        issued, found = 0, None
        for _seq, stored, at in rows:
            issued = max(int(at), issued + 1)
            if stored == version:
                found = issued
        return found

    def effective_file(self) -> str | None:
        """The file decisions and bundles read (None: the server has no central policy)."""
        return str(self.path) if self._written else None

    # -- writing ----------------------------------------------------------------------------------
    def put(self, text: str, by: str, reason: str) -> tuple[PolicyVersion, bool]:
        """Store ``text`` as the current policy; (the version, whether it changed). PolicyRejected if it
        does not load."""
        problems = check(text)
        if problems:
            raise PolicyRejected(problems)
        with self._lock:
            now = self.current()
            if now is not None and now.text == text:
                return now, False
            for _ in range(5):  # two replicas storing at once: the primary key makes one retry
                seq = (now.seq if now else 0) + 1
                try:
                    self.keys.execute("INSERT INTO central_policy (seq, version, text, at, by_who, reason) "
                                      "VALUES (?, ?, ?, ?, ?, ?)", (seq, version_of(text), text, time.time(), by,
                                                                    reason[:1000]))
                    break
                except Exception:  # noqa: BLE001 — a unique violation: someone else took seq
                    now = self.current()
            self._materialize()
        stored = self.current()
        assert stored is not None
        return stored, True

    def refresh(self, wait: bool = False) -> bool:
        """Import an edited seed file and write the current version to disk; True when the file changed.
        ``wait``: a seed file edited a moment ago is waited for (a client asking for the bundle right now)."""
        self._import_seed(wait=wait)
        return self._materialize()

    def _import_seed(self, at_start: bool = False, wait: bool = False) -> None:
        if not self.seed_file:
            return
        with self._seed_lock:  # one reader at a time: a slow, stale read must never land after a newer one
            try:
                st = os.stat(self.seed_file)
            except OSError:
                return  # GET /v1/policy/bundle and readiness say what is wrong with the current file
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
            if stamp == self._seed_stamp:
                return
            age = time.time() - st.st_mtime
            if not at_start and age < SETTLE_S:  # being written (an editor truncates, then writes)
                if not wait:
                    return  # look again at the next wake
                time.sleep(SETTLE_S - age)
                st = os.stat(self.seed_file)
                stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
            text = Path(self.seed_file).read_text(encoding="utf-8")
            after = os.stat(self.seed_file)
            if (after.st_mtime_ns, after.st_size, after.st_ino) != stamp:
                return  # changed while we read it: the next wake reads the finished file
            self._seed_stamp = stamp
            self._import_text(text, at_start)

    def _import_text(self, text: str, at_start: bool) -> None:
        if self.get(version_of(text)) is not None:
            return  # stored before: not a change (a restart with an old file does not roll back)
        problems = check(text)
        if problems:
            if at_start:  # never start serving a policy that does not load
                raise PolicyRejected([f"{self.seed_file}: {p}" for p in problems])
            self.seed_error = f"{self.seed_file} does not load, so version {self.current_version()} is still " \
                              f"served: {'; '.join(problems[:3])}"
            return
        self.seed_error = ""
        self.put(text, by=f"file:{self.seed_file}", reason="the server's --policy file changed")

    def current_version(self) -> str:
        cur = self.current()
        return cur.version if cur else "(none)"

    def _materialize(self) -> bool:
        cur = self.current()
        if cur is None or cur.version == self._written:
            return False
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
        tmp.write_text(cur.text, encoding="utf-8")
        os.replace(tmp, self.path)
        self._written = cur.version
        return True


def mount_policy(app: FastAPI, server: Any, who: Any, body_of: Any) -> None:
    import asyncio

    from warden.server.keys import Principal

    @app.get("/v1/policy")
    def get_policy(p: Principal = Depends(who)) -> dict[str, Any]:
        """The current central policy (text, version, who changed it and why) and the versions before it."""
        server.require(p, "auditor")
        cur = server.policies.current()
        return {"current": cur.to_json() if cur else None,
                "history": [v.to_json(with_text=False) for v in server.policies.history()],
                "seed_file": server.policies.seed_file, "seed_error": server.policies.seed_error}

    from warden.server import api_schema as doc

    @app.get("/v1/policy/versions/{version}", responses=doc.errors(404))
    def get_version(version: str, p: Principal = Depends(who)) -> dict[str, Any]:
        server.require(p, "auditor")
        found = server.policies.get(version)
        if found is None:
            raise HTTPException(404, "no such policy version")
        return found.to_json()

    @app.put("/v1/policy", openapi_extra=doc.json_body(doc.schema_of(doc.PolicyBody)),
             responses={**doc.BODY_ERRORS, **doc.errors(422)})
    async def put_policy(request: Request, p: Principal = Depends(who)) -> dict[str, Any]:
        """Replace the central policy: checked (it must load over the built-in layer), versioned, served by
        every replica and pulled by every client within seconds."""
        from warden.core.audit import control_event

        server.require(p, "admin")
        body = doc.parse(doc.PolicyBody, await body_of(request))  # {"policy": "<YAML text>", "reason": "why"}
        text, reason = body.policy, body.reason.strip()
        try:
            stored, changed = await asyncio.to_thread(server.policies.put, text, p.owner, reason)
        except PolicyRejected as exc:
            return_problems = exc.problems[:50]
            raise HTTPException(422, {"message": "the policy does not load; nothing changed",
                                      "problems": return_problems}) from None
        server.config.policy_file = server.policies.effective_file()
        if changed:
            server.state.announce()  # wake every replica's change hub and every client's watch
            server.recorder.record(control_event(op="policy.update", started_at=time.time(),
                                                 data={"version": stored.version, "seq": stored.seq, "by": p.owner,
                                                       "reason": reason},
                                                 actor={"id": p.owner, "agent": "", "roles": [p.role]}))
        return {"version": stored.version, "seq": stored.seq, "changed": changed}
