"""Baseline: a file of accepted findings, so a scan reports only new secrets.

Format (JSON, version 2)::

    {"version": 2, "findings": [{"identity": "9c1e...", "rule_id": "github-pat", "path": "a.py",
                                  "commit": "<sha, history findings only>"}]}

``identity`` is keyless (rule, file, a hash of the context line with the secret masked, and the
commit for history findings): a baseline written on a laptop matches in CI and on every other
machine without sharing a key, and it reveals nothing about the secrets it accepts. Version 1
baselines (keyed fingerprints) are still read; they match only under the key that wrote them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from warden.adapters.scan.sources import FileResult
from warden.core.secrets import Finding

VERSION = 2


class BaselineError(ValueError):
    pass


@dataclass
class Baseline:
    identities: set[str] = field(default_factory=set)
    fingerprints: set[str] = field(default_factory=set)  # version 1 (keyed) entries
    gitleaks: set[str] = field(default_factory=set)  # .gitleaksignore entries (commit:file:rule:line)
    root: str = ""  # tree scans: .gitleaksignore paths are relative to the scanned root

    def __bool__(self) -> bool:
        return bool(self.identities or self.fingerprints or self.gitleaks)

    def accepts(self, r: FileResult, f: Finding, key: bytes) -> bool:
        if finding_identity(r, f) in self.identities:
            return True
        if self.gitleaks:
            if gitleaks_fingerprint(r, f) in self.gitleaks:
                return True
            if self.root and r.commit is None:
                rel = os.path.relpath(r.path, self.root)
                if f"{rel}:{f.rule_id}:{f.line}" in self.gitleaks:
                    return True
        return bool(self.fingerprints) and f.fingerprint(key) in self.fingerprints


def gitleaks_fingerprint(r: FileResult, f: Finding) -> str:
    """gitleaks' own finding id: ``commit:file:rule:line`` (history) or ``file:rule:line``."""
    base = f"{r.path}:{f.rule_id}:{f.line}"
    return f"{r.commit.sha}:{base}" if r.commit else base


def load_gitleaksignore(path: Path, into: Baseline) -> int:
    """Add a ``.gitleaksignore`` (one gitleaks fingerprint per line, ``#`` comments) to ``into``."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"cannot read {path}: {exc}") from None
    entries = {ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")}
    into.gitleaks |= entries
    return len(entries)


def finding_identity(r: FileResult, f: Finding) -> str:
    return f.identity(r.path, r.commit.sha if r.commit else "")


def load_baseline(path: str) -> Baseline:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BaselineError(f"baseline {path} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise BaselineError(f"baseline {path}: expected {{\"version\": 2, \"findings\": [...]}}")
    out = Baseline()
    entries = doc.get("findings", doc.get("fingerprints"))
    if not isinstance(entries, list):
        raise BaselineError(f"baseline {path}: expected {{\"version\": 2, \"findings\": [...]}}")
    for e in entries:
        if isinstance(e, dict) and isinstance(e.get("identity"), str) and e["identity"]:
            out.identities.add(e["identity"])
        elif isinstance(e, dict) and isinstance(e.get("fingerprint"), str) and e["fingerprint"]:
            out.fingerprints.add(e["fingerprint"])
        elif isinstance(e, str) and e:
            out.fingerprints.add(e)
        else:
            raise BaselineError(f"baseline {path}: every entry needs an \"identity\" (or a version 1 "
                                "\"fingerprint\") string; rewrite it with --write-baseline")
    return out


def apply_baseline(results: Sequence[FileResult], accepted: Baseline, key: bytes) -> int:
    """Drop accepted findings in place; returns how many were dropped."""
    dropped = 0
    for r in results:
        keep = [f for f in r.findings if not accepted.accepts(r, f, key)]
        dropped += len(r.findings) - len(keep)
        r.findings = keep
    return dropped


def write_baseline(path: str, results: Sequence[FileResult]) -> int:
    entries: dict[str, dict[str, str]] = {}
    for r in results:
        for f in r.findings:
            e = {"identity": finding_identity(r, f), "rule_id": f.rule_id, "path": r.path}
            if r.commit:
                e["commit"] = r.commit.sha
            entries[e["identity"]] = e
    ordered = sorted(entries.values(), key=lambda e: (e["path"], e["rule_id"], e.get("commit", ""), e["identity"]))
    Path(path).write_text(json.dumps({"version": VERSION, "findings": ordered}, indent=2) + "\n", encoding="utf-8")
    return len(ordered)
