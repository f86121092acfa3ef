"""Scan reports: text for people, JSON for machines, SARIF 2.1.0 for code-scanning UIs.

No report ever contains a secret: findings are identified by keyed fingerprints.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from warden import __version__
from warden.adapters.scan.sources import FileResult
from warden.core.secrets import Ruleset

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def summary(results: Sequence[FileResult]) -> dict[str, int]:
    return {
        "files_scanned": sum(1 for r in results if not r.notice),
        "files_skipped": sum(1 for r in results if r.notice and not r.error),
        "files_unreadable": sum(1 for r in results if r.error),
        "findings": sum(len(r.findings) for r in results),
        "bytes_scanned": sum(r.size for r in results if not r.notice),
    }


def render_text(results: Sequence[FileResult], key: bytes) -> str:
    out: list[str] = []
    for r in results:
        for f in r.findings:
            out.append(f"{r.path}:{f.line}:{f.column}: {f.rule_id} ({f.description}) fingerprint={f.fingerprint(key)}")
    s = summary(results)
    out.append(
        f"{s['findings']} finding(s) in {s['files_scanned']} file(s) scanned"
        + (f", {s['files_skipped']} skipped" if s["files_skipped"] else "")
        + (f", {s['files_unreadable']} unreadable" if s["files_unreadable"] else "")
    )
    return "\n".join(out) + "\n"


def render_json(results: Sequence[FileResult], key: bytes) -> str:
    doc = {
        "version": 1,
        "tool": {"name": "warden", "version": __version__},
        "findings": [f.to_json(key) | {"path": r.path} for r in results for f in r.findings],
        "notices": [{"path": r.path, "notice": r.notice, "error": r.error} for r in results if r.notice],
        "summary": summary(results),
    }
    return json.dumps(doc, indent=2) + "\n"


def render_sarif(results: Sequence[FileResult], key: bytes, ruleset: Ruleset) -> str:
    used = sorted({f.rule_id for r in results for f in r.findings})
    index = {rid: i for i, rid in enumerate(used)}
    rules = []
    for rid in used:
        try:
            desc = ruleset.rule(rid).description
        except KeyError:
            desc = rid
        rules.append({
            "id": rid,
            "name": rid,
            "shortDescription": {"text": desc},
            "fullDescription": {"text": f"{desc} detected by Warden rule {rid}."},
            "help": {"text": "Revoke and rotate the credential, then remove it from the file and its history."},
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["security", "secret"]},
        })
    sarif_results: list[dict[str, Any]] = []
    for r in results:
        for f in r.findings:
            region: dict[str, Any] = {"startLine": max(1, f.line), "startColumn": max(1, f.column)}
            if f.end_line:
                region["endLine"] = max(f.end_line, region["startLine"])
                region["endColumn"] = max(1, f.end_column)
            sarif_results.append({
                "ruleId": f.rule_id,
                "ruleIndex": index[f.rule_id],
                "level": "error",
                "message": {"text": f"{f.description} ({f.rule_id}); fingerprint {f.fingerprint(key)}"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(r.path)}, "region": region}}],
                "partialFingerprints": {"wardenSecret/v1": f.fingerprint(key)},
            })
    notes = [
        {"level": "error" if r.error else "note", "message": {"text": f"{r.path}: {r.notice}"}}
        for r in results if r.notice
    ]
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "warden", "version": __version__, "informationUri":
                                "https://github.com/warden-dev/warden", "rules": rules}},
            "results": sarif_results,
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notes}],
        }],
    }
    return json.dumps(doc, indent=2) + "\n"


def _uri(path: str) -> str:
    from urllib.parse import quote

    return quote(path.removeprefix("./"), safe="/:")
