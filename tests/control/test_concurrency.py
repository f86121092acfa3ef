"""8 processes against one state store at once: no lost or double-counted increments, no double
use of a `once` grant, one outcome for concurrent approve/deny (SQLite and PostgreSQL).

The property: whatever the interleaving, the counts handed out are exactly 1..N with no gaps or
repeats, a once grant is used by exactly one process, and a request raced by approvers and deniers
ends in one state with the votes that state implies. Each trial runs real processes (forked
processes, each opening its own connection), repeated over several rounds for more interleavings.
"""

from __future__ import annotations

import multiprocessing as mp
import time


from warden.core.control.approvals import ApprovalError, ApprovalRequest, Principal

WORKERS = 8
HITS = 40
NOW = 1_800_000_000.0


def _open(home: str, url: str | None):
    from warden.adapters.state import open_state

    return open_state(home, url, environ={})


def _hitter(home: str, url: str | None, key: str, n: int, start, out) -> None:
    store = _open(home, url)
    start.wait()
    got = [store.hit(key, NOW + 3600, NOW) for _ in range(n)]
    store.close()
    out.put(got)


def _user(home: str, url: str | None, start, out) -> None:
    store = _open(home, url)
    start.wait()
    g = store.use_grant(rule_id="r", policy_digest="p", action_digest="d", shape="s", session="s1", now=NOW + 1)
    store.close()
    out.put(g.id if g else None)


def _voter(home: str, url: str | None, who: str, approve: bool, start, out) -> None:
    store = _open(home, url)
    start.wait()
    try:
        r, _ = store.vote("ap-race", Principal(who), approve, "", NOW + 1)
        out.put((who, approve, r.status))
    except ApprovalError as exc:
        out.put((who, approve, "refused:" + exc.code))
    store.close()


def _run(target, args_list) -> list:
    ctx = mp.get_context("fork")  # children open their own connections; os._exit skips finalizers
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*a, start, out)) for a in args_list]
    for p in procs:
        p.start()
    time.sleep(0.3)  # every worker has opened its store and waits at the start line
    start.set()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    return results


def _request(**kw) -> ApprovalRequest:
    base = dict(id="ap-race", action_digest="d", policy_digest="p", rule_id="r", shape="s", session="s1",
                actor="alice", agent="cc", workspace="/w", tool="Bash", created_at=NOW, expires_at=NOW + 600)
    base.update(kw)
    return ApprovalRequest(**base)


def test_counter_increments_are_neither_lost_nor_doubled(state_url) -> None:
    url, home = state_url
    for round_ in range(2):
        results = _run(_hitter, [(str(home), url, f"k{round_}", HITS)] * WORKERS)
        handed = sorted(c for got in results for c in got)
        assert handed == list(range(1, WORKERS * HITS + 1))
        assert all(got == sorted(got) for got in results)  # each process sees its own counts grow


def test_a_once_grant_is_used_exactly_once(state_url, store) -> None:
    url, home = state_url
    for round_ in range(3):
        store.create_request(_request(id=f"ap-{round_}", action_digest="d"))
        store.vote(f"ap-{round_}", Principal("bob"), True, "", NOW)
        winners = [g for g in _run(_user, [(str(home), url)] * WORKERS) if g]
        assert len(winners) == 1


def test_concurrent_approve_and_deny_end_in_one_state(state_url, store) -> None:
    url, home = state_url
    store.create_request(_request(quorum=2))
    voters = [(str(home), url, f"p{i}", i % 2 == 0) for i in range(WORKERS)]
    results = _run(_voter, voters)
    final = store.get_request("ap-race")
    counted = [(v.approver, v.approve) for v in final.votes]
    assert final.status in ("approved", "denied")
    accepted = [r for r in results if not r[2].startswith("refused")]
    assert len(accepted) == len(counted)  # every vote that returned success is in the store, no other
    refused = [r for r in results if r[2].startswith("refused")]
    assert all(r[2] in ("refused:approved", "refused:denied") for r in refused)
    if final.status == "denied":
        assert counted[-1][1] is False and sum(1 for _, a in counted if a) < 2
    else:
        assert sum(1 for _, a in counted if a) == 2 and all(a for _, a in counted)
    grants = [g for g in store.grants() if g.request_id == "ap-race"]
    assert len(grants) == (1 if final.status == "approved" else 0)
