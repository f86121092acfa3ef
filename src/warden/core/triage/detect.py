"""Triage: turn thousands of routine audit events into a few alerts that say why they matter.

One pass over the events in log order, with per-session state. Each detector looks for a pattern
*across* events, the kind a reviewer would otherwise find by reading a session end to end:

=========================  ===============================================================
``repeated-denials``       the same boundary denied again and again in one session (probing)
``limit-hit``              a rate limit, budget or loop breaker stopped the agent
``protected-touched``      a protected file, branch or agent guard was acted on (allowed = worse)
``new-host``               a host never contacted before in this log
``sensitive-read-egress``  credentials or secrets read, then network use in the same session
``unapproved-sensitive``   an edit to auth/CI/IaC/... went through with no approval on record
``off-hours``              activity outside working hours
``tainted-then-acted``     untrusted content entered the session, then it sent, pushed or published
=========================  ===============================================================

Alerts are deduplicated per session and kind (the events are attached, not repeated), scored
0–100, and ranked. Pure: events in, alerts out; the clock is the events' own timestamps.
Tolerant: events from an older format or with missing fields are read as far as they go, and
counted in ``unreadable`` when nothing can be made of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SEVERITY_OF = ((85, "critical"), (65, "high"), (40, "medium"), (0, "low"))
_SECRET_READ = ("secret.read", "secret.bulk_read", "secret.env_dump", "secret.env_read", "secret.helper",
                "cloud.credentials", "sys.account_read", "db.dump")
_NETWORK = ("net.connect", "net.upload", "net.lookup", "net.tunnel", "net.remote_exec", "flow.exfil",
            "flow.secret_env_to_net", "vcs.remote_write", "git.push", "pkg.publish")
_SEND = ("net.upload", "flow.exfil", "flow.secret_env_to_net", "git.push", "pkg.publish", "vcs.remote_write",
         "net.tunnel", "cloud.mutate")
_PROTECTED = ("guard.", "git.push_protected", "git.force_push_protected", "git.delete_protected", "fs.critical",
              "git.config_exec", "git.history_rewrite", "ci.workflow_write", "sys.auth_write", "persist.")
_SENSITIVE_CHANGE = ("change.auth", "change.authz", "change.crypto", "change.payments", "change.secrets",
                     "change.migration", "change.iac", "change.ci")
_LIMIT = ("limit.", "budget.", "loop.")
_TAINT = ("session.tainted", "taint.")


@dataclass
class TriageConfig:
    repeat_denials: int = 3  # the same rule denied this often in a session
    egress_window_s: float = 1800.0  # a network use this soon after a secret read
    work_start_hour: int = 7  # UTC working hours; outside is "off-hours"
    work_end_hour: int = 20
    weekend_off: bool = True
    baseline_events: int = 0  # the first N events only teach which hosts are usual


@dataclass
class Alert:
    kind: str
    session: str
    title: str
    why: str
    score: int
    agent: str = ""
    actor: str = ""
    first: str = ""
    last: str = ""
    events: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    base: int = 0

    def __post_init__(self) -> None:
        self.base = self.base or self.score

    @property
    def severity(self) -> str:
        return next(name for floor, name in SEVERITY_OF if self.score >= floor)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "severity": self.severity, "score": self.score, "session": self.session,
                "agent": self.agent, "actor": self.actor, "title": self.title, "why": self.why,
                "first": self.first, "last": self.last, "events": self.events[:50], "event_count": len(self.events),
                "details": self.details[:20]}


@dataclass
class _Session:
    secret_read_at: float | None = None
    secret_read_event: str = ""
    tainted: str = ""  # origin, once tainted
    denials: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class TriageResult:
    alerts: list[Alert]
    events: int
    decisions: int
    sessions: int
    unreadable: int
    by_decision: dict[str, int]
    by_rule: dict[str, int]
    timeline: list[tuple[str, str]]  # (timestamp, decision) of every decision, for plots
    approval_latency_s: list[float]
    problems: list[str]

    @property
    def reduction(self) -> float:
        return self.events / max(1, len(self.alerts))

    def to_json(self) -> dict[str, Any]:
        by_kind: dict[str, int] = {}
        for a in self.alerts:
            by_kind[a.kind] = by_kind.get(a.kind, 0) + 1
        return {"events": self.events, "decisions": self.decisions, "sessions": self.sessions,
                "alerts": [a.to_json() for a in self.alerts], "alert_count": len(self.alerts),
                "alerts_by_kind": by_kind, "events_per_alert": round(self.reduction, 1),
                "by_decision": self.by_decision, "unreadable": self.unreadable, "problems": self.problems}


def _epoch(ts: str) -> float | None:
    """RFC 3339 (the log's fixed form, or close to it) -> epoch seconds, without datetime."""
    try:
        y, mo, d = int(ts[0:4]), int(ts[5:7]), int(ts[8:10])
        hh, mm = int(ts[11:13]), int(ts[14:16])
        ss = float(ts[17:].rstrip("Z").split("+")[0] or 0)
    except (ValueError, IndexError, TypeError):
        return None
    yy = y - (mo <= 2)
    era = yy // 400
    yoe = yy - era * 400
    doy = (153 * (mo + (-3 if mo > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    return days * 86400 + hh * 3600 + mm * 60 + ss


def _kinds(ev: Mapping[str, Any]) -> list[str]:
    res = ev.get("result") if isinstance(ev.get("result"), Mapping) else {}
    facts = res.get("facts") if isinstance(res, Mapping) else None
    return [str(f.get("kind", "")) for f in facts or [] if isinstance(f, Mapping)]


def _has(kinds: list[str], prefixes: tuple[str, ...]) -> list[str]:
    return [k for k in kinds if k.startswith(prefixes)]


def _hosts(ev: Mapping[str, Any]) -> list[str]:
    inp = ev.get("input") if isinstance(ev.get("input"), Mapping) else {}
    out = []
    url = inp.get("url") if isinstance(inp, Mapping) else None
    if isinstance(url, str) and "://" in url:
        host = url.split("://", 1)[1].split("/", 1)[0].split("@")[-1].split(":")[0].lower()
        if host:
            out.append(host)
    res = ev.get("result") if isinstance(ev.get("result"), Mapping) else {}
    for f in (res.get("facts") if isinstance(res, Mapping) else None) or []:
        if isinstance(f, Mapping) and isinstance(f.get("data"), Mapping) and isinstance(f["data"].get("host"), str):
            out.append(f["data"]["host"].lower())
    return out


class Triage:
    """Feed events in log order with :meth:`add`; :meth:`result` ranks the alerts."""

    def __init__(self, config: TriageConfig | None = None) -> None:
        self.c = config or TriageConfig()
        self.alerts: dict[tuple[str, str, str], Alert] = {}
        self.sessions: dict[str, _Session] = {}
        self.known_hosts: set[str] = set()
        self.approved: set[str] = set()  # decision ids with a granted approval
        self.pending_sensitive: dict[str, tuple[str, Mapping[str, Any], list[str]]] = {}
        self.decision_ts: dict[str, float] = {}
        self.latency: list[float] = []
        self.n = self.decisions = self.unreadable = 0
        self.by_decision: dict[str, int] = {}
        self.by_rule: dict[str, int] = {}
        self.timeline: list[tuple[str, str]] = []
        self.problems: list[str] = []
        self._last_seq: int | None = None

    # -- alert bookkeeping -------------------------------------------------------------------
    def _raise(self, kind: str, ev: Mapping[str, Any], title: str, why: str, score: int, detail: str = "",
               key: str = "") -> None:
        session = str(ev.get("session") or "(no session)")
        k = (kind, session, key)
        alert = self.alerts.get(k)
        ts = str(ev.get("timestamp", ""))
        if alert is None:
            actor = ev.get("actor") if isinstance(ev.get("actor"), Mapping) else {}
            alert = self.alerts[k] = Alert(kind, session, title, why, score, str(ev.get("agent") or ""),
                                           str(actor.get("id", "")) if isinstance(actor, Mapping) else "", ts, ts)
        else:
            alert.base = max(alert.base, score)
            # more evidence makes it a little more urgent, never a different class of alert
            alert.score = min(100, alert.base + min(10, 2 * len(alert.events)))
            alert.last = ts
        eid = str(ev.get("id", ""))
        if eid and eid not in alert.events:
            alert.events.append(eid)
        if detail and detail not in alert.details:
            alert.details.append(detail[:300])

    # -- one event ---------------------------------------------------------------------------
    def add(self, ev: Mapping[str, Any]) -> None:
        self.n += 1
        seq = ev.get("seq") if isinstance(ev, Mapping) else None
        if isinstance(seq, int):
            if self._last_seq is not None and seq > self._last_seq + 1:
                self.problems.append(f"gap in the log: events {self._last_seq + 1}..{seq - 1} are missing")
            self._last_seq = seq
        if not isinstance(ev, Mapping) or not ev.get("kind"):
            self.unreadable += 1
            return
        kind = ev.get("kind")
        if kind == "approval":
            did = str(ev.get("decision_id", ""))
            if ev.get("granted"):
                self.approved.add(did)
                pending = self.pending_sensitive.pop(did, None)
                del pending
            t0, t1 = self.decision_ts.get(did), _epoch(str(ev.get("timestamp", "")))
            if t0 is not None and t1 is not None and t1 >= t0:
                self.latency.append(t1 - t0)
            return
        if kind == "session":
            return
        if kind in ("outcome", "model", "error"):
            kinds = _has(_kinds(ev), _TAINT)
            if kinds or (kind == "outcome" and (ev.get("outcome") or {}).get("tainted")):
                self.sessions.setdefault(str(ev.get("session") or ""), _Session()).tainted = kinds[0] if kinds else "outcome"
            return
        if kind != "decision":
            return
        self._decision(ev)

    def _decision(self, ev: Mapping[str, Any]) -> None:
        self.decisions += 1
        raw = ev.get("result")
        res: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        decision = str(res.get("decision", ""))
        self.by_decision[decision] = self.by_decision.get(decision, 0) + 1
        rules = [str(r.get("id", "")) for r in (res.get("rules") or []) if isinstance(r, Mapping)]
        for r in rules[:3]:
            self.by_rule[r] = self.by_rule.get(r, 0) + 1
        ts = str(ev.get("timestamp", ""))
        self.timeline.append((ts, decision))
        t = _epoch(ts)
        if t is not None and ev.get("id"):
            self.decision_ts[str(ev["id"])] = t
        session = str(ev.get("session") or "")
        st = self.sessions.setdefault(session, _Session())
        kinds = _kinds(ev)
        subject = _subject(ev)
        allowed = decision == "allow"

        if decision == "deny" and rules:
            hits = st.denials.setdefault(rules[0], [])
            hits.append(str(ev.get("id", "")))
            if len(hits) >= self.c.repeat_denials:
                self._raise("repeated-denials", ev, f"Repeated denials of {rules[0]}",
                            f"the agent hit the same boundary ({rules[0]}) {len(hits)} times in one session: "
                            "it is probing for a way around it, or stuck", 45 + 5 * min(len(hits), 8),
                            subject, key=rules[0])
                alert = self.alerts[("repeated-denials", session or "(no session)", rules[0])]
                alert.events[:] = list(dict.fromkeys([*hits, *alert.events]))
        limits = _has(kinds, _LIMIT) + [r for r in rules if r.startswith(("limit", "loop", "budget"))]
        if limits:
            self._raise("limit-hit", ev, "A rate limit or loop breaker stopped the agent",
                        f"{limits[0]}: a runaway or looping agent was paused", 55, subject)
        protected = _has(kinds, _PROTECTED)
        if protected:
            score = 80 if allowed else 50
            verb = "acted on" if allowed else "tried to act on"
            self._raise("protected-touched", ev, f"Protected target {verb}",
                        f"the agent {verb} a protected file, branch or guard ({protected[0]})", score, subject)
        hosts = _hosts(ev)
        net = _has(kinds, _NETWORK) or hosts
        if self.n > self.c.baseline_events:
            for h in hosts:
                if h not in self.known_hosts:
                    self._raise("new-host", ev, "A new host was contacted",
                                f"{h} was never contacted before in this log", 25, h)
        self.known_hosts.update(hosts)
        secret = _has(kinds, _SECRET_READ)
        if secret and decision != "deny":
            st.secret_read_at, st.secret_read_event = t, str(ev.get("id", ""))
        elif net and st.secret_read_at is not None and t is not None and decision != "deny" \
                and t - st.secret_read_at <= self.c.egress_window_s:
            self._raise("sensitive-read-egress", ev, "Secrets read, then network use",
                        "credentials were read and the same session then reached the network within "
                        f"{int((t - st.secret_read_at) // 60)} min: a possible exfiltration path", 85, subject)
            alert = self.alerts[("sensitive-read-egress", session or "(no session)", "")]
            if st.secret_read_event and st.secret_read_event not in alert.events:
                alert.events.insert(0, st.secret_read_event)
        sends = _has(kinds, _SEND) or (net and ev.get("tool") in ("WebFetch", "Bash") and decision != "deny")
        if st.tainted and sends and decision != "deny":
            self._raise("tainted-then-acted", ev, "Untrusted input, then an outbound action",
                        f"the session took in untrusted content ({st.tainted}) and then sent data out, pushed or "
                        "published: the lethal trifecta", 88, subject)
        if _has(kinds, _TAINT):
            st.tainted = _has(kinds, _TAINT)[0]
        sensitive = _has(kinds, _SENSITIVE_CHANGE)
        if sensitive and decision in ("allow", "ask"):
            branch = str((ev.get("context") or {}).get("branch", "")) if isinstance(ev.get("context"), Mapping) else ""
            self.pending_sensitive[str(ev.get("id", ""))] = (branch, ev, sensitive)
        if t is not None and self._off_hours(t):
            self._raise("off-hours", ev, "Agent activity outside working hours",
                        "agent actions ran outside working hours, when nobody is likely to watch", 20,
                        key="")

    def _off_hours(self, t: float) -> bool:
        hour = int(t // 3600) % 24
        weekday = (int(t // 86400) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
        if self.c.weekend_off and weekday >= 5:
            return True
        return not (self.c.work_start_hour <= hour < self.c.work_end_hour)

    # -- end ---------------------------------------------------------------------------------
    def result(self) -> TriageResult:
        for did, (branch, ev, sensitive) in self.pending_sensitive.items():
            if did in self.approved:
                continue
            area = sensitive[0].split(".", 1)[1]
            protected = branch in ("main", "master", "production", "prod") or branch.startswith("release")
            where = f" on {branch}" if branch else ""
            self._raise("unapproved-sensitive", ev, f"Unreviewed change to {area} code{where}",
                        f"the agent modified {area} logic{where} without a review approval on record",
                        82 if protected else 62, _subject(ev), key=area)
        alerts = sorted(self.alerts.values(), key=lambda a: (-a.score, a.first))
        return TriageResult(alerts, self.n, self.decisions, len(self.sessions), self.unreadable, self.by_decision,
                            self.by_rule, self.timeline, self.latency, self.problems[:50])


def _subject(ev: Mapping[str, Any]) -> str:
    inp = ev.get("input") if isinstance(ev.get("input"), Mapping) else {}
    if not isinstance(inp, Mapping):
        return str(ev.get("tool", ""))
    return str(inp.get("command") or inp.get("file_path") or inp.get("url") or ev.get("tool", ""))[:300]


def triage(events: Iterable[Mapping[str, Any]], config: TriageConfig | None = None) -> TriageResult:
    t = Triage(config)
    for ev in events:
        t.add(ev)
    return t.result()
