"""``warden audit ...`` and ``warden evidence``: read, verify, query and export the audit trail."""

from __future__ import annotations

import csv
import json
import os
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from warden.adapters.store import Filters, SqlAuditStore, StoreError, open_store, options_from_env
from warden.adapters.store.keyring import AuditKeys, check_signature
from warden.core.audit import Checkpoint, Head, Record, verify_records

EXIT_BROKEN = 1
EXIT_ERROR = 2


class AuditCliError(click.ClickException):
    """The log, its key or an input file cannot be used (exit 2; a broken chain exits 1)."""

    exit_code = EXIT_ERROR

_db_option = click.option("--db", "db", envvar="WARDEN_AUDIT_DB", metavar="PATH|URL",
                          help="Audit log: an SQLite path or postgresql:// URL [env WARDEN_AUDIT_DB; "
                               "default $WARDEN_HOME/audit.db].")
_home_option = click.option("--home", "home", envvar="WARDEN_HOME", metavar="DIR",
                            help="Warden home holding keys/ and audit.db [env WARDEN_HOME; default ~/.warden].")


def _home(home: str | None) -> Path:
    return Path(os.path.expanduser(home or "~/.warden"))


def _open(db: str | None, home: str | None, *, keys: str = "optional") -> SqlAuditStore:
    try:
        return open_store(db, _home(home), keys=keys, options=options_from_env(os.environ),  # type: ignore[arg-type]
                          create=False)
    except StoreError as exc:
        raise AuditCliError(str(exc)) from None


def _parse_time(value: str | None) -> str | None:
    """RFC 3339, a date, or a relative age ("15m", "2h", "7d") -> the log's timestamp format."""
    if not value:
        return None
    m = re.fullmatch(r"(\d+)([smhd])", value.strip())
    if m:
        secs = int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
        dt = datetime.now(UTC) - timedelta(seconds=secs)
    else:
        try:
            dt = datetime.fromisoformat(value.strip())  # 3.11 parses a trailing Z
        except ValueError:
            raise click.BadParameter(f"{value!r}: use 2026-11-21, 2026-11-21T10:00:00Z or an age like 2h") from None
        dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _filter_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for opt in reversed([
        click.option("--session", help="Only this session id."),
        click.option("--agent", help="Only this agent (claude-code, cursor, ...)."),
        click.option("--decision", type=click.Choice(["allow", "ask", "deny"]), help="Only this decision."),
        click.option("--tool", help="Only this tool (Bash, Read, mcp__server__tool, ...)."),
        click.option("--rule", help="Only events where this rule id matched."),
        click.option("--kind", type=click.Choice(["decision", "approval", "outcome", "session", "error", "model",
                                                 "control"]),
                     help="Only this event kind."),
        click.option("--tool-use-id", "tool_use_id", help="Only events about this tool call."),
        click.option("--since", help="From this time: RFC 3339, a date, or an age like 30m, 2h, 7d."),
        click.option("--until", help="Before this time (same formats as --since)."),
    ]):
        f = opt(f)
    return f


def _filters(kw: dict[str, Any]) -> Filters:
    return Filters(session=kw.get("session"), agent=kw.get("agent"), decision=kw.get("decision"),
                   tool=kw.get("tool"), rule=kw.get("rule"), kind=kw.get("kind"), tool_use_id=kw.get("tool_use_id"),
                   since=_parse_time(kw.get("since")), until=_parse_time(kw.get("until")))


