"""OTLP/HTTP export against a real receiver: an HTTP server that decodes the protobuf requests."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from audit_helpers import make_decision
from test_audit_store import SRC, TESTS

from warden.adapters.audit import open_recorder
from warden.core.decision import Decision

@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh, empty $WARDEN_HOME."""
    (tmp_path / "wardenhome").mkdir()
    return tmp_path / "wardenhome"


trace_pb2 = pytest.importorskip("opentelemetry.proto.collector.trace.v1.trace_service_pb2")
metrics_pb2 = pytest.importorskip("opentelemetry.proto.collector.metrics.v1.metrics_service_pb2")


class Receiver:
    def __init__(self) -> None:
        self.spans: list = []
        self.metrics: list = []
        self.requests: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                receiver.requests.append(self.path)
                if self.path == "/v1/traces":
                    req = trace_pb2.ExportTraceServiceRequest()
                    req.ParseFromString(body)
                    for rs in req.resource_spans:
                        res = {a.key: _val(a.value) for a in rs.resource.attributes}
                        for ss in rs.scope_spans:
                            receiver.spans.extend((res, s) for s in ss.spans)
                    reply = trace_pb2.ExportTraceServiceResponse().SerializeToString()
                elif self.path == "/v1/metrics":
                    req = metrics_pb2.ExportMetricsServiceRequest()
                    req.ParseFromString(body)
                    for rm in req.resource_metrics:
                        for sm in rm.scope_metrics:
                            receiver.metrics.extend(sm.metrics)
                    reply = metrics_pb2.ExportMetricsServiceResponse().SerializeToString()
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _val(v):
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [_val(x) for x in v.array_value.values]
    return getattr(v, kind) if kind else None


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def attrs(span) -> dict:
    return {a.key: _val(a.value) for a in span.attributes}


def test_decisions_become_genai_spans_and_counters(receiver: Receiver, home: Path) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_SERVICE_NAME": "warden-test", "WARDEN_OTEL_MODE": "inline"}
    rec = open_recorder(str(home), env)
    assert rec.telemetry is not None
    rec.record(make_decision(1, session="conv-1", decision=Decision.DENY, rule="no-rm", command="rm -rf /"))
    rec.record(make_decision(2, session="conv-1"))
    rec.record(make_decision(3, session="conv-1"))
    rec.close()

    assert len(receiver.spans) == 3
    res, span = receiver.spans[0]
    assert res["service.name"] == "warden-test"
    assert span.name == "execute_tool Bash"
    a = attrs(span)
    assert a["gen_ai.operation.name"] == "execute_tool"
    assert a["gen_ai.tool.name"] == "Bash"
    assert a["gen_ai.tool.call.id"] == "toolu_1"
    assert a["gen_ai.conversation.id"] == "conv-1"
    assert a["gen_ai.agent.name"] == "claude-code" and a["gen_ai.agent.id"] == "claude-code"
    assert a["warden.decision"] == "deny" and a["warden.rule"] == "no-rm"
    assert a["warden.policy.digest"] == "sha256:abc"
    assert a["warden.audit.seq"] == 1 and len(a["warden.audit.hash"]) == 64
    assert span.end_time_unix_nano - span.start_time_unix_nano == 500_000  # duration_ms=0.5

    counters = [m for m in receiver.metrics if m.name == "warden.decisions"]
    assert counters, [m.name for m in receiver.metrics]
    points = [p for m in counters for p in m.sum.data_points]
    by_decision: dict[str, int] = {}
    for p in points:
        d = {a.key: _val(a.value) for a in p.attributes}["warden.decision"]
        by_decision[d] = by_decision.get(d, 0) + p.as_int
    assert by_decision == {"deny": 1, "allow": 2}
    assert counters[0].sum.aggregation_temporality == 1  # DELTA: each hook process reports its own
    assert any(m.name == "warden.decision.duration" for m in receiver.metrics)

    # the recorded event and the span agree: the collector is an outside witness of the chain
    store_rec = open_recorder(str(home), {})
    try:
        first = next(iter(store_rec.store.iter_events()))
    finally:
        store_rec.close()
    assert first["hash"] == a["warden.audit.hash"]


