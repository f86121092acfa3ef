"""OpenTelemetry export of decisions (OTLP/HTTP protobuf), following the GenAI conventions.

One span per decision, named ``execute_tool {tool}``, with ``gen_ai.operation.name``,
``gen_ai.tool.name``, ``gen_ai.tool.call.id``, ``gen_ai.tool.type``, ``gen_ai.conversation.id``,
``gen_ai.agent.id`` / ``gen_ai.agent.name`` and ``warden.*`` (decision, rule, reason, policy
digest, and the audit chain position ``warden.audit.seq`` / ``warden.audit.hash`` — so the
collector is also an outside witness of the log). Metrics: the ``warden.decisions`` counter and
the ``warden.decision.duration`` histogram, with *delta* temporality because every hook is its
own short-lived process.

Only imported when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) is set and
``WARDEN_OTEL_MODE`` asks for it:

* ``inline``: the recorder exports as it records. Spans are batched in memory and flushed by
  :meth:`Telemetry.shutdown` with a short, bounded timeout (``WARDEN_OTEL_TIMEOUT_MS``, default
  1000 ms). Export failures never reach the decision, but a span is lost if the collector is down.
* outbox (``warden audit otel-export``, which ``background`` mode starts detached from the hook):
  the audit log is the outbox. The exporter ships events after a cursor kept in the log and
  advances it only when the collector accepted them (at-least-once).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    InMemoryMetricReader,
    MetricExportResult,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode

from warden import __version__


def _headers(raw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in raw.split(","):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def _signal_endpoint(environ: Mapping[str, str], signal: str) -> str | None:
    specific = environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
    if specific:
        return specific
    base = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    return f"{base.rstrip('/')}/v1/{signal}" if base else None


def _ns(timestamp: str) -> int | None:
    try:
        dt = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    except (TypeError, ValueError):
        return None
    from datetime import UTC

    return int(dt.replace(tzinfo=UTC).timestamp() * 1_000_000) * 1000


class _Ids(RandomIdGenerator):
    """Random ids, except for a session's root span, whose ids are derived from the session."""

    def __init__(self) -> None:
        self._forced = threading.local()

    def force(self, trace_id: int | None, span_id: int | None) -> None:
        self._forced.ids = (trace_id, span_id)

    def generate_trace_id(self) -> int:
        forced = getattr(self._forced, "ids", (None, None))[0]
        return forced if forced is not None else super().generate_trace_id()

    def generate_span_id(self) -> int:
        forced = getattr(self._forced, "ids", (None, None))[1]
        return forced if forced is not None else super().generate_span_id()