def _line(ev: dict[str, Any]) -> str:
    res = ev.get("result") or {}
    inp = ev.get("input") or {}
    kind = ev.get("kind", "")
    if kind == "decision":
        what = inp.get("command") or inp.get("file_path") or inp.get("url") or inp.get("query") or ""
        rules = ",".join(r.get("id", "") for r in res.get("rules") or [] if isinstance(r, dict))
        detail = f"{res.get('decision', ''):5} {ev.get('tool', '')} {what!s:.80}" + (f"  [{rules}]" if rules else "")
    elif kind == "approval":
        detail = f"{res.get('decision', ''):5} by {(ev.get('approver') or {}).get('id', '')} for {ev.get('decision_id', '')}"
    elif kind == "outcome":
        out = ev.get("outcome") or {}
        detail = f"{out.get('status', '')} {ev.get('tool', '')} exit={out.get('exit_code')}"
    elif kind == "session":
        detail = f"{ev.get('phase', '')} {ev.get('detail', '')}"
    elif kind == "control":
        data = ev.get("data") or {}
        detail = f"{ev.get('op', '')} " + " ".join(f"{k}={data[k]}" for k in ("request", "code", "approver", "rule",
                                                                             "scope", "value", "count") if data.get(k))
    else:
        detail = f"{ev.get('where', '')}: {ev.get('error', '')}"
    return f"{ev.get('seq', ''):>7} {str(ev.get('timestamp', ''))[:19]} {kind:8} {str(ev.get('session', ''))[:12]:12} {detail}"


def _emit(events: list[dict[str, Any]], as_json: bool) -> None:
    for ev in events:
        click.echo(json.dumps(ev, ensure_ascii=False, sort_keys=True) if as_json else _line(ev))


class _Guarded(click.Group):
    """Every sub-command turns a store failure into a clear message and exit 2 (never a traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except StoreError as exc:
            raise AuditCliError(str(exc)) from None


@click.group("audit", cls=_Guarded)
def audit() -> None:
    """Inspect and prove the audit trail: every decision, approval and outcome, hash-chained and MAC'd.

    \b
    Examples:
      warden audit verify                      is the log intact? (exit 0 yes, 1 no)
      warden audit tail -n 20 --follow         watch decisions as they happen
      warden audit query --decision deny --since 2h
      warden audit stats --json                counts by decision, rule, agent; top denied commands
      warden audit export --format csv -o audit.csv
      warden evidence --session SESSION_ID --out pack.zip

    The log lives in $WARDEN_HOME/audit.db (default ~/.warden); its keys in $WARDEN_HOME/keys/.
    """


@audit.command()
@click.argument("pack", required=False, type=click.Path(exists=True, dir_okay=False))
@_db_option
@_home_option
@click.option("--file", "files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Verify exported records (--records JSONL, an evidence pack's records.jsonl or a pruned "
                   "segment archive) instead of the database.")
@click.option("--public-key", help="Ed25519 public key (hex) that must have signed the checkpoints in --file.")
@click.option("--server", "on_server", is_flag=True,
              help="Ask the team server in $WARDEN_HOME/server.json to verify its central log and every machine's "
                   "chain it holds, and compare this machine's local log with the server's copy.")
@click.option("--json", "as_json", is_flag=True, help="Print the verification report as JSON.")
@click.option("--strict", is_flag=True,
              help="Exit 1 on any warning too (missing, garbled or older head witness, an emptied log, missing "
                   "checkpoints, pruned history): for CI and scheduled checks.")
def verify(pack: str | None, db: str | None, home: str | None, files: tuple[str, ...], public_key: str | None,
           as_json: bool, strict: bool = False, on_server: bool = False) -> None:
    """Check every event's hash, link and MAC, every index column against its hashed event, and
    every signed checkpoint and the head witness.

    PACK: an evidence pack (zip, from `warden evidence` or `warden audit evidence --server`) to verify
    instead: its records must chain to its signed checkpoint, signed by --public-key, this machine's key
    or a team server's pinned key.

    Exit 0 when intact; 1 with the first broken position (edited, deleted, inserted, reordered,
    truncated, forged), or with --strict on any warning; 2 when the log or its key cannot be read.
    Warnings name what a valid chain cannot prove alone (a cut tail without a head witness, an
    emptied log, deleted checkpoints) and the pruned range, if any.

    \b
    Examples:
      warden audit verify
      warden audit verify --json
      warden audit verify --strict             CI: warnings fail too
      warden audit verify --file pack/records.jsonl --public-key $(cat ~/.warden/keys/audit-signing.pub)
      warden audit verify incident-42.zip      an evidence pack, local or central
      warden audit verify --server --json      the team server's central log, every machine, and this one
    """
    if on_server:
        from warden.cli.audit_server import verify_server

        env = {**os.environ, **({"WARDEN_AUDIT_DB": db} if db else {})}
        sys.exit(verify_server(_home(home), env, as_json))
    if pack:
        report = _verify_pack(Path(pack), home, public_key)
    elif files:
        report = _verify_files(files, home, public_key)
    else:
        store = _open(db, home, keys="optional")
        try:
            if store.keys is None:
                raise AuditCliError(
                    f"the audit key is missing from {_home(home) / 'keys'}: MACs cannot be checked. Restore "
                    "audit-mac.key from your backup (or verify an export keylessly with --file)")
            report = store.verify()
        finally:
            store.close()
    failed_strict = strict and report.ok and bool(report.warnings)
    if as_json:
        click.echo(json.dumps({**report.to_json(), "strict": strict, "strict_failed": failed_strict}, indent=2))
    elif report.ok:
        pruned = f", events {report.pruned[0]}..{report.pruned[1]} pruned" if report.pruned else ""
        click.echo(f"{'WARNINGS' if failed_strict else 'OK'}: {report.count} events intact (seq {report.first_seq}.."
                   f"{report.last_seq}){pruned}, {report.checkpoints} checkpoints (signed heads, head witness) match, "
                   f"head {report.head_hash[:16]}…")
        for w in report.warnings:
            click.echo(f"warning: {w}", err=True)
        if failed_strict:
            click.echo(f"--strict: {len(report.warnings)} warning(s) count as a failure", err=True)
    else:
        b = report.broken
        assert b is not None
        click.echo(f"BROKEN at seq {b.seq} ({b.kind}): {b.message}", err=True)
        click.echo(f"{report.count} events before it verified.", err=True)
    sys.exit(0 if report.ok and not failed_strict else EXIT_BROKEN)


def _verify_pack(pack: Path, home: str | None, public_key: str | None):
    """An evidence pack's records.jsonl, trusted to this machine's key or a team server's pinned one."""
    import tempfile
    import zipfile

    from warden.cli.audit_server import pinned_keys

    try:
        with zipfile.ZipFile(pack) as zf:
            records = zf.read("records.jsonl")
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise AuditCliError(f"{pack} is not a Warden evidence pack ({exc}): expected a zip with records.jsonl") from None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.jsonl"
        path.write_bytes(records)
        return _verify_files((str(path),), home, public_key, also_trusted=pinned_keys(_home(home)))


