"""`warden scan --pii` and `warden redact --pii`: personal data in files and streams.

Files are read in 1 MiB chunks with an overlap, so a number split across two chunks is still found
and memory stays bounded whatever the file size; binary files are skipped with a note.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

CHUNK = 1 << 20
OVERLAP = 128  # longer than any personal-data value, so a value split between chunks is seen whole
SKIP_DIRS = {".git", "node_modules", ".venv", "__pycache__", ".tox", ".mypy_cache"}


def _files(paths: tuple[str, ...]) -> Iterator[Path]:
    for p in paths or (".",):
        root = Path(p)
        if root.is_file():
            yield root
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            for name in sorted(filenames):
                yield Path(dirpath) / name


def _scan_file(path: Path, kinds: tuple[str, ...], max_bytes: int) -> tuple[list[dict[str, Any]], str]:
    from warden.core.pii import scan_pii

    try:
        size = path.stat().st_size
        if size > max_bytes:
            return [], f"skipped: larger than {max_bytes // (1 << 20)} MB"
        with path.open("rb") as fh:
            head = fh.read(8192)
            if b"\0" in head:
                return [], "skipped: binary"
            fh.seek(0)
            out: list[dict[str, Any]] = []
            carry, base, line_base = "", 0, 1
            while True:
                raw = fh.read(CHUNK)
                text = carry + raw.decode("utf-8", "replace")
                if not text:
                    break
                last = not raw
                for f in scan_pii(text, kinds):
                    if not last and f.end > len(text) - OVERLAP:
                        continue  # seen again, whole, at the start of the next chunk
                    if f.start < len(carry) and base:
                        continue  # found in the previous chunk already
                    out.append({"kind": f.kind, "detail": f.detail, "path": str(path),
                                "line": line_base + text.count("\n", 0, f.start), "_value": text[f.start:f.end]})
                if last:
                    break
                keep = text[-OVERLAP:]
                line_base += text.count("\n", 0, len(text) - len(keep))
                base += len(text) - len(keep)
                carry = keep
            return out, ""
    except OSError as exc:
        return [], f"skipped: {exc.strerror or exc}"


def scan_main(paths: tuple[str, ...], kinds: tuple[str, ...], fmt: str, output: str | None, max_mb: int) -> None:
    from warden.adapters.policy_files import warden_home
    from warden.adapters.redaction import fingerprint_key
    from warden.core.secrets.model import keyed_digest

    key = fingerprint_key(warden_home(os.environ))
    findings: list[dict[str, Any]] = []
    notes: list[dict[str, str]] = []
    for path in _files(paths):
        found, note = _scan_file(path, kinds, max_mb << 20)
        for f in found:
            f["fingerprint"] = keyed_digest(key, f.pop("_value"))[:16]
        findings += found
        if note:
            notes.append({"path": str(path), "note": note})
    if fmt == "json":
        text = json.dumps({"findings": findings, "skipped": notes}, indent=2)
    else:
        lines = [f"{f['path']}:{f['line']}: {f['kind']}{' (' + f['detail'] + ')' if f['detail'] else ''} "
                 f"[{f['fingerprint']}]" for f in findings]
        lines += [f"{n['path']}: {n['note']}" for n in notes]
        lines.append(f"{len(findings)} personal-data finding(s)")
        text = "\n".join(lines)
    if output:
        Path(output).write_text(text + "\n", "utf-8")
    else:
        click.echo(text)
    raise SystemExit(1 if findings else 0)


def redact_main(kinds: tuple[str, ...], check: bool) -> None:
    from warden.adapters.policy_files import warden_home
    from warden.adapters.redaction import fingerprint_key
    from warden.core.pii import redact_pii

    key = fingerprint_key(warden_home(os.environ))
    changed = False
    carry = ""
    stdin = sys.stdin.buffer
    out = sys.stdout
    while True:
        raw = stdin.read1(CHUNK) if hasattr(stdin, "read1") else stdin.read(CHUNK)
        text = carry + raw.decode("utf-8", "replace")
        if not raw:
            red, found = redact_pii(text, key, kinds)
            out.write(red)
            changed |= bool(found)
            break
        # emit up to the last newline (values do not span lines); keep the rest for the next read
        cut = text.rfind("\n") + 1 if "\n" in text else max(0, len(text) - OVERLAP)
        red, found = redact_pii(text[:cut], key, kinds)
        out.write(red)
        out.flush()
        changed |= bool(found)
        carry = text[cut:]
    raise SystemExit(1 if (check and changed) else 0)
