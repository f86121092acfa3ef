"""Every published endpoint, every role: the server authorizes each request itself, whatever the UI shows.

The matrix below is the authorization contract. A route added to the API without a row here fails this
test, so nobody publishes an endpoint whose roles were never decided. Each role is tried on each operation
(with a real key, over real HTTP): a role outside the row must get 403 (and the refusal is audited), a
role inside it must not; no key is 401 everywhere.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_proc import ServerProcess, h  # noqa: E402

ROLES = ("agent", "developer", "approver", "auditor", "admin")
ANY = set(ROLES)
# (method, path) -> roles allowed (admin is allowed everything)
MATRIX: dict[tuple[str, str], set[str]] = {
    ("get", "/v1/policy/key"): ANY,
    ("post", "/v1/policy/key/rotate"): {"admin"},
    ("get", "/v1/policy/bundle"): ANY,
    ("get", "/v1/whoami"): ANY,
    ("get", "/metrics"): {"auditor", "approver", "admin"},
    ("post", "/v1/decide"): {"agent", "admin"},
    ("post", "/v1/events"): {"agent", "admin"},
    ("get", "/v1/events"): {"auditor", "approver", "admin"},
    ("get", "/v1/approvals"): {"developer", "approver", "auditor", "admin"},
    ("post", "/v1/approvals"): {"agent", "admin"},
    ("get", "/v1/approvals/{request_id}"): ANY,
    ("post", "/v1/approvals/{request_id}/approve"): {"approver", "admin"},
    ("post", "/v1/approvals/{request_id}/deny"): {"approver", "admin"},
    ("get", "/v1/approvals/{request_id}/wait"): {"agent", "admin"},
    ("post", "/v1/kill"): {"admin"},
    ("post", "/v1/resume"): {"admin"},
    ("get", "/v1/kills"): {"agent", "approver", "auditor", "admin"},
    ("get", "/v1/keys"): {"admin"},
    ("post", "/v1/keys"): {"admin"},
    ("delete", "/v1/keys/{key_id}"): {"admin"},
    ("get", "/v1/dashboard"): {"auditor", "approver", "admin"},
    ("get", "/v1/sync/watch"): {"agent", "approver", "auditor", "admin"},
    ("post", "/v1/machines/report"): {"agent", "admin"},
    ("get", "/v1/policy"): {"auditor", "admin"},
    ("put", "/v1/policy"): {"admin"},
    ("get", "/v1/policy/versions/{version}"): {"auditor", "admin"},
    ("get", "/v1/evidence/key"): ANY,
    ("get", "/v1/evidence/machines"): {"agent", "auditor", "admin"},  # an agent sees its own machines
    ("get", "/v1/evidence/verify"): {"agent", "auditor", "admin"},
    ("get", "/v1/evidence/pack"): {"agent", "developer", "auditor", "admin"},  # agent, developer: own sessions
    ("post", "/v1/evidence/machines/{machine}/reset"): {"admin"},
    # what the web pages show, as JSON: people only, scoped to a developer's own (warden.server.ui_data)
    ("get", "/v1/ui/queue"): {"developer", "approver", "auditor", "admin"},
    ("get", "/v1/ui/sessions"): {"developer", "approver", "auditor", "admin"},
    ("get", "/v1/ui/sessions/{session}"): {"developer", "approver", "auditor", "admin"},
    ("get", "/v1/ui/dashboard"): {"developer", "approver", "auditor", "admin"},
}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = ServerProcess(tmp_path_factory.mktemp("roles")).start()
    s.role_keys = {role: s.key(f"{role}-r", role) for role in ROLES if role != "admin"}
    s.role_keys["admin"] = s.admin
    yield s
    s.stop()


def _operations(srv: ServerProcess) -> list[tuple[str, str]]:
    spec = httpx.get(srv.url + "/openapi.json", timeout=10).json()
    return [(m, p) for p, ops in spec["paths"].items() for m in ops if m in ("get", "post", "put", "delete", "patch")]


def test_every_published_operation_has_a_row_in_the_matrix(srv):
    missing = [op for op in _operations(srv) if op not in MATRIX]
    assert not missing, f"decide who may call these and add them to MATRIX: {missing}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_the_matrix_allows(srv, role):
    key = srv.role_keys[role]
    wrong = []
    for method, path in _operations(srv):
        allowed = MATRIX.get((method, path), set())
        url = srv.url + path.replace("{request_id}", "ap-none").replace("{key_id}", "none").replace(
            "{version}", "none").replace("{machine}", "none").replace("{session}", "none")
        params = {"timeout": "0"} if path.endswith(("/wait", "/watch")) else None
        if path == "/v1/evidence/pack":  # a required parameter: without it every role gets 422
            params = {"session": "no-such-session"}
        r = httpx.request(method, url, headers=h(key), json={}, params=params, timeout=20)
        refused = r.status_code == 403
        if (role in allowed) == refused:
            wrong.append((method, path, r.status_code, r.text[:120]))
    assert not wrong, f"{role}: {wrong}"


def test_no_key_is_401_on_every_operation(srv):
    for method, path in _operations(srv):
        r = httpx.request(method, srv.url + path.replace("{request_id}", "x").replace("{key_id}", "x").replace(
            "{version}", "x").replace("{machine}", "x"), json={}, timeout=10)
        assert r.status_code == 401, (method, path, r.status_code)


def test_refusals_are_in_the_central_audit_log(srv):
    httpx.post(srv.url + "/v1/kill", json={"scope": "all", "reason": "x"}, headers=h(srv.role_keys["auditor"]))
    evs = httpx.get(srv.url + "/v1/events", params={"kind": "error", "limit": 200},
                    headers=h(srv.role_keys["auditor"])).json()
    assert any("auditor" in str(e.get("error", "")) and "may not" in str(e.get("error", "")) for e in evs), evs[:3]