def _verify_files(files: tuple[str, ...], home: str | None, public_key: str | None,
                  also_trusted: list[str] | None = None):
    records: list[Record] = []
    cps: list[Checkpoint] = []
    anchor: Head | None = None
    for name in files:
        for n, line in enumerate(Path(name).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if "checkpoint" in obj:
                    cps.append(Checkpoint.from_json(obj["checkpoint"]))
                elif "anchor" in obj:
                    anchor = Head(int(obj["anchor"]["seq"]), str(obj["anchor"]["hash"]))
                else:
                    records.append(Record.from_json(obj))
            except (ValueError, KeyError, TypeError) as exc:
                raise AuditCliError(f"{name}:{n}: not a Warden audit record ({exc})") from None
    if anchor is None and records and records[0].seq > 1:
        anchor = Head(records[0].seq - 1, records[0].prev_hash)  # a proof starts mid-chain
    try:
        keys: AuditKeys | None = AuditKeys.load(_home(home), create=False)
    except Exception:  # noqa: BLE001 — keyless verification is the point of an exported proof
        keys = None
    trusted = [public_key] if public_key else (keys.trusted_public_keys() if keys else None)
    if not public_key and also_trusted:
        trusted = [*(trusted or []), *also_trusted]
    foreign = keys is not None and bool(records) and not any(r.key_id in keys.mac_keys for r in records)
    mac_keys = keys.mac_keys if keys and not foreign else None
    report = verify_records(records, mac_keys, anchor=anchor, checkpoints=cps,
                            check_signature=check_signature, trusted_public_keys=trusted)
    if keys is None:
        report.warnings.append("MACs not checked (no audit key here): hash chain and signatures only")
    elif foreign:
        report.warnings.append("MACs not checked: the records were sealed by another log's key (e.g. a team "
                               "server's); hash chain and signatures only")
    if trusted is None:
        report.warnings.append("no --public-key given: signatures are checked but not pinned to a key")
    if report.ok and not cps:
        report.warnings.append("no signed checkpoint in the file: a truncated tail cannot be detected")
    return report


@audit.command()
@_db_option
@_home_option
@click.option("-n", "count", default=20, show_default=True, help="How many recent events to show.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events as they are recorded (Ctrl-C stops).")
@click.option("--json", "as_json", is_flag=True, help="One JSON event per line (JSONL).")
@click.option("--interval", default=0.5, show_default=True, help="Polling interval for --follow, in seconds.")
def tail(db: str | None, home: str | None, count: int, follow: bool, as_json: bool, interval: float) -> None:
    """Show the most recent events.

    \b
    Examples:
      warden audit tail -n 50
      warden audit tail --follow --json | jq .result.decision
    """
    store = _open(db, home)
    try:
        events = list(reversed(store.query(limit=count, newest_first=True)))
        _emit(events, as_json)
        last = events[-1]["seq"] if events else store.head().seq
        while follow:
            time.sleep(interval)
            new = store.query(after_seq=last)
            _emit(new, as_json)
            if new:
                last = new[-1]["seq"]
            sys.stdout.flush()
    except KeyboardInterrupt:
        pass
    finally:
        store.close()


@audit.command()
@_db_option
@_home_option
@_filter_options
@click.option("--limit", type=int, help="At most this many events (newest first when set).")
@click.option("--json", "as_json", is_flag=True, help="One JSON event per line (JSONL).")
def query(db: str | None, home: str | None, limit: int | None, as_json: bool, **kw: Any) -> None:
    """Find events by session, agent, decision, tool, rule or time.

    \b
    Examples:
      warden audit query --session 4f1c... --json
      warden audit query --decision deny --agent claude-code --since 24h
      warden audit query --rule git-force-push --since 2026-11-01 --until 2026-11-15
    """
    store = _open(db, home)
    try:
        events = store.query(_filters(kw), limit=limit, newest_first=limit is not None)
    finally:
        store.close()
    if limit is not None:
        events.reverse()
    _emit(events, as_json)


CSV_FIELDS = ["seq", "timestamp", "kind", "id", "session", "agent", "actor", "tool", "tool_use_id", "decision",
              "rules", "reason", "subject", "policy_digest", "duration_ms", "masked", "hash"]


def _csv_row(ev: dict[str, Any]) -> dict[str, Any]:
    res = ev.get("result") or {}
    inp = ev.get("input") or {}
    return {
        "seq": ev.get("seq"), "timestamp": ev.get("timestamp"), "kind": ev.get("kind"), "id": ev.get("id"),
        "session": ev.get("session"), "agent": ev.get("agent"), "actor": (ev.get("actor") or {}).get("id", ""),
        "tool": ev.get("tool"), "tool_use_id": ev.get("tool_use_id"), "decision": res.get("decision", ""),
        "rules": " ".join(r.get("id", "") for r in res.get("rules") or [] if isinstance(r, dict)),
        "reason": res.get("reason", ev.get("error", "")),
        "subject": inp.get("command") or inp.get("file_path") or inp.get("url") or inp.get("query") or "",
        "policy_digest": (ev.get("policy") or {}).get("digest", ""), "duration_ms": ev.get("duration_ms", ""),
        "masked": " ".join(ev.get("masked") or []), "hash": ev.get("hash"),
    }


@audit.command()
@_db_option
@_home_option
@_filter_options
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--records", is_flag=True,
              help="Export raw chain records (hash, prev_hash, MAC, body) that `warden audit verify --file` checks. "
                   "Ignores filters: a proof needs the whole chain.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
def export(db: str | None, home: str | None, fmt: str, records: bool, output: str | None, **kw: Any) -> None:
    """Export events for a SIEM, a spreadsheet or an auditor.

    \b
    Examples:
      warden audit export --format jsonl -o audit.jsonl
      warden audit export --format csv --decision deny --since 7d > denied.csv
      warden audit export --records -o chain.jsonl && warden audit verify --file chain.jsonl
    """
    store = _open(db, home)
    out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
    try:
        if records:
            anchor = store.anchor()
            if anchor is not None:
                out.write(json.dumps({"anchor": {"seq": anchor.seq, "hash": anchor.hash}}) + "\n")
                out.write(json.dumps({"checkpoint": anchor.to_json()}) + "\n")
            for r in store.iter_records(after_seq=anchor.seq if anchor else 0):
                out.write(json.dumps(r.to_json(), ensure_ascii=False) + "\n")
            for cp in store.checkpoints():
                if anchor is None or cp.seq > anchor.seq:
                    out.write(json.dumps({"checkpoint": cp.to_json()}) + "\n")
            return
        events = store.iter_query(_filters(kw))
        if fmt == "jsonl":
            for ev in events:
                out.write(json.dumps(ev, ensure_ascii=False, sort_keys=True) + "\n")
        else:
            w = csv.DictWriter(out, fieldnames=CSV_FIELDS)
            w.writeheader()
            for ev in events:
                w.writerow(_csv_row(ev))
    finally:
        store.close()
        if output:
            out.close()


@audit.command()
@_db_option
@_home_option
@_filter_options
@click.option("--top", default=10, show_default=True, help="How many top denied commands to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
def stats(db: str | None, home: str | None, top: int, as_json: bool, **kw: Any) -> None:
    """Counts by decision, rule and agent, and the most denied commands.

    \b
    Examples:
      warden audit stats
      warden audit stats --since 7d --json
    """
    store = _open(db, home)
    try:
        s = store.stats(_filters(kw), top=top)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(s, indent=2))
        return
    click.echo(f"events: {s['events']}  " + "  ".join(f"{k}={v}" for k, v in s["by_kind"].items()))
    click.echo("decisions: " + ("  ".join(f"{k}={v}" for k, v in s["by_decision"].items()) or "none"))
    for title, rows in (("rules", s["by_rule"]), ("agents", s["by_agent"]), ("top denied", s["top_denied"])):
        click.echo(f"{title}:")
        for name, n in rows or [["(none)", 0]]:
            click.echo(f"  {n:>7}  {name}")


@audit.command()
@_db_option
@_home_option
@click.option("--json", "as_json", is_flag=True)
def checkpoint(db: str | None, home: str | None, as_json: bool) -> None:
    """Sign the current chain head now (Ed25519); ship the output somewhere else as a witness.

    \b
    Example:
      warden audit checkpoint --json >> /secure/elsewhere/warden-heads.jsonl
    """
    store = _open(db, home, keys="require")
    try:
        cp = store.checkpoint("manual")
    except StoreError as exc:
        raise AuditCliError(str(exc)) from None
    finally:
        store.close()
    click.echo(json.dumps(cp.to_json()) if as_json else f"signed head seq {cp.seq} hash {cp.hash[:16]}… "
               f"with key {cp.public_key[:16]}…")


@audit.command()
@_db_option
@_home_option
@click.option("--keep", default=None, type=int,
              help="After rotating, move all but the newest KEEP sealed segments to --archive.")
@click.option("--archive", type=click.Path(file_okay=False), help="Folder for pruned segment archives (JSONL).")
def rotate(db: str | None, home: str | None, keep: int | None, archive: str | None) -> None:
    """Seal the current segment with a signed checkpoint and start a new one; optionally prune old ones.

    The chain continues across segments, and a pruned segment's closing checkpoint stays as the
    anchor the rest verifies from. Each archive verifies on its own with `verify --file`.

    \b
    Examples:
      warden audit rotate
      warden audit rotate --keep 4 --archive ~/warden-archive
    """
    if keep is not None and not archive:
        raise click.UsageError("--keep needs --archive DIR: pruned segments are moved there, never dropped")
    store = _open(db, home, keys="require")
    try:
        cp = store.rotate()
        click.echo(f"sealed segment {cp.segment} at seq {cp.seq}")
        if keep is not None and archive:
            for path in store.prune(keep, archive):
                click.echo(f"archived {path}")
    except StoreError as exc:
        raise AuditCliError(str(exc)) from None
    finally:
        store.close()


@audit.command("rotate-key")
@_db_option
@_home_option
def rotate_key(db: str | None, home: str | None) -> None:
    """Switch to a fresh MAC key (e.g. after a suspected leak); old events stay verifiable.

    The old key is kept as keys/audit-mac.retired-<id>.key for verification only, and the
    current segment is sealed with a signed checkpoint so the switch is itself on record.

    \b
    Example:
      warden audit rotate-key && warden audit verify
    """
    from warden.adapters.store.keyring import rotate_mac_key

    store = _open(db, home, keys="require")
    try:
        store.checkpoint("rotate-key")  # sign the head under the old key before switching
        old, new = rotate_mac_key(_home(home))
    finally:
        store.close()
    store = _open(db, home, keys="require")
    try:
        cp = store.rotate()
    finally:
        store.close()
    click.echo(f"MAC key {old} retired, {new} in use; segment {cp.segment} sealed at seq {cp.seq}")


@audit.command("otel-export")
@_db_option
@_home_option
@click.option("--follow", "-f", is_flag=True, help="Keep exporting new events as they are recorded.")
@click.option("--linger", type=float, default=0.0, metavar="SECONDS",
              help="Keep polling until no new event arrived for SECONDS, then exit (what background mode runs).")
@click.option("--interval", default=0.5, show_default=True, help="Polling interval, in seconds.")
@click.option("--batch", default=500, show_default=True, help="Events per OTLP request.")
def otel_export(db: str | None, home: str | None, follow: bool, linger: float, interval: float, batch: int) -> None:
    """Ship recorded decisions to OpenTelemetry from the log (at-least-once).

    The log is the outbox: a cursor stored in it advances only when the collector accepted a
    batch, so a collector outage loses nothing. WARDEN_OTEL_MODE=background makes every recorder
    start this (with --linger) after recording; WARDEN_OTEL_MODE=outbox leaves it to you.

    \b
    Examples:
      OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 warden audit otel-export --follow
      OTEL_EXPORTER_OTLP_ENDPOINT=https://otel.example.com OTEL_EXPORTER_OTLP_HEADERS=authorization=... \\
          warden audit otel-export          # one pass, e.g. from cron
    """
    import fcntl

    from warden.adapters.otel_background import LOCK_NAME

    if not (os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")):
        raise AuditCliError("set OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://localhost:4318) to say where to export")
    try:
        from warden.adapters.otel import Telemetry
    except ImportError as exc:
        raise AuditCliError(f"OpenTelemetry is not installed ({exc}): pip install 'warden[otel]'") from None
    home_dir = _home(home)
    home_dir.mkdir(parents=True, exist_ok=True)
    lock = os.open(home_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(lock)
        click.echo("another `warden audit otel-export` is running; it will ship new events")
        return
    store = _open(db, home)
    tel = Telemetry.from_env(os.environ, outbox=True)
    cursor, sent, idle_since = int(store.get_meta("otel_cursor") or 0), 0, time.monotonic()
    try:
        while True:
            events = store.query(after_seq=cursor, limit=batch)
            if events:
                for ev in events:
                    tel.emit(ev)
                if not tel.export_pending():
                    msg = (f"the collector did not accept events {events[0]['seq']}..{events[-1]['seq']}; "
                           "they stay queued in the log")
                    if not (follow or linger):
                        raise AuditCliError(f"{msg}. Nothing was lost: run again when the collector is reachable")
                    if linger and time.monotonic() - idle_since > max(linger, 10 * interval) * 5:
                        raise AuditCliError(f"{msg}; giving up for now")
                    click.echo(msg, err=True)
                    time.sleep(interval)
                    continue
                cursor = int(events[-1]["seq"])
                store.set_meta("otel_cursor", str(cursor))
                sent += len(events)
                idle_since = time.monotonic()
                continue
            if follow or (linger and time.monotonic() - idle_since < linger):
                time.sleep(interval)
                continue
            if linger:
                # Release, then look once more: a recorder that saw the lock held just before
                # the release relies on this last pass to ship its event.
                fcntl.flock(lock, fcntl.LOCK_UN)
                if store.query(after_seq=cursor, limit=1):
                    try:
                        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except OSError:
                        break  # a newer exporter took over
                    idle_since = time.monotonic()
                    continue
            break
    except KeyboardInterrupt:
        pass
    finally:
        tel.shutdown()
        store.close()
        os.close(lock)
    click.echo(f"exported {sent} events; cursor at seq {cursor}")


@click.command("evidence")
@_db_option
@_home_option
@click.option("--session", help="The session whose evidence to bundle.")
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Zip file to write (with --inventory: the report).")
@click.option("--inventory", "inventory_paths", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Instead of a session pack: join the Agent Action BOM of these checkouts with the audit log "
                   "(per path: what happened, who approved, what validation ran). Repeatable.")
@click.option("--json", "as_json", is_flag=True, help="With --inventory: JSON instead of Markdown.")
@click.option("--server", "from_server", is_flag=True,
              help="Build the pack on the team server (server.json) from its central log: the session's events "
                   "from every machine, signed by the server's key (pinned on first use).")
def evidence(db: str | None, home: str | None, session: str | None, out: str | None,
             inventory_paths: tuple[str, ...], as_json: bool, from_server: bool = False) -> None:
    """Bundle one session's evidence into a zip an auditor can check without trusting you.

    The pack holds the session's events, the chain records from its first event to a freshly
    signed checkpoint (other sessions' events elided to digests), the verification report, the
    policy texts in force, approvals, the public key, and summary.html for people.

    \b
    Examples:
      warden evidence --session 4f1c2e... --out incident-42.zip
      warden audit verify incident-42.zip
      unzip incident-42.zip -d pack && warden audit verify --file pack/records.jsonl \\
          --public-key "$(cat pack/public_key.txt)"
      warden audit evidence --server --session 4f1c2e... --out central-42.zip   from the team server
      warden evidence --inventory . --out evidence.md     the action map joined with the log
    """
    if inventory_paths:
        from warden.cli.inventory import evidence_report

        evidence_report(list(inventory_paths), db=db, home=home, out=out, as_json=as_json)
        return
    if session is not None and not session.strip():
        raise AuditCliError("--session is empty: name one session id (find them with "
                            "`warden audit query --since 1d --json | jq -r .session | sort -u`)")
    if not session or not out:
        raise click.UsageError("give --session SESSION and --out FILE (or --inventory PATH for the action map)")
    if from_server:
        _central_evidence(home, session, Path(out))
        return
    from warden.adapters.evidence import build_pack

    store = _open(db, home, keys="require")
    try:
        summary = build_pack(store, session, Path(out))
    except StoreError as exc:
        raise AuditCliError(str(exc)) from None
    finally:
        store.close()
    click.echo(f"wrote {out}: {summary['events']} events, verification "
               f"{'OK' if summary['verified'] else 'FAILED'}, {summary['policies']} policy version(s)")
    if not summary["verified"]:
        sys.exit(EXIT_BROKEN)


def _central_evidence(home: str | None, session: str, out: Path) -> None:
    from warden.cli.audit_server import download_pack

    key = download_pack(_home(home), session, out)
    report = _verify_pack(out, home, key)
    click.echo(f"wrote {out} from the team server: {report.count} chain records (seq {report.first_seq}.."
               f"{report.last_seq}), verification {'OK' if report.ok else 'FAILED'} against the server's key "
               f"{key[:16]}…")
    if not report.ok:
        b = report.broken
        click.echo(f"BROKEN at seq {b.seq if b else '?'}: {b.message if b else ''}", err=True)
        sys.exit(EXIT_BROKEN)


audit.add_command(evidence)