HOOK = """
import sys, os
sys.path[:0] = [{src!r}, {tests!r}]
from audit_helpers import make_decision
from warden.adapters.audit import open_recorder

rec = open_recorder(sys.argv[1], dict(os.environ))
rec.record(make_decision(7, session="hook"))
rec.close()
print("telemetry-modules" if "opentelemetry.sdk.trace" in sys.modules else "no-telemetry-modules")
"""


def test_short_lived_hook_process_flushes_on_exit(receiver: Receiver, home: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "WARDEN_OTEL_MODE": "inline"}
    out = subprocess.run([sys.executable, "-c", HOOK.format(src=SRC, tests=TESTS), str(home)], env=env,
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "telemetry-modules"
    assert [s.name for _, s in receiver.spans] == ["execute_tool Bash"]


def test_dead_collector_never_fails_the_decision(home: Path) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens here now
    env = {"PATH": "/usr/bin:/bin", "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
           "WARDEN_OTEL_TIMEOUT_MS": "300", "WARDEN_OTEL_MODE": "inline"}
    out = subprocess.run([sys.executable, "-c", HOOK.format(src=SRC, tests=TESTS), str(home)], env=env,
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    rec = open_recorder(str(home), {})
    try:
        assert rec.store.count() == 1 and rec.store.verify().ok
    finally:
        rec.close()


def test_without_endpoint_opentelemetry_is_not_imported(home: Path) -> None:
    out = subprocess.run([sys.executable, "-c", HOOK.format(src=SRC, tests=TESTS), str(home)],
                         env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "no-telemetry-modules"
    code = (f"import sys, json; sys.path.insert(0, {SRC!r}); import warden.adapters.audit; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('opentelemetry'))))")
    check = subprocess.run([sys.executable, "-c", code],
                           capture_output=True, text=True, timeout=60, check=False)
    assert json.loads(check.stdout) == []


def test_outbox_export_is_at_least_once(receiver: Receiver, home: Path) -> None:
    from click.testing import CliRunner

    from warden.cli.audit import audit

    # in outbox mode recorders do not even import OpenTelemetry
    rec = open_recorder(str(home), {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "WARDEN_OTEL_MODE": "outbox"})
    assert rec.telemetry is None
    for i in range(5):
        rec.record(make_decision(i, session="outbox"))
    rec.close()

    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    s.close()
    runner = CliRunner()
    res = runner.invoke(audit, ["otel-export", "--home", str(home)],
                        env={"OTEL_EXPORTER_OTLP_ENDPOINT": dead, "WARDEN_OTEL_TIMEOUT_MS": "300"})
    assert res.exit_code == 2 and "Nothing was lost" in res.output

    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url}
    res = runner.invoke(audit, ["otel-export", "--home", str(home), "--batch", "2"], env=env)
    assert res.exit_code == 0 and "exported 5 events; cursor at seq 5" in res.output
    assert sorted(attrs(s)["warden.audit.seq"] for _, s in receiver.spans) == [1, 2, 3, 4, 5]
    res = runner.invoke(audit, ["otel-export", "--home", str(home)], env=env)
    assert "exported 0 events" in res.output and len(receiver.spans) == 5
    with open_recorder(str(home), {}) as rec:
        rec.record(make_decision(9, session="outbox"))
    res = runner.invoke(audit, ["otel-export", "--home", str(home)], env=env)
    assert "exported 1 events; cursor at seq 6" in res.output
    assert attrs(receiver.spans[-1][1])["warden.audit.seq"] == 6
    total = sum(p.as_int for m in receiver.metrics if m.name == "warden.decisions" for p in m.sum.data_points)
    assert total == 6


def test_background_mode_hook_imports_nothing_and_the_span_still_arrives(receiver: Receiver, home: Path) -> None:
    import time

    from warden.adapters.otel_background import exporter_running

    env = {"PATH": "/usr/bin:/bin", "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "WARDEN_OTEL_MODE": "background",
           "PYTHONPATH": SRC}
    for _ in range(2):  # the second hook finds the first exporter running, or starts a new one
        out = subprocess.run([sys.executable, "-c", HOOK.format(src=SRC, tests=TESTS), str(home)], env=env,
                             capture_output=True, text=True, timeout=60, check=False)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "no-telemetry-modules"
    deadline = time.monotonic() + 30
    while len(receiver.spans) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(attrs(s)["warden.audit.seq"] for _, s in receiver.spans) == [1, 2]
    while exporter_running(home) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not exporter_running(home)  # the detached exporter exits once idle
    log = home / "otel-export.log"
    # it releases its lock before its last line, so give the final message a moment to land
    while "exported" not in log.read_text() and time.monotonic() < deadline + 10:
        time.sleep(0.1)
    assert "exported" in log.read_text()  # its messages are kept for diagnosis


def test_unknown_otel_mode_is_a_clear_error(home: Path) -> None:
    from warden.adapters.audit import AuditError

    from warden.adapters.otel_background import BackgroundExport

    with open_recorder(str(home), {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}) as rec:
        assert isinstance(rec.telemetry, BackgroundExport)  # the default keeps hooks free of the SDK
    with pytest.raises(AuditError, match="WARDEN_OTEL_MODE must be one of"):
        open_recorder(str(home), {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "WARDEN_OTEL_MODE": "fast"})


def test_spans_carry_identity_and_context_from_the_gateway(receiver: Receiver, home: Path, tmp_path: Path) -> None:
    from warden.gateway import Gateway

    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    env = {"HOME": str(tmp_path), "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "WARDEN_OTEL_MODE": "inline",
           "WARDEN_ACTOR": "ci-bot@corp", "GITHUB_ACTIONS": "true", "WARDEN_MANAGED_POLICY": ""}
    gw = Gateway(cwd=str(repo), policy_file=None, home=home, environ=env, audit=True)
    gw.decide_payload({"tool_name": "Bash", "tool_input": {"command": "ls"}, "cwd": str(repo),
                       "actor": {"agent": "codex", "agent_version": "0.171.0"}})
    gw.close()
    a = attrs(receiver.spans[-1][1])
    assert a["enduser.id"] == "ci-bot@corp" and a["gen_ai.agent.version"] == "0.171.0"
    assert a["warden.actor.host"] and a["warden.actor.user"]
    assert a["warden.context.branch"] == "main" and a["warden.context.environment"] == "ci"
    assert a["warden.context.ci"] == "github-actions"


def test_model_requests_are_chat_spans_in_the_sessions_trace(receiver: Receiver, home: Path) -> None:
    """The hook's execute_tool span and the gateway's chat span, written by different processes,
    land in one trace under the session's invoke_agent span."""
    from warden.core.audit import model_event, session_event

    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "WARDEN_OTEL_MODE": "inline"}
    rec = open_recorder(str(home), env)
    rec.record(session_event(phase="start", session="conv-9", started_at=1_700_000_000.0,
                             actor={"id": "dev", "agent": "claude-code"}))
    rec.record(model_event(started_at=1_700_000_001.0, session="conv-9", actor={"id": "dev", "agent": "claude-code"},
                           api="anthropic", provider="anthropic", model="claude-sonnet-4-5", decision="allow",
                           tool_calls=[{"id": "toolu_1", "name": "Bash"}], input_tokens=120, output_tokens=7,
                           latency_ms=12.5))
    rec.close()
    rec = open_recorder(str(home), env)  # another process: the hook
    rec.record(make_decision(1, session="conv-9"))
    rec.close()
    spans = {span.name: span for _, span in receiver.spans}
    root, chat, tool = spans["invoke_agent claude-code"], spans["chat claude-sonnet-4-5"], spans["execute_tool Bash"]
    assert chat.trace_id == tool.trace_id == root.trace_id
    assert chat.parent_span_id == tool.parent_span_id == root.span_id
    a = attrs(chat)
    assert a["gen_ai.operation.name"] == "chat" and a["gen_ai.usage.input_tokens"] == 120
    assert a["warden.tool_call_ids"] == ["toolu_1"] and a["gen_ai.conversation.id"] == "conv-9"
    assert chat.end_time_unix_nano - chat.start_time_unix_nano == 12_500_000