class _Collect(SpanProcessor):
    """Keeps ended spans until :meth:`Telemetry.export_pending` ships them (outbox mode)."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.spans.append(span)


class Telemetry:
    def __init__(self, traces_endpoint: str | None, metrics_endpoint: str | None, *, headers: dict[str, str],
                 timeout_ms: int, service_name: str, outbox: bool = False) -> None:
        self.timeout_ms = timeout_ms
        self.dropped = 0
        self.outbox = outbox
        resource = Resource.create({"service.name": service_name, "service.version": __version__})
        timeout_s = max(timeout_ms, 1) / 1000.0
        self._tracer_provider: TracerProvider | None = None
        self._meter_provider: MeterProvider | None = None
        self._collect: _Collect | None = None
        self._metric_reader: InMemoryMetricReader | None = None
        if traces_endpoint:
            self._ids = _Ids()
            self._tracer_provider = TracerProvider(resource=resource, id_generator=self._ids)
            self._span_exporter = OTLPSpanExporter(endpoint=traces_endpoint, headers=headers, timeout=timeout_s)
            if outbox:
                self._collect = _Collect()
                self._tracer_provider.add_span_processor(self._collect)
            else:
                self._tracer_provider.add_span_processor(BatchSpanProcessor(
                    self._span_exporter, schedule_delay_millis=1000, export_timeout_millis=timeout_ms))
            self._tracer = self._tracer_provider.get_tracer("warden", __version__)
        if metrics_endpoint:
            delta = AggregationTemporality.DELTA
            temporality: dict[type, AggregationTemporality] = {Counter: delta, Histogram: delta}
            self._metric_exporter = OTLPMetricExporter(endpoint=metrics_endpoint, headers=headers, timeout=timeout_s,
                                                       preferred_temporality=temporality)
            if outbox:
                self._metric_reader = InMemoryMetricReader(preferred_temporality=temporality)
                reader: Any = self._metric_reader
            else:
                reader = PeriodicExportingMetricReader(self._metric_exporter, export_interval_millis=60_000,
                                                       export_timeout_millis=timeout_ms)
            self._meter_provider = MeterProvider(metric_readers=[reader], resource=resource)
            meter = self._meter_provider.get_meter("warden", __version__)
            self._decisions = meter.create_counter(
                "warden.decisions", unit="{decision}", description="Decisions made by Warden, by outcome")
            self._duration = meter.create_histogram(
                "warden.decision.duration", unit="ms", description="Time Warden took to decide")

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, outbox: bool = False) -> Telemetry:
        try:
            timeout_ms = int(environ.get("WARDEN_OTEL_TIMEOUT_MS", "") or 1000)
        except ValueError:
            timeout_ms = 1000
        return cls(
            _signal_endpoint(environ, "traces"),
            _signal_endpoint(environ, "metrics"),
            headers=_headers(environ.get("OTEL_EXPORTER_OTLP_HEADERS", "")),
            timeout_ms=timeout_ms,
            service_name=environ.get("OTEL_SERVICE_NAME") or "warden",
            outbox=outbox,
        )

    def emit(self, event: Mapping[str, Any]) -> None:
        """Export one recorded event; never raises (telemetry must not change a decision)."""
        emit = {"decision": self._emit_decision, "model": self._emit_model, "session": self._emit_session}.get(
            str(event.get("kind")))
        if emit is None:
            return
        try:
            emit(event)
        except Exception:  # noqa: BLE001 — telemetry must never change a decision
            self.dropped += 1

    # One trace per agent session: tool spans (hooks) and chat spans (model gateway) come from
    # different processes, so they find their common parent, the session's `invoke_agent` span,
    # by deriving its ids from the session id.
    @staticmethod
    def _session_ids(session: str) -> tuple[int, int]:
        digest = hashlib.sha256(f"warden-session:{session}".encode()).digest()
        return int.from_bytes(digest[:16], "big") or 1, int.from_bytes(digest[16:24], "big") or 1

    def _session_context(self, session: str) -> Any:
        if not session:
            return None
        from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, set_span_in_context

        trace_id, span_id = self._session_ids(session)
        parent = SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
        return set_span_in_context(NonRecordingSpan(parent))

    def _emit_session(self, ev: Mapping[str, Any]) -> None:
        session = str(ev.get("session") or "")
        if self._tracer_provider is None or ev.get("phase") != "start" or not session:
            return
        trace_id, span_id = self._session_ids(session)
        agent = str(ev.get("agent") or "")
        self._ids.force(trace_id, span_id)
        try:
            start = _ns(str(ev.get("timestamp", "")))
            span = self._tracer.start_span(f"invoke_agent {agent or 'agent'}", kind=SpanKind.INTERNAL, attributes={
                "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent,
                "gen_ai.conversation.id": session}, start_time=start)
            span.end(end_time=start)
        finally:
            self._ids.force(None, None)

    def _emit_model(self, ev: Mapping[str, Any]) -> None:
        if self._tracer_provider is None:
            return
        usage = ev.get("usage") or {}
        model = str(ev.get("model") or "")
        attrs: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": model,
            "gen_ai.provider.name": str(ev.get("provider") or ""),
            "gen_ai.usage.input_tokens": int(usage.get("input_tokens") or 0),
            "gen_ai.usage.output_tokens": int(usage.get("output_tokens") or 0),
            "warden.decision": str((ev.get("result") or {}).get("decision", "")),
            "warden.event_id": str(ev.get("id", "")),
        }
        calls = [str(c.get("id", "")) for c in ev.get("tool_calls") or [] if isinstance(c, Mapping)]
        if calls:
            attrs["warden.tool_call_ids"] = calls
        if ev.get("session"):
            attrs["gen_ai.conversation.id"] = str(ev["session"])
        agent = str(ev.get("agent") or "")
        if agent:
            attrs["gen_ai.agent.name"] = agent
        start = _ns(str(ev.get("timestamp", "")))
        span = self._tracer.start_span(f"chat {model}", kind=SpanKind.CLIENT, attributes=attrs, start_time=start,
                                       context=self._session_context(str(ev.get("session") or "")))
        if ev.get("error"):
            span.set_status(Status(StatusCode.ERROR, str(ev["error"])[:256]))
        end = None
        if start is not None and isinstance(ev.get("latency_ms"), (int, float)):
            end = start + int(float(ev["latency_ms"]) * 1_000_000)
        span.end(end_time=end)

    def _emit_decision(self, ev: Mapping[str, Any]) -> None:
        result = ev.get("result") or {}
        rules = [r.get("id", "") for r in result.get("rules") or [] if isinstance(r, Mapping)]
        tool = str(ev.get("tool") or "unknown")
        decision = str(result.get("decision", ""))
        agent = str(ev.get("agent") or "")
        policy = ev.get("policy") or {}
        attrs: dict[str, Any] = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": tool,
            "gen_ai.tool.type": "extension" if tool.startswith("mcp__") else "function",
            "warden.decision": decision,
            "warden.reason": str(result.get("reason", ""))[:1024],
            "warden.policy.digest": str(policy.get("digest", "")),
            "warden.decision_id": str(ev.get("id", "")),
        }
        if rules:
            attrs["warden.rule"] = rules[0]
            attrs["warden.rules"] = rules
        optional = {
            "gen_ai.tool.call.id": ev.get("tool_use_id"),
            "gen_ai.conversation.id": ev.get("session"),
            "gen_ai.agent.name": agent,
            "gen_ai.agent.id": (ev.get("actor") or {}).get("agent") or agent,
            "enduser.id": (ev.get("actor") or {}).get("id"),
            "gen_ai.agent.version": (ev.get("actor") or {}).get("agent_version"),
            "warden.actor.user": (ev.get("actor") or {}).get("user"),
            "warden.actor.host": (ev.get("actor") or {}).get("host"),
            "warden.actor.email": (ev.get("actor") or {}).get("email"),
            "warden.context.environment": (ev.get("context") or {}).get("environment"),
            "warden.context.branch": (ev.get("context") or {}).get("branch"),
            "warden.context.ci": (ev.get("context") or {}).get("ci"),
            "warden.audit.seq": ev.get("seq"),
            "warden.audit.hash": ev.get("hash"),
        }
        attrs.update({k: v for k, v in optional.items() if v not in (None, "")})
        if self._tracer_provider is not None:
            start = _ns(str(ev.get("timestamp", "")))
            span = self._tracer.start_span(f"execute_tool {tool}", kind=SpanKind.INTERNAL, attributes=attrs,
                                           start_time=start,
                                           context=self._session_context(str(ev.get("session") or "")))
            if result.get("error"):
                span.set_status(Status(StatusCode.ERROR, str(result["error"])[:256]))
            end = None
            if start is not None and isinstance(ev.get("duration_ms"), (int, float)):
                end = start + int(float(ev["duration_ms"]) * 1_000_000)
            span.end(end_time=end)
        if self._meter_provider is not None:
            mattrs = {"warden.decision": decision, "gen_ai.tool.name": tool}
            if agent:
                mattrs["gen_ai.agent.name"] = agent
            if rules:
                mattrs["warden.rule"] = rules[0]
            self._decisions.add(1, mattrs)
            if isinstance(ev.get("duration_ms"), (int, float)):
                self._duration.record(float(ev["duration_ms"]), mattrs)

    def export_pending(self) -> bool:
        """Outbox mode: ship what :meth:`emit` produced; True only if the collector accepted it all."""
        ok = True
        if self._collect is not None and self._collect.spans:
            spans, self._collect.spans = self._collect.spans, []
            try:
                ok = self._span_exporter.export(spans) == SpanExportResult.SUCCESS
            except Exception:  # noqa: BLE001 — reported as a failed export; the cursor stays
                ok = False
        if self._metric_reader is not None:
            data = self._metric_reader.get_metrics_data()
            if data is not None and data.resource_metrics:
                try:
                    ok = self._metric_exporter.export(data) == MetricExportResult.SUCCESS and ok
                except Exception:  # noqa: BLE001
                    ok = False
        return ok

    def shutdown(self) -> None:
        """Flush and stop, waiting at most about ``timeout_ms`` per signal."""
        try:
            if self._tracer_provider is not None:
                self._tracer_provider.force_flush(self.timeout_ms)
                self._tracer_provider.shutdown()
        except Exception:  # noqa: BLE001 — telemetry must never change a decision
            self.dropped += 1
        try:
            if self._meter_provider is not None:
                self._meter_provider.shutdown(timeout_millis=self.timeout_ms)
        except Exception:  # noqa: BLE001 — telemetry must never change a decision
            self.dropped += 1
