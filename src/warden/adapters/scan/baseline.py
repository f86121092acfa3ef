"""Baseline: a file of accepted finding fingerprints, so a scan reports only new secrets.

Format (JSON)::

    {"version": 1, "fingerprints": [{"fingerprint": "3f9a1c...", "rule_id": "github-pat", "path": "a.py"}]}

Fingerprints are keyed (HMAC): a baseline only matches scans made with the same key
(``$WARDEN_HOME/keys/fingerprint.key`` or ``$WARDEN_FINGERPRINT_KEY`` for teams and CI).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from warden.adapters.scan.sources import FileResult


class BaselineError(ValueError):
    pass


def load_baseline(path: str) -> set[str]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BaselineError(f"baseline {path} is not valid JSON: {exc}") from None
    entries = doc.get("fingerprints") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise BaselineError(f"baseline {path}: expected {{\"version\": 1, \"fingerprints\": [...]}}")
    out = set()
    for e in entries:
        fp = e.get("fingerprint") if isinstance(e, dict) else e
        if not isinstance(fp, str) or not fp:
            raise BaselineError(f"baseline {path}: every entry needs a \"fingerprint\" string")
        out.add(fp)
    return out


def apply_baseline(results: Sequence[FileResult], accepted: set[str], key: bytes) -> int:
    """Drop accepted findings in place; returns how many were dropped."""
    dropped = 0
    for r in results:
        keep = [f for f in r.findings if f.fingerprint(key) not in accepted]
        dropped += len(r.findings) - len(keep)
        r.findings = keep
    return dropped


def write_baseline(path: str, results: Sequence[FileResult], key: bytes) -> int:
    entries = sorted(
        ({"fingerprint": f.fingerprint(key), "rule_id": f.rule_id, "path": r.path} for r in results for f in r.findings),
        key=lambda e: (e["path"], e["rule_id"], e["fingerprint"]),
    )
    Path(path).write_text(json.dumps({"version": 1, "fingerprints": entries}, indent=2) + "\n", encoding="utf-8")
    return len(entries)
