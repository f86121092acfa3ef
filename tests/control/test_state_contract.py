"""The StateStore contract: SQLite and PostgreSQL behave the same (run against both)."""

from __future__ import annotations

import threading
import time

import pytest

from warden.core.control.approvals import (
    APPROVED,
    DENIED,
    EXPIRED,
    PENDING,
    REVOKED,
    ApprovalError,
    ApprovalRequest,
    Principal,
)
from warden.core.control.kill import KillSwitch
from warden.core.control.taint import TaintOrigin
from warden.ports import StateError, StateStore

NOW = 1_800_000_000.0


def req(rid: str = "ap-1", *, digest: str = "d1", quorum: int = 1, grant: str = "once", session: str = "s1",
        actor: str = "alice", agent: str = "claude-code", approvers=(), roles=(), expires: float = 600,
        created: float = NOW) -> ApprovalRequest:
    return ApprovalRequest(id=rid, action_digest=digest, policy_digest="p1", rule_id="ask-push", shape="Bash:git push",
                           session=session, actor=actor, agent=agent, workspace="/w", tool="Bash",
                           created_at=created, expires_at=created + expires, grant=grant, quorum=quorum,
                           approvers=tuple(approvers), roles=tuple(roles), tool_use_id=f"tu-{rid}")


def use(store, *, digest="d1", shape="Bash:git push", session="s1", now=NOW + 10, policy="p1", rule="ask-push"):
    return store.use_grant(rule_id=rule, policy_digest=policy, action_digest=digest, shape=shape, session=session,
                           now=now)


def test_implements_the_port(store) -> None:
    assert isinstance(store, StateStore)


def test_request_roundtrip_dedupe_and_lookup(store) -> None:
    r = store.create_request(req())
    again = store.create_request(req("ap-2"))  # same action, still pending: the first request is reused
    assert again.id == r.id == "ap-1"
    assert store.get_request("ap-1") == r
    assert store.find_request(tool_use_id="tu-ap-1").id == "ap-1"
    assert store.find_request(action_digest="d1").id == "ap-1"
    assert [x.id for x in store.list_requests(status=PENDING)] == ["ap-1"]
    assert store.get_request("nope") is None


def test_once_grant_is_used_exactly_once(store) -> None:
    store.create_request(req())
    assert use(store) is None  # nothing granted before the vote
    r, g = store.vote("ap-1", Principal("bob"), True, "looks fine", NOW + 5)
    assert r.status == APPROVED and g is not None and g.scope == "once" and g.approvers == ("bob",)
    assert use(store, digest="other") is None  # a different action is not covered
    first = use(store)
    assert first is not None and first.uses == 1
    assert use(store) is None


def test_session_and_duration_grants_cover_the_shape(store) -> None:
    store.create_request(req(grant="session"))
    store.vote("ap-1", Principal("bob"), True, "", NOW + 1)
    assert use(store, digest="d-other") is not None and use(store, digest="d-third") is not None
    assert use(store, shape="Bash:git reset") is None
    assert use(store, session="s2") is None
    assert use(store, policy="p2") is None  # a changed policy invalidates the grant
    store.create_request(req("ap-2", digest="d2", grant="duration:60", session="s3"))
    store.vote("ap-2", Principal("bob"), True, "", NOW + 1)
    assert use(store, session="s3", digest="x", now=NOW + 30) is not None
    assert use(store, session="s3", digest="x", now=NOW + 62) is None


def test_separation_of_duties_and_approver_lists(store) -> None:
    store.create_request(req(approvers=["carol"], roles=["release-manager"]))
    for who, code in ((Principal("alice"), "self"), (Principal("claude-code"), "self"),
                      (Principal(""), "identity"), (Principal("bob"), "not-approver")):
        with pytest.raises(ApprovalError) as exc:
            store.vote("ap-1", who, True, "", NOW + 1)
        assert exc.value.code == code
    assert store.get_request("ap-1").status == PENDING and use(store) is None
    r, g = store.vote("ap-1", Principal("dave", roles=("release-manager",)), True, "", NOW + 2)
    assert r.status == APPROVED and g is not None


def test_quorum_counts_distinct_people_and_one_deny_decides(store) -> None:
    store.create_request(req(quorum=2))
    r, g = store.vote("ap-1", Principal("bob"), True, "", NOW + 1)
    assert r.status == PENDING and g is None
    with pytest.raises(ApprovalError) as exc:
        store.vote("ap-1", Principal("bob"), True, "", NOW + 2)
    assert exc.value.code == "duplicate"
    r, g = store.vote("ap-1", Principal("carol"), True, "", NOW + 3)
    assert r.status == APPROVED and g.approvers == ("bob", "carol")
    store.create_request(req("ap-2", digest="d2", quorum=2))
    store.vote("ap-2", Principal("bob"), True, "", NOW + 1)
    r, g = store.vote("ap-2", Principal("carol"), False, "no", NOW + 2)
    assert r.status == DENIED and g is None and use(store, digest="d2") is None


