"""The change-risk report of a diff: labels per file and hunk, secrets in added lines, reviewers.

Pure: the caller hands in the parsed diff, the CODEOWNERS rules and a secret scanner
(``text -> [(rule_id, column)]``), and renders the result as JSON, Markdown or SARIF.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from warden.core.review.codeowners import OwnerRule, owners_of
from warden.core.review.diff import FileDiff
from warden.core.review.risk import DESCRIPTION, LABELS, REVIEWERS, SEVERITY, classify

SecretScan = Callable[[str], list[tuple[str, int]]]
_RANK = {"none": 0, "low": 1, "medium": 2, "high": 3}
SARIF_LEVEL = {"high": "error", "medium": "warning", "low": "note"}
SECURITY_SEVERITY = {"high": "8.0", "medium": "5.0", "low": "2.0"}


def build(files: Sequence[FileDiff], owners: Sequence[OwnerRule] = (), scan: SecretScan | None = None,
          problems: Sequence[str] = ()) -> dict[str, Any]:
    out_files: list[dict[str, Any]] = []
    for f in files:
        risk = classify(f.display, f.lines()) if not f.binary else classify(f.display)
        entry: dict[str, Any] = {
            "path": f.display, "old_path": f.old_path if f.old_path != f.path else "", "status": f.status,
            "binary": f.binary, "added": f.added_count, "removed": f.removed_count, "scope": risk.scope,
            "labels": risk.labels, "severity": risk.severity, "reasons": risk.reasons(),
            "hunks": [], "secrets": [], "problems": list(f.problems),
        }
        if f.truncated:
            entry["problems"].append("very large change: only the first lines were read")
        if f.status == "renamed" and f.old_path:  # a rename out of a sensitive place counts too
            before = classify(f.old_path)
            for label in before.labels:
                if label not in entry["labels"]:
                    entry["labels"].append(label)
                    entry["reasons"].append(f"{DESCRIPTION[label]} — renamed from {f.old_path}")
            entry["labels"] = [label for label in LABELS if label in entry["labels"]]
            if before.labels and entry["severity"] == "none":
                entry["severity"] = "high" if any(SEVERITY[x] == "high" for x in before.labels) else "medium"
        for h in f.hunks:
            lines = [t for _, t in h.added] + [t for _, t in h.removed]
            hr = classify(f.display, lines)
            content = sorted({s.label for s in hr.signals if s.kind == "content"})
            if content:
                entry["hunks"].append({"header": h.header, "new_start": h.new_start, "labels": content,
                                       "reasons": [r for s, r in zip(hr.signals, hr.reasons()) if s.kind == "content"]})
        if scan is not None:
            for line_no, text in f.added_lines():
                for rule_id, column in scan(text):
                    entry["secrets"].append({"rule": rule_id, "line": line_no, "column": column})
            if entry["secrets"] and "secrets" not in entry["labels"]:
                entry["labels"].append("secrets")
                entry["reasons"].append(f"{DESCRIPTION['secrets']} — the change adds a credential")
                entry["severity"] = "high"
        owners_for = owners_of(list(owners), f.display) if owners else None
        entry["owners"] = list(owners_for) if owners_for else []
        entry["reviewers"] = sorted({REVIEWERS[label] for label in entry["labels"]})
        if entry["labels"] and risk.scope == "code" and not entry["owners"] and owners:
            entry["problems"].append("no CODEOWNERS entry covers this sensitive file")
        out_files.append(entry)
    sensitive = [e for e in out_files if (e["labels"] and e["scope"] == "code") or e["secrets"]]
    worst = max((e["severity"] for e in out_files), key=lambda s: _RANK[s], default="none")
    by_label: dict[str, list[str]] = {}
    for e in sensitive:
        for label in e["labels"]:
            by_label.setdefault(label, []).append(e["path"])
    need = [{"label": label, "description": DESCRIPTION[label], "reviewer": REVIEWERS[label], "files": paths,
             "owners": sorted({o for e in sensitive if label in e["labels"] for o in e["owners"]})}
            for label, paths in sorted(by_label.items(), key=lambda kv: LABELS.index(kv[0]))]
    return {"version": 1, "files": out_files, "summary": {
        "files": len(out_files), "sensitive_files": len(sensitive), "severity": worst,
        "labels": {label: len(paths) for label, paths in by_label.items()},
        "secrets": sum(len(e["secrets"]) for e in out_files)}, "reviews_needed": need,
        "problems": list(problems)}


def failing(report: dict[str, Any], threshold: str) -> bool:
    return _RANK[report["summary"]["severity"]] >= _RANK[threshold] and report["summary"]["sensitive_files"] > 0


def markdown(report: dict[str, Any]) -> str:
    s = report["summary"]
    lines = ["# Change-risk review", ""]
    if not s["sensitive_files"]:
        lines += [f"No security-sensitive changes in {s['files']} changed file(s).", ""]
    else:
        lines += [f"**{s['sensitive_files']} of {s['files']} changed files need a specialist review** "
                  f"(highest severity: {s['severity']}; secrets in added lines: {s['secrets']}).", "",
                  "| area | reviewer | files | CODEOWNERS |", "|---|---|---|---|"]
        for need in report["reviews_needed"]:
            files = ", ".join(f"`{p}`" for p in need["files"][:8]) + (" …" if len(need["files"]) > 8 else "")
            lines.append(f"| {need['description']} | {need['reviewer']} | {files} | "
                         f"{' '.join(need['owners']) or '—'} |")
        lines.append("")
    for e in report["files"]:
        if not (e["labels"] or e["secrets"] or e["problems"]):
            continue
        tag = f" ({e['scope']})" if e["scope"] != "code" else ""
        lines.append(f"## `{e['path']}` — {', '.join(e['labels']) or 'no label'}{tag}, {e['severity']}")
        if e["old_path"]:
            lines.append(f"renamed from `{e['old_path']}`")
        lines += [f"- {r}" for r in e["reasons"]]
        for h in e["hunks"][:10]:
            lines.append(f"- hunk `{h['header']}`: {', '.join(h['labels'])}")
        for sec in e["secrets"][:10]:
            lines.append(f"- **secret** ({sec['rule']}) added at line {sec['line']}")
        lines += [f"- problem: {p}" for p in e["problems"]]
        lines.append("")
    lines += [f"- problem: {p}" for p in report["problems"]]
    return "\n".join(lines).rstrip() + "\n"


def sarif(report: dict[str, Any], tool_version: str) -> dict[str, Any]:
    rules = [{"id": f"change.{label}", "name": label, "shortDescription": {"text": f"Change to {DESCRIPTION[label]}"},
              "helpUri": "https://github.com/warden-dev/warden/blob/main/docs/review.md",
              "properties": {"security-severity": SECURITY_SEVERITY[SEVERITY[label]], "tags": ["security", "review"]}}
             for label in LABELS]
    rules.append({"id": "change.secret-added", "name": "secret-added",
                  "shortDescription": {"text": "A credential is added in this change"},
                  "properties": {"security-severity": "9.0", "tags": ["security", "secret"]}})
    results = []
    for e in report["files"]:
        first = next((h["new_start"] for h in e["hunks"]), 1)
        for label in e["labels"]:
            if e["scope"] != "code" and label != "secrets":
                continue
            results.append({"ruleId": f"change.{label}", "level": SARIF_LEVEL.get(e["severity"], "note"),
                            "message": {"text": "; ".join(e["reasons"])[:1000] or DESCRIPTION[label]},
                            "locations": [{"physicalLocation": {"artifactLocation": {"uri": e["path"]},
                                                                "region": {"startLine": max(1, first)}}}]})
        for sec in e["secrets"]:
            results.append({"ruleId": "change.secret-added", "level": "error",
                            "message": {"text": f"A {sec['rule']} credential is added"},
                            "locations": [{"physicalLocation": {"artifactLocation": {"uri": e["path"]},
                                                                "region": {"startLine": max(1, sec["line"]),
                                                                           "startColumn": max(1, sec["column"])}}}]})
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "warden-review", "version": tool_version,
                            "informationUri": "https://github.com/warden-dev/warden", "rules": rules}},
        "automationDetails": {"id": "warden/review/"}, "results": results}]}
