"""A sandbox's run and egress reports as audit outcome events (linked to their decision)."""

from __future__ import annotations

from typing import Any


def outcome_from_report(report: dict[str, Any], decision_id: str, redact: Any) -> dict[str, Any]:
    """A sandbox's run or egress report as an audit outcome event linked to its decision."""
    import json
    import time

    from warden.core.audit import outcome_event

    kind = str(report.get("type") or "sandbox")
    if kind == "sandbox.exec":
        status = "timeout" if report.get("timed_out") else ("ok" if report.get("returncode") == 0 else "error")
        exit_code = report.get("returncode")
    else:  # sandbox.egress: one proxied connection, allowed or refused
        status, exit_code = str(report.get("decision") or "egress"), None
    return outcome_event(tool=kind, started_at=time.time(), status=status, exit_code=exit_code,
                         decision_id=decision_id, output=json.dumps(report, sort_keys=True, default=str),
                         redact=redact)