def test_unknown_expired_decided_changed_and_clock_jumps_are_refused(store) -> None:
    with pytest.raises(ApprovalError) as exc:
        store.vote("ap-x", Principal("bob"), True, "", NOW)
    assert exc.value.code == "unknown"
    store.create_request(req(expires=60))
    with pytest.raises(ApprovalError) as exc:
        store.vote("ap-1", Principal("bob"), True, "", NOW - 3600)  # the clock jumped back an hour
    assert exc.value.code == "clock"
    with pytest.raises(ApprovalError) as exc:
        store.vote("ap-1", Principal("bob"), True, "", NOW + 1, policy_digest="p-new")
    assert exc.value.code == "policy-changed"
    with pytest.raises(ApprovalError) as exc:
        store.vote("ap-1", Principal("bob"), True, "", NOW + 61)
    assert exc.value.code == EXPIRED and store.get_request("ap-1").status == EXPIRED
    store.create_request(req("ap-2", digest="d2"))
    store.vote("ap-2", Principal("bob"), False, "", NOW + 1)
    with pytest.raises(ApprovalError) as exc:
        store.vote("ap-2", Principal("carol"), True, "", NOW + 2)
    assert exc.value.code == DENIED
    assert use(store) is None and use(store, digest="d2") is None


def test_expire_requests(store) -> None:
    store.create_request(req(expires=10))
    assert store.expire_requests(NOW + 5) == []
    assert [r.status for r in store.expire_requests(NOW + 11)] == [EXPIRED]


def test_kill_revokes_grants_and_requests_in_scope_and_resume(store) -> None:
    store.create_request(req(grant="session"))
    store.vote("ap-1", Principal("bob"), True, "", NOW + 1)
    store.create_request(req("ap-2", digest="d2", session="s2"))
    store.create_request(req("ap-3", digest="d3", session="s1"))
    n = store.kill(KillSwitch("session", "s1", "runaway", "bob", NOW + 2))
    assert n == 2  # the session grant and ap-3
    assert use(store, digest="zz") is None
    assert store.get_request("ap-3").status == REVOKED and store.get_request("ap-2").status == PENDING
    assert [(k.scope, k.value, k.reason) for k in store.kills()] == [("session", "s1", "runaway")]
    store.kill(KillSwitch("all", "", "stop", "bob", NOW + 3))
    assert store.get_request("ap-2").status == REVOKED
    assert store.resume("session", "s1") and not store.resume("session", "s1")
    assert [k.scope for k in store.kills()] == ["all"]


def test_counters_repeats_tasks_taint_runs(store) -> None:
    assert [store.hit("k", NOW + 60, NOW) for _ in range(3)] == [1, 2, 3]
    assert store.hit("k", NOW + 200, NOW + 61) == 1  # the window expired: a new count
    assert store.counters(NOW + 62) == [("k", 1, NOW + 200)]
    assert [store.repeat("s", d) for d in ("a", "a", "a", "b", "a")] == [1, 2, 3, 1, 1]
    assert store.task("s") == 0 and store.next_task("s") == 1 and store.next_task("s") == 2 and store.task("s") == 2
    store.add_taint("s", TaintOrigin("web", "https://x.example/", "WebFetch", NOW))
    assert [t.detail for t in store.taint("s")] == ["https://x.example/"] and store.taint("other") == []
    store.register_run("run-1", 4242, session="s", agent="a", actor="u", now=NOW)
    assert [r["pid"] for r in store.runs()] == [4242]
    store.unregister_run("run-1")
    assert store.runs() == []


def test_tampered_rows_are_refused(store, state_url) -> None:
    store.create_request(req())
    store.vote("ap-1", Principal("bob"), True, "", NOW + 1)
    with store._tx() as cur:  # an attacker with write access edits the grant to cover another action
        cur.execute("UPDATE grants SET body = REPLACE(body, '\"d1\"', '\"evil\"'), action_digest = 'evil'")
    with pytest.raises(StateError, match="integrity"):
        use(store, digest="evil")
    with store._tx() as cur:
        cur.execute("UPDATE requests SET body = REPLACE(body, '\"quorum\":1', '\"quorum\":0')")
    with pytest.raises(StateError, match="integrity"):
        store.get_request("ap-1")


def test_wait_request_wakes_on_a_vote_from_another_connection(store, state_url) -> None:
    from warden.adapters.state import open_state

    url, home = state_url
    store.create_request(req())
    other = open_state(home, url, environ={})

    def approve() -> None:
        time.sleep(0.2)
        other.vote("ap-1", Principal("bob"), True, "", time.time() * 0 + NOW + 1)

    t = threading.Thread(target=approve)
    started = time.monotonic()
    t.start()
    got = store.wait_request("ap-1", 5.0)
    waited = time.monotonic() - started
    t.join()
    other.close()
    assert got.status == APPROVED
    assert waited < 2.0  # woken by the notification, well before the 5 s timeout


def test_an_approver_may_narrow_the_grant_but_not_widen_it(store) -> None:
    store.create_request(req(grant="duration:1800"))
    with pytest.raises(ApprovalError) as exc:
        store.vote("ap-1", Principal("bob"), True, "", NOW + 1, grant="session")
    assert exc.value.code == "grant-too-wide"
    r, g = store.vote("ap-1", Principal("bob"), True, "", NOW + 1, grant="once")
    assert r.grant == "once" and g.scope == "once"


def test_count_increments_several_keys_and_the_repeat_in_one_call(store) -> None:
    assert store.count([("a", NOW + 60), ("b", NOW + 60)], ("s", "d"), NOW) == ([1, 1], 1)
    assert store.count([("a", NOW + 60)], ("s", "d"), NOW) == ([2], 2)
    assert store.count([], ("s", "other"), NOW) == ([], 1)
