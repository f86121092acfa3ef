"""schemathesis (4.x) over every operation the real team server publishes, with an admin key and an agent key.

For each operation the published OpenAPI is loaded from a live `warden server --dev` (`from_url`) and cases are
generated from it, schema-valid ones and schema-violating ones, plus a round with the ids of a real pending
approval request and a real key in the path. Each case is sent over HTTP and held to the schema by schemathesis'
checks (`call_and_validate`): no 5xx, documented status codes and content types, responses that match their
schemas, schema-valid bodies taken, schema-violating ones refused. A few inputs the generator never makes (lone
UTF-16 surrogates) are sent by hand. Bounded: EXAMPLES cases per operation, mode and role (about a minute here).

The pytest plugin's lazy loader (`schemathesis.pytest.from_fixture`) fails on pytest 9 (no `Function._nodeid`),
so the operations are driven with Hypothesis directly, one `@given` per operation.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in the dev extras: pip install -e '.[dev]'")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_proc import ServerProcess, h  # noqa: E402

EXAMPLES = 20
ID_PARAMETERS = ("request_id", "key_id")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("fuzz")).start()
    yield srv
    srv.stop()


def _real_ids(srv: ServerProcess, agent: str) -> dict[str, str]:
    """A pending approval request the agent made, and a spare key: the id routes see more than 404s."""
    r = httpx.post(srv.url + "/v1/decide", headers=h(agent), timeout=30,
                   json={"tool_name": "Bash", "tool_input": {"command": "deploy prod"}, "session_id": "fuzz"})
    assert r.status_code == 200 and r.json()["decision"] == "ask", r.text
    pending = httpx.get(srv.url + "/v1/approvals", headers=h(srv.admin), timeout=30).json()
    assert pending, "the ask did not queue a request"
    spare = httpx.post(srv.url + "/v1/keys", headers=h(srv.admin), json={"owner": "spare", "role": "auditor"},
                       timeout=30).json()
    return {"request_id": pending[0]["id"], "key_id": spare["id"]}


def _fuzz(operation: Any, key: str, mode: GenerationMode, path_parameters: dict[str, str] | None) -> str | None:
    """The first failure schemathesis reports for this operation, None when every case passes."""
    kwargs: dict[str, Any] = {"path_parameters": path_parameters} if path_parameters else {}
    if path_parameters and operation.path.endswith("/wait"):  # a real pending request would hold each case 55 s
        kwargs["query"] = {"timeout": 0}

    @given(case=operation.as_strategy(generation_mode=mode, **kwargs))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,  # the same cases in CI
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, timeout=30)

    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 — schemathesis' FailureGroup is a BaseExceptionGroup
        return f"{operation.label} [{mode.value}{', real ids' if path_parameters else ''}]: {exc}"
    return None


@pytest.mark.parametrize("role", ["admin", "agent"])
def test_every_published_operation_holds_to_its_schema(tmp_path: Path, role: str):
    server = ServerProcess(tmp_path).start()  # its own: the admin's run leaves kill switches and rotated keys
    try:
        _fuzz_all(server, role)
    finally:
        server.stop()


def _fuzz_all(server: ServerProcess, role: str) -> None:
    agent = server.key(f"fuzz-{role}", "agent")
    ids = _real_ids(server, agent)
    key = server.admin if role == "admin" else agent
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    # a body can fit the schema and still not be taken: a policy that does not load, a request that is not one
    # (422, documented on those routes). 400 stays a failure for schema-valid data.
    accepted = schema.config.checks.positive_data_acceptance
    schema.config.checks.positive_data_acceptance = type(accepted)(
        expected_statuses=[*accepted.expected_statuses, "422"])
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {op.label for op in operations}
    # what the server publishes, so a route that drops out of the schema (or a new one) is noticed here
    assert {"POST /v1/decide", "POST /v1/events", "GET /v1/policy/bundle", "GET /v1/policy/key", "PUT /v1/policy",
            "POST /v1/policy/key/rotate", "POST /v1/kill", "POST /v1/keys", "GET /v1/approvals/{request_id}/wait",
            "POST /v1/approvals/{request_id}/approve", "DELETE /v1/keys/{key_id}"} <= labels, labels
    failures = []
    for op in operations:
        names = {p.name for p in op.path_parameters}
        runs: list[tuple[GenerationMode, dict[str, str] | None]] = [
            (GenerationMode.POSITIVE, None), (GenerationMode.NEGATIVE, None)]
        if names & set(ID_PARAMETERS):
            runs.append((GenerationMode.POSITIVE, {n: ids[n] for n in names if n in ids}))
        for mode, path_parameters in runs:
            found = _fuzz(op, key, mode, path_parameters)
            if found:
                failures.append(found)
    assert not failures, "\n\n".join(failures)


# /v1/decide parses its own body on the fast path and answers a verdict for such text instead
@pytest.mark.parametrize("route", ["/v1/events", "/v1/kill", "/v1/resume", "/v1/keys",
                                   "/v1/approvals/x/approve"])
def test_a_lone_surrogate_in_a_body_is_a_clear_400(server: ServerProcess, route: str):
    """JSON can spell text that is not text (a lone UTF-16 surrogate); the generator never does, a client may."""
    body = {"tool_name": "Bash", "tool_input": {"command": "ls"}, "machine": "m\ud800", "events": [],
            "reason": "r\udfff", "owner": "o\ud800", "scope": "all"}
    raw = json.dumps(body)  # ensure_ascii: the surrogates travel as \ud800 escapes
    r = httpx.post(server.url + route, content=raw, timeout=30,
                   headers={**h(server.admin), "content-type": "application/json"})
    assert r.status_code == 400 and "surrogate" in r.json()["error"], (r.status_code, r.text)


def test_a_wrong_method_lists_every_method_the_path_takes(server: ServerProcess):
    r = httpx.request("PUT", server.url + "/v1/events", headers=h(server.admin), timeout=30)
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) >= {"GET", "POST"}, r.headers
    assert "error" in r.json()


def test_a_query_parameter_given_twice_is_refused(server: ServerProcess):
    r = httpx.get(server.url + "/v1/events", params=[("limit", "1"), ("limit", "1000")], headers=h(server.admin),
                  timeout=30)
    assert r.status_code == 400 and "limit" in r.json()["error"], r.text
    assert httpx.get(server.url + "/v1/events", params={"limit": "5", "q": "x"}, headers=h(server.admin),
                     timeout=30).status_code == 200
