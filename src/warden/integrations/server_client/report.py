"""This machine's health for the server's dashboard: a compact `warden doctor` summary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def doctor_summary(environ: Mapping[str, str], cwd: str | None = None) -> dict[str, Any]:
    """healthy, hooks_live and the findings that are not ok (check, status, summary, fix)."""
    from warden.integrations import doctor

    try:
        findings = doctor.run(doctor.context(cwd=cwd, environ=environ))
    except Exception as exc:  # noqa: BLE001 — a doctor that cannot run is itself the finding
        return {"healthy": False, "hooks_live": False,
                "findings": [{"check": "doctor", "status": "fail", "summary": f"doctor could not run: {exc}"}]}
    problems = [f for f in findings if f.status in doctor.PROBLEMS]
    hooks = [f for f in findings if ".hooks" in f.check or f.check.startswith("daemon")]
    return {"healthy": not problems, "hooks_live": bool(hooks) and not any(f.status in doctor.PROBLEMS for f in hooks),
            "findings": [{"check": f.check, "status": f.status, "summary": f.summary[:300], "fix": f.fix[:300]}
                         for f in problems[:30]],
            "checked": len(findings)}
