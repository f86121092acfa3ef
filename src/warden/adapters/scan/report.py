"""Scan reports: text for people, JSON for machines, SARIF 2.1.0 for code-scanning UIs.

No report ever contains a secret: findings are identified by keyed fingerprints.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from warden import __version__
from warden.adapters.scan.baseline import finding_identity
from warden.adapters.scan.sources import FileResult
from warden.core.secrets import Finding, Ruleset

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FALLBACK_URI = "https://github.com/warden-dev/warden"


def information_uri() -> str:
    """The project's home from its package metadata (pyproject ``[project.urls]``), one place to change."""
    try:
        from importlib.metadata import metadata

        for entry in metadata("warden").get_all("Project-URL") or []:
            label, _, url = entry.partition(",")
            if label.strip().lower() in ("homepage", "repository", "source") and url.strip():
                return url.strip()
    except Exception:  # metadata missing in an odd install: fall back, never fail a report
        pass
    return FALLBACK_URI


# GitHub code scanning ranks alerts by properties.security-severity: >= 9 critical, 7-8.9 high,
# 4-6.9 medium. What a leaked credential of each kind lets an attacker do sets the score.
_CRITICAL = ("private-key-", "aws-", "gcp-", "azure-", "github-", "gitlab-", "stripe-secret", "digitalocean-",
             "alibaba-", "ibm-cloud", "kubeconfig", "vault-", "terraform-cloud", "npm-token", "pypi-token",
             "rubygems", "nuget", "dockerhub", "crates-io", "age-secret", "onepassword-", "openai-", "anthropic-",
             "square-", "braintree-", "shopify-", "heroku-", "cloudflare-")
_MEDIUM = ("slack-webhook", "discord-webhook", "teams-webhook", "jwt", "mailchimp", "telegram-")
_GENERIC = ("generic-", "xml-secret", "php-define-secret", "cli-flag-secret", "uri-with-password", "jdbc-password",
            "connection-string-password", "mysql-cli-password", "sshpass-password", "curl-basic-auth",
            "http-basic-auth", "http-bearer-token", "pgpass-password", "netrc-password")


def security_severity(rule_id: str) -> str:
    if rule_id.startswith(_CRITICAL):
        return "9.5"
    if rule_id.startswith(_MEDIUM):
        return "5.5"
    if rule_id.startswith(_GENERIC):
        return "7.0"
    return "8.0"  # a specific provider's token: real access, usually narrower than a cloud root key


def summary(results: Sequence[FileResult]) -> dict[str, int]:
    return {
        "files_scanned": sum(1 for r in results if not r.notice),
        "files_skipped": sum(1 for r in results if r.notice and not r.error),
        "files_unreadable": sum(1 for r in results if r.error),
        "findings": sum(len(r.findings) for r in results),
        "bytes_scanned": sum(r.size for r in results if not r.notice),
    }


def _commit_fields(r: FileResult, f: Finding) -> dict[str, str]:
    if r.commit is None:
        return {}
    c = r.commit
    return {"commit": c.sha, "author": c.author, "email": c.email, "date": c.date,
            "introduced_in": r.introduced.get((f.start, f.end), c.sha)}


def render_text(results: Sequence[FileResult], key: bytes, stats: dict[str, int] | None = None,
                verified: dict[int, str] | None = None) -> str:
    out: list[str] = []
    for r in results:
        for f in r.findings:
            line = f"{r.path}:{f.line}:{f.column}: {f.rule_id} ({f.description}) fingerprint={f.fingerprint(key)}"
            c = _commit_fields(r, f)
            if c:
                first = "" if c["introduced_in"] == c["commit"] else f" first added in {c['introduced_in'][:12]}"
                line += f"\n    commit {c['commit'][:12]} by {c['author']} <{c['email']}> on {c['date']}{first}"
            if verified and id(f) in verified:
                line += f"\n    verified: {verified[id(f)]}"
            out.append(line)
    s = stats or summary(results)
    out.append(
        f"{s['findings']} finding(s) in "
        + (f"{s['commits_scanned']} commit(s), " if "commits_scanned" in s else "")
        + f"{s['files_scanned']} file(s) scanned"
        + (f", {s['files_skipped']} skipped" if s["files_skipped"] else "")
        + (f", {s['files_unreadable']} unreadable" if s["files_unreadable"] else "")
    )
    return "\n".join(out) + "\n"


def render_json(results: Sequence[FileResult], key: bytes, stats: dict[str, int] | None = None,
                verified: dict[int, str] | None = None, extra: dict[str, Any] | None = None) -> str:
    findings = []
    for r in results:
        for f in r.findings:
            item = f.to_json(key) | {"path": r.path, "identity": finding_identity(r, f)} | _commit_fields(r, f)
            if verified and id(f) in verified:
                item["verified"] = verified[id(f)]
            findings.append(item)
    doc = {
        "version": 1,
        "tool": {"name": "warden", "version": __version__},
        "findings": findings,
        "notices": [{"path": r.path, "notice": r.notice, "error": r.error} | (
            {"commit": r.commit.sha} if r.commit else {}) for r in results if r.notice],
        "summary": stats or summary(results),
    } | (extra or {})
    return json.dumps(doc, indent=2) + "\n"


def render_sarif(results: Sequence[FileResult], key: bytes, ruleset: Ruleset, category: str = "files",
                 verified: dict[int, str] | None = None) -> str:
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
            "helpUri": f"{information_uri()}/blob/main/docs/secrets.md#built-in-rules",
            "properties": {"tags": ["security", "secret"], "security-severity": security_severity(rid),
                           "precision": "high" if not rid.startswith(_GENERIC) else "medium"},
        })
    sarif_results: list[dict[str, Any]] = []
    for r in results:
        for f in r.findings:
            region: dict[str, Any] = {"startLine": max(1, f.line), "startColumn": max(1, f.column)}
            if f.end_line:
                region["endLine"] = max(f.end_line, region["startLine"])
                region["endColumn"] = max(1, f.end_column)
            c = _commit_fields(r, f)
            text = f"{f.description} ({f.rule_id})"
            if c:
                text += f" added in commit {c['commit'][:12]} by {c['author']} on {c['date']}"
            props: dict[str, Any] = {"fingerprint": f.fingerprint(key)} | c
            if verified and id(f) in verified:
                props["verified"] = verified[id(f)]
            sarif_results.append({
                "ruleId": f.rule_id,
                "ruleIndex": index[f.rule_id],
                "level": "error",
                "message": {"text": text},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(r.path)}, "region": region}}],
                # keyless: the same alert on every machine and every run (the keyed fingerprint,
                # which differs per key, stays in properties)
                "partialFingerprints": {"wardenSecret/v2": finding_identity(r, f)},
                "properties": props,
            })
    notes = [
        {"level": "error" if r.error else "note", "message": {"text": f"{r.path}: {r.notice}"}}
        for r in results if r.notice
    ]
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "warden", "version": __version__, "informationUri": information_uri(),
                                "rules": rules}},
            # GitHub keeps one set of alerts per category: tree, history and diff scans stay apart
            "automationDetails": {"id": f"warden-secrets/{category}/"},
            "results": sarif_results,
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notes}],
        }],
    }
    return json.dumps(doc, indent=2) + "\n"


def _uri(path: str) -> str:
    from urllib.parse import quote

    return quote(path.removeprefix("./"), safe="/:")
