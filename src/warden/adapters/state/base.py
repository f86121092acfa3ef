"""SQL shared by the SQLite and PostgreSQL state stores.

Subclasses supply the connection, ``_tx()`` (one write transaction holding the store's write
lock: SQLite ``BEGIN IMMEDIATE``, PostgreSQL ``SERIALIZABLE``-free row locks plus an advisory
lock), ``_read()`` and the change notification. Every statement here uses ``?`` placeholders;
the PostgreSQL adapter rewrites them.

Requests and grants carry an HMAC of their canonical body under the state key
(``$WARDEN_HOME/keys/state.key``): a row edited behind Warden's back (a hand-made grant, an
approval vote typed into the database) fails verification and is refused, never honoured.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from warden.core.control.approvals import (
    APPROVED,
    CLOCK_SKEW_S,
    EXPIRED,
    PENDING,
    REVOKED,
    ApprovalError,
    ApprovalRequest,
    Grant,
    Principal,
    apply_vote,
    expire,
    grant_covers,
    grant_for,
)
from warden.core.control.kill import KillSwitch
from warden.core.control.taint import TaintOrigin
from warden.ports import StateError

APP = "warden-state"
SCHEMA = 1

DDL = """
CREATE TABLE IF NOT EXISTS {p}meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {p}requests (id TEXT PRIMARY KEY, status TEXT NOT NULL, action_digest TEXT NOT NULL,
  policy_digest TEXT NOT NULL, rule_id TEXT NOT NULL, tool_use_id TEXT NOT NULL, session TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL, body TEXT NOT NULL, mac TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS {p}requests_digest ON {p}requests (action_digest, status);
CREATE INDEX IF NOT EXISTS {p}requests_tool_use ON {p}requests (tool_use_id);
CREATE INDEX IF NOT EXISTS {p}requests_status ON {p}requests (status, created_at);
CREATE TABLE IF NOT EXISTS {p}grants (id TEXT PRIMARY KEY, request_id TEXT NOT NULL, rule_id TEXT NOT NULL,
  policy_digest TEXT NOT NULL, action_digest TEXT NOT NULL, shape TEXT NOT NULL, session TEXT NOT NULL,
  actor TEXT NOT NULL, agent TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL, uses INTEGER NOT NULL,
  revoked INTEGER NOT NULL, body TEXT NOT NULL, mac TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS {p}grants_rule ON {p}grants (rule_id, policy_digest);
CREATE TABLE IF NOT EXISTS {p}kills (scope TEXT NOT NULL, value TEXT NOT NULL, reason TEXT NOT NULL,
  by_who TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, PRIMARY KEY (scope, value));
CREATE TABLE IF NOT EXISTS {p}counters (key TEXT PRIMARY KEY, count BIGINT NOT NULL,
  expires_at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS {p}repeats (session TEXT PRIMARY KEY, digest TEXT NOT NULL, n BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS {p}tasks (session TEXT PRIMARY KEY, n BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS {p}taint (session TEXT NOT NULL, source TEXT NOT NULL, detail TEXT NOT NULL,
  tool TEXT NOT NULL, at DOUBLE PRECISION NOT NULL);
CREATE INDEX IF NOT EXISTS {p}taint_session ON {p}taint (session);
CREATE TABLE IF NOT EXISTS {p}runs (id TEXT PRIMARY KEY, pid BIGINT NOT NULL, session TEXT NOT NULL,
  agent TEXT NOT NULL, actor TEXT NOT NULL, started_at DOUBLE PRECISION NOT NULL)
"""

MAX_TAINT_PER_SESSION = 50  # origins kept per session (the first ones matter most)


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


class SqlStateStore:
    location = ""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise StateError("the state key is too short; remove $WARDEN_HOME/keys/state.key to make a new one")
        self._key = key

    # -- provided by subclasses ------------------------------------------------------------
    def _tx(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def announce(self) -> None:
        """Wake every waiter on this store (a change made elsewhere, e.g. the team server's central policy)."""
        self._notify()

    def _notify(self) -> None:
        """Wake processes waiting in :meth:`wait_request` (called after a commit)."""

    def _wait_change(self, timeout: float) -> None:
        """Block until some change was notified or ``timeout`` passed."""
        raise NotImplementedError

    def listen(self) -> None:
        """Start receiving change notifications (idempotent)."""

    def wait_for_change(self, timeout: float) -> None:
        """Block until another process changes the state (or ``timeout``); call :meth:`listen` first."""
        self.listen()
        self._wait_change(timeout)

    def close(self) -> None:
        raise NotImplementedError

    # -- sealing -----------------------------------------------------------------------------
    def _mac(self, body: str) -> str:
        return hmac.new(self._key, body.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def _open(self, body: str, mac: str, what: str) -> dict[str, Any]:
        if not hmac.compare_digest(self._mac(body), mac):
            raise StateError(f"{what} in {self.location} fails its integrity check: the state store was edited "
                             "outside Warden. Nothing is granted from it; inspect it and `warden approvals` "
                             "will work again once the row is removed")
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise StateError(f"{what} in {self.location} is corrupt: {exc}") from None
        if not isinstance(data, dict):
            raise StateError(f"{what} in {self.location} is corrupt")
        return data

    def _req(self, row: Any) -> ApprovalRequest:
        return ApprovalRequest.from_json(self._open(row[0], row[1], "approval request row"))

    def _grant(self, row: Any) -> Grant:
        d = self._open(row[0], row[1], "grant row")
        return Grant(id=d["id"], request_id=d["request_id"], scope=d["scope"], rule_id=d["rule_id"],
                     policy_digest=d["policy_digest"], action_digest=d["action_digest"], shape=d["shape"],
                     session=d["session"], actor=d["actor"], agent=d["agent"], created_at=float(d["created_at"]),
                     expires_at=float(d["expires_at"]), approvers=tuple(d.get("approvers", ())),
                     uses=int(row[2]), revoked=bool(row[3]))

    # -- approvals ---------------------------------------------------------------------------
    def _put_request(self, cur: Any, req: ApprovalRequest, *, insert: bool) -> None:
        body = _canonical(req.to_json())
        if insert:
            cur.execute("INSERT INTO requests (id, status, action_digest, policy_digest, rule_id, tool_use_id, "
                        "session, created_at, expires_at, body, mac) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        (req.id, req.status, req.action_digest, req.policy_digest, req.rule_id, req.tool_use_id,
                         req.session, req.created_at, req.expires_at, body, self._mac(body)))
        else:
            cur.execute("UPDATE requests SET status = ?, body = ?, mac = ? WHERE id = ?",
                        (req.status, body, self._mac(body), req.id))

    def create_request(self, req: ApprovalRequest) -> ApprovalRequest:
        """Store a new request, or return the pending one already asking for the same action."""
        with self._tx() as cur:
            cur.execute("SELECT body, mac FROM requests WHERE action_digest = ? AND policy_digest = ? AND "
                        "rule_id = ? AND status = ? AND expires_at > ? ORDER BY created_at LIMIT 1",
                        (req.action_digest, req.policy_digest, req.rule_id, PENDING, req.created_at))
            row = cur.fetchone()
            if row is not None:
                return self._req(row)
            self._put_request(cur, req, insert=True)
        self._notify()  # a link waiting to route new requests to the team server
        return req

    def get_request(self, request_id: str) -> ApprovalRequest | None:
        with self._read() as cur:
            cur.execute("SELECT body, mac FROM requests WHERE id = ?", (request_id,))
            row = cur.fetchone()
        return self._req(row) if row else None

    def find_request(self, *, action_digest: str = "", tool_use_id: str = "") -> ApprovalRequest | None:
        """The newest request for a tool call (by id) or for an action digest."""
        with self._read() as cur:
            if tool_use_id:
                cur.execute("SELECT body, mac FROM requests WHERE tool_use_id = ? ORDER BY created_at DESC "
                            "LIMIT 1", (tool_use_id,))
            else:
                cur.execute("SELECT body, mac FROM requests WHERE action_digest = ? ORDER BY created_at DESC "
                            "LIMIT 1", (action_digest,))
            row = cur.fetchone()
        return self._req(row) if row else None

    def list_requests(self, *, status: str | None = None, limit: int = 100) -> list[ApprovalRequest]:
        with self._read() as cur:
            if status:
                cur.execute("SELECT body, mac FROM requests WHERE status = ? ORDER BY created_at DESC LIMIT ?",
                            (status, limit))
            else:
                cur.execute("SELECT body, mac FROM requests ORDER BY created_at DESC LIMIT ?", (limit,))
            rows = cur.fetchall()
        return [self._req(r) for r in rows]

    def vote(self, request_id: str, who: Principal, approve: bool, reason: str, now: float, *,
             policy_digest: str | None = None, grant: str | None = None) -> tuple[ApprovalRequest, Grant | None]:
        """Apply one vote atomically; raises ApprovalError (nothing granted) when it may not count."""
        made: Grant | None = None
        refused: ApprovalError | None = None
        with self._tx() as cur:
            cur.execute("SELECT body, mac FROM requests WHERE id = ?", (request_id,))
            row = cur.fetchone()
            if row is None:
                raise ApprovalError("unknown", f"no approval request {request_id!r}; `warden approvals list` "
                                               "shows the open ones")
            req = self._req(row)
            expired = expire(req, now) if now + CLOCK_SKEW_S >= req.created_at else req
            if expired is not req:  # commit the expiry, then refuse
                self._put_request(cur, expired, insert=False)
                refused = ApprovalError(EXPIRED, f"request {request_id} expired; nothing was granted. The agent "
                                                 "must retry the action to make a new request")
            else:
                changed = policy_digest is not None and policy_digest != req.policy_digest
                if approve and changed and req.status == PENDING:  # a deny is always safe to record
                    raise ApprovalError("policy-changed", f"the policy changed since request {request_id} was "
                                                          "made; nothing was granted. The agent must retry")
                updated = apply_vote(req, who, approve, reason, now, grant)
                self._put_request(cur, updated, insert=False)
                if updated.status == APPROVED:
                    made = grant_for(updated, new_id("gr"), now)
                    self._put_grant(cur, made)
        self._notify()
        if refused is not None:
            raise refused
        return updated, made

    def _put_grant(self, cur: Any, g: Grant) -> None:
        body = _canonical({k: v for k, v in g.to_json().items() if k not in ("uses", "revoked")})
        cur.execute("INSERT INTO grants (id, request_id, rule_id, policy_digest, action_digest, shape, session, "
                    "actor, agent, expires_at, uses, revoked, body, mac) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (g.id, g.request_id, g.rule_id, g.policy_digest, g.action_digest, g.shape, g.session, g.actor,
                     g.agent, g.expires_at, g.uses, int(g.revoked), body, self._mac(body)))

    def expire_requests(self, now: float) -> list[ApprovalRequest]:
        out = []
        with self._tx() as cur:
            cur.execute("SELECT body, mac FROM requests WHERE status = ? AND expires_at <= ?", (PENDING, now))
            for row in cur.fetchall():
                req = expire(self._req(row), now)
                self._put_request(cur, req, insert=False)
                out.append(req)
        if out:
            self._notify()
        return out

    def use_grant(self, *, rule_id: str, policy_digest: str, action_digest: str, shape: str, session: str,
                  now: float) -> Grant | None:
        with self._tx() as cur:
            cur.execute("SELECT body, mac, uses, revoked FROM grants WHERE rule_id = ? AND policy_digest = ? AND "
                        "revoked = 0 AND expires_at > ? AND (action_digest = ? OR session = ?) ORDER BY "
                        "expires_at", (rule_id, policy_digest, now, action_digest, session))
            for row in cur.fetchall():
                g = self._grant(row)
                if grant_covers(g, rule_id=rule_id, policy_digest=policy_digest, action_digest=action_digest,
                                shape=shape, session=session, now=now):
                    # the uses = ? guard makes a once grant single-use even under a weaker lock
                    cur.execute("UPDATE grants SET uses = uses + 1 WHERE id = ? AND uses = ?", (g.id, g.uses))
                    if cur.rowcount != 1:
                        continue
                    return replace(g, uses=g.uses + 1)
        return None

    def grants(self, *, active_at: float | None = None) -> list[Grant]:
        with self._read() as cur:
            if active_at is None:
                cur.execute("SELECT body, mac, uses, revoked FROM grants ORDER BY expires_at")
            else:
                cur.execute("SELECT body, mac, uses, revoked FROM grants WHERE revoked = 0 AND expires_at > ? "
                            "ORDER BY expires_at", (active_at,))
            rows = cur.fetchall()
        out = [self._grant(r) for r in rows]
        return [g for g in out if active_at is None or g.scope != "once" or g.uses == 0]

    def wait_request(self, request_id: str, timeout: float, *, clock: Any = None) -> ApprovalRequest | None:
        """Block until the request leaves ``pending`` (or ``timeout`` seconds pass); woken by notifications."""
        import time

        deadline = time.monotonic() + max(0.0, timeout)
        self.listen()  # before the first read, so a decision made in between still wakes us
        while True:
            req = self.get_request(request_id)
            if req is None or req.status != PENDING:
                return req
            left = deadline - time.monotonic()
            if left <= 0:
                return req
            self._wait_change(min(left, 0.5))

    # -- kill switch -------------------------------------------------------------------------
    def kill(self, switch: KillSwitch) -> int:
        revoked = 0
        with self._tx() as cur:
            cur.execute("DELETE FROM kills WHERE scope = ? AND value = ?", (switch.scope, switch.value))
            cur.execute("INSERT INTO kills (scope, value, reason, by_who, at) VALUES (?,?,?,?,?)",
                        (switch.scope, switch.value, switch.reason, switch.by, switch.at))
            column = {"all": None, "agent": "agent", "session": "session", "actor": "actor"}[switch.scope]
            where, args = ("revoked = 0", ()) if column is None else (f"revoked = 0 AND {column} = ?", (switch.value,))
            cur.execute(f"UPDATE grants SET revoked = 1 WHERE {where}", args)
            revoked += max(cur.rowcount, 0)
            cur.execute("SELECT body, mac FROM requests WHERE status = ?", (PENDING,))
            for row in cur.fetchall():
                req = self._req(row)
                if column is None or getattr(req, column) == switch.value:
                    self._put_request(cur, replace(req, status=REVOKED, decided_at=switch.at), insert=False)
                    revoked += 1
        self._notify()
        return revoked

    def resume(self, scope: str, value: str) -> bool:
        with self._tx() as cur:
            cur.execute("DELETE FROM kills WHERE scope = ? AND value = ?", (scope, value))
            done = cur.rowcount > 0
        self._notify()
        return done

    def kills(self) -> list[KillSwitch]:
        with self._read() as cur:
            cur.execute("SELECT scope, value, reason, by_who, at FROM kills ORDER BY at")
            return [KillSwitch(r[0], r[1], r[2], r[3], float(r[4])) for r in cur.fetchall()]

    # -- counters ----------------------------------------------------------------------------
    def hit(self, key: str, expires_at: float, now: float) -> int:
        return self.count([(key, expires_at)], None, now)[0][0]

    def count(self, keys: list[tuple[str, float]], repeat: tuple[str, str] | None,
              now: float) -> tuple[list[int], int]:
        """Counter increments and the loop-breaker repeat of one decision, in one transaction."""
        counts = []
        n = 0
        with self._tx() as cur:
            for key, expires_at in keys:
                cur.execute("DELETE FROM counters WHERE key = ? AND expires_at <= ?", (key, now))
                cur.execute("INSERT INTO counters (key, count, expires_at) VALUES (?, 1, ?) ON CONFLICT (key) DO "
                            "UPDATE SET count = counters.count + 1 RETURNING count", (key, expires_at))
                counts.append(int(cur.fetchone()[0]))
            if repeat is not None:
                n = self._repeat(cur, *repeat)
        return counts, n

    def counters(self, now: float) -> list[tuple[str, int, float]]:
        with self._read() as cur:
            cur.execute("SELECT key, count, expires_at FROM counters WHERE expires_at > ? ORDER BY key", (now,))
            return [(r[0], int(r[1]), float(r[2])) for r in cur.fetchall()]

    def repeat(self, session: str, digest: str) -> int:
        with self._tx() as cur:
            return self._repeat(cur, session, digest)

    @staticmethod
    def _repeat(cur: Any, session: str, digest: str) -> int:
        cur.execute("INSERT INTO repeats (session, digest, n) VALUES (?, ?, 1) ON CONFLICT (session) DO UPDATE "
                    "SET n = CASE WHEN repeats.digest = excluded.digest THEN repeats.n + 1 ELSE 1 END, "
                    "digest = excluded.digest RETURNING n", (session, digest))
        return int(cur.fetchone()[0])

    def next_task(self, session: str) -> int:
        with self._tx() as cur:
            cur.execute("INSERT INTO tasks (session, n) VALUES (?, 1) ON CONFLICT (session) DO UPDATE "
                        "SET n = tasks.n + 1 RETURNING n", (session,))
            return int(cur.fetchone()[0])

    def task(self, session: str) -> int:
        with self._read() as cur:
            cur.execute("SELECT n FROM tasks WHERE session = ?", (session,))
            row = cur.fetchone()
        return int(row[0]) if row else 0

    # -- taint -------------------------------------------------------------------------------
    def add_taint(self, session: str, origin: TaintOrigin) -> None:
        with self._tx() as cur:
            cur.execute("SELECT COUNT(*) FROM taint WHERE session = ?", (session,))
            if int(cur.fetchone()[0]) >= MAX_TAINT_PER_SESSION:
                return
            cur.execute("INSERT INTO taint (session, source, detail, tool, at) VALUES (?,?,?,?,?)",
                        (session, origin.source, origin.detail, origin.tool, origin.at))

    def taint(self, session: str) -> list[TaintOrigin]:
        with self._read() as cur:
            cur.execute("SELECT source, detail, tool, at FROM taint WHERE session = ? ORDER BY at", (session,))
            return [TaintOrigin(r[0], r[1], r[2], float(r[3])) for r in cur.fetchall()]

    def control_snapshot(self, session: str) -> tuple[list[KillSwitch], list[TaintOrigin]]:
        """Kills and this session's taint in one read (the hot path of every decision)."""
        with self._read() as cur:
            cur.execute("SELECT scope, value, reason, by_who, at FROM kills")
            kills = [KillSwitch(r[0], r[1], r[2], r[3], float(r[4])) for r in cur.fetchall()]
            cur.execute("SELECT source, detail, tool, at FROM taint WHERE session = ? ORDER BY at", (session,))
            taint = [TaintOrigin(r[0], r[1], r[2], float(r[3])) for r in cur.fetchall()]
        return kills, taint

    # -- runs --------------------------------------------------------------------------------
    def register_run(self, run_id: str, pid: int, *, session: str, agent: str, actor: str, now: float) -> None:
        with self._tx() as cur:
            cur.execute("INSERT INTO runs (id, pid, session, agent, actor, started_at) VALUES (?,?,?,?,?,?)",
                        (run_id, pid, session, agent, actor, now))

    def unregister_run(self, run_id: str) -> None:
        with self._tx() as cur:
            cur.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    def runs(self) -> list[dict[str, Any]]:
        with self._read() as cur:
            cur.execute("SELECT id, pid, session, agent, actor, started_at FROM runs ORDER BY started_at")
            return [{"id": r[0], "pid": int(r[1]), "session": r[2], "agent": r[3], "actor": r[4],
                     "started_at": float(r[5])} for r in cur.fetchall()]


def iter_statements(prefix: str = "") -> Iterator[str]:
    for stmt in DDL.format(p=prefix).split(";"):
        if stmt.strip():
            yield stmt
