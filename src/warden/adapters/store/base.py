"""SQL logic shared by the SQLite and PostgreSQL audit stores.

A subclass supplies the connection, the DDL, the parameter placeholder and one thing that
matters for correctness: ``_write()``, a transaction that holds the log's single write lock
*before* the chain head is read, so concurrent writers (many hook processes) serialize and
never fork the chain. The transaction commits durably before ``append`` returns.
"""

from __future__ import annotations

import hmac
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warden.adapters.store.columns import SegmentCheck, column_problem, matches
from warden.adapters.store.keyring import AuditKeys, check_signature
from warden.ports import AuditStore
from warden.core.audit import (
    ChainVerifier,
    Checkpoint,
    Head,
    Record,
    VerifyReport,
    checkpoint_payload,
    event_mac,
    event_summary,
    make_checkpoint,
    rfc3339,
    seal,
    validate_event,
)

APP_NAME = "warden-audit"
SCHEMA = 1
RECORD_COLUMNS = "seq, prev_hash, hash, mac, key_id, body, segment"
_WITNESS_BYTES = 1024
SUMMARY_COLUMNS = ("kind", "event_id", "ts", "session", "agent", "tool", "decision", "rules", "subject",
                   "tool_use_id")


class StoreError(RuntimeError):
    """The audit log cannot be used; the message says why and what to do next."""


@dataclass
class StoreOptions:
    checkpoint_every: int = 1000  # sign the chain head every N events (0 = only at rotation / on demand)
    segment_events: int = 0  # rotate to a new segment after N events (0 = only when asked)
    checkpoint_file: Path | None = None  # copy of every checkpoint outside the database
    head_file: Path | None = None  # MAC'd witness of the latest head, updated after every commit


@dataclass(frozen=True)
class Segment:
    id: int
    first_seq: int


@dataclass(frozen=True)
class Filters:
    session: str | None = None
    agent: str | None = None
    decision: str | None = None
    tool: str | None = None
    rule: str | None = None
    kind: str | None = None
    tool_use_id: str | None = None
    since: str | None = None  # RFC 3339 (string comparison works: all timestamps are UTC, same format)
    until: str | None = None


class SqlAuditStore(AuditStore):
    """The :class:`~warden.ports.AuditStore` port over SQL (SQLite and PostgreSQL subclasses)."""

    ph = "?"
    location = ""

    def __init__(self, keys: AuditKeys | None, options: StoreOptions | None = None) -> None:
        self.keys = keys
        self.options = options or StoreOptions()

    # -- subclass hooks ------------------------------------------------------------------
    def _write(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # -- writing -------------------------------------------------------------------------
    def append(self, event: Mapping[str, Any]) -> str:
        return self.append_many([event])[0]

    def append_many(self, events: Sequence[Mapping[str, Any]]) -> list[str]:
        """Append events in one durable transaction (group commit); all land or none do."""
        self.append_records(events)
        return [str(e["id"]) for e in events]

    def append_records(self, events: Sequence[Mapping[str, Any]], *, only_new_ids: bool = False) -> list[Record]:
        """Like :meth:`append_many`, returning the sealed records (seq, hash) for telemetry.

        ``only_new_ids``: skip events whose id the log already holds (and repeats within the batch),
        checked inside the write transaction, so concurrent writers (server replicas re-sending one
        machine's events after a crash) store each event exactly once.
        """
        if self.keys is None:
            raise StoreError("this audit store was opened read-only (no audit key); it cannot append")
        prepared = [self._prepare(e) for e in events]
        new_cps: list[Checkpoint] = []
        records: list[Record] = []
        ph = self.ph
        with self._write() as cur:
            if only_new_ids:
                prepared = self._drop_known_ids(cur, prepared)
            head = self._head(cur)
            seg = self._open_segment(cur, head)
            for body, texts in prepared:
                if self.options.segment_events and head.seq - seg.first_seq + 1 >= self.options.segment_events:
                    seg, cp = self._rotate(cur, head, seg)
                    new_cps.append(cp)
                rec = seal(body, head, self.keys.mac_key, segment=seg.id, kid=self.keys.kid)
                summary = event_summary(body)
                cur.execute(
                    f"INSERT INTO events ({RECORD_COLUMNS}, {', '.join(SUMMARY_COLUMNS)}) VALUES "
                    f"({', '.join([ph] * (7 + len(SUMMARY_COLUMNS)))})",
                    (rec.seq, rec.prev_hash, rec.hash, rec.mac, rec.key_id, rec.body, rec.segment,
                     *(summary[c] for c in SUMMARY_COLUMNS)),
                )
                if texts:
                    policy = body.get("policy") or {}
                    cur.execute(
                        f"INSERT INTO policies (digest, sources, texts, first_seen) VALUES ({ph}, {ph}, {ph}, {ph}) "
                        "ON CONFLICT (digest) DO NOTHING",
                        (str(policy.get("digest", "")), json.dumps(policy.get("sources", [])),
                         json.dumps(texts, sort_keys=True), body["recorded_at"]),
                    )
                head = Head(rec.seq, rec.hash)
                records.append(rec)
                if self.options.checkpoint_every and rec.seq % self.options.checkpoint_every == 0:
                    new_cps.append(self._insert_checkpoint(cur, head, seg.id, "periodic"))
        self._export_checkpoints(new_cps)
        if records:
            self._write_head_witness(records[-1])
        return records

    def _drop_known_ids(self, cur: Any, prepared: list[tuple[dict[str, Any], dict[str, str] | None]]
                        ) -> list[tuple[dict[str, Any], dict[str, str] | None]]:
        ids = list(dict.fromkeys(str(body["id"]) for body, _ in prepared))
        known: set[str] = set()
        for i in range(0, len(ids), 500):  # well under every driver's parameter limit
            chunk = ids[i:i + 500]
            cur.execute(f"SELECT event_id FROM events WHERE event_id IN ({', '.join([self.ph] * len(chunk))})",
                        tuple(chunk))
            known.update(str(r[0]) for r in cur.fetchall())
        kept = []
        for body, texts in prepared:
            if str(body["id"]) not in known:
                known.add(str(body["id"]))
                kept.append((body, texts))
        return kept

    # -- head witness: catches a cut tail between two signed checkpoints -----------------------
    def _head_witness_of(self, seq: int, hash_hex: str, segment: int) -> Checkpoint:
        assert self.keys is not None
        pub = f"hmac:{self.keys.kid}"
        payload = checkpoint_payload(seq, hash_hex, segment, "", "head", pub)
        return Checkpoint(seq, hash_hex, segment, "", "head", pub, event_mac(self.keys.mac_key, payload.hex()))

    def _write_head_witness(self, last: Record) -> None:
        """Advance ``<db>.head`` after a durable commit; it only ever moves forward.

        Written after the commit, so after a crash it can lag the log (harmless) but never lead it:
        a witness beyond the end of the log means events were cut from the tail. No fsync: losing
        the latest witness in a power cut only weakens this check, it never raises a false alarm.
        Format: one fixed-width line ``SEQ(20 digits) HASH SEGMENT KEY_ID MAC``, rewritten in place.
        """
        path = self.options.head_file
        if path is None or self.keys is None:
            return
        import fcntl

        w = self._head_witness_of(last.seq, last.hash, last.segment)
        line = f"{w.seq:020d} {w.hash} {w.segment} {w.public_key[5:]} {w.signature}".encode("ascii")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return  # the witness is an extra check; the event itself is already durable
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            current = os.pread(fd, 20, 0)
            if not current.isdigit() or last.seq > int(current):
                # Fixed width, overwritten in place: no truncate, no block reallocation per append.
                os.pwrite(fd, line.ljust(_WITNESS_BYTES - 1) + b"\n", 0)
        except OSError:
            pass
        finally:
            os.close(fd)

    def head_witness(self) -> Checkpoint | None:
        path = self.options.head_file
        if path is None or not path.exists():
            return None
        try:
            seq, hash_hex, segment, kid, mac = path.read_text(encoding="ascii").split()
            return Checkpoint(int(seq), hash_hex, int(segment), "", "head", f"hmac:{kid}", mac)
        except (OSError, ValueError):
            return None

    def _prepare(self, event: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str] | None]:
        validate_event(event)
        body = dict(event)
        texts = body.pop("policy_texts", None)
        body["recorded_at"] = rfc3339(time.time())
        return body, (dict(texts) if texts else None)

    def _head(self, cur: Any) -> Head:
        cur.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
        row = cur.fetchone()
        if row is not None:
            return Head(int(row[0]), str(row[1]))
        anchor = self._anchor(cur)
        return Head(anchor.seq, anchor.hash) if anchor else Head()

    def _open_segment(self, cur: Any, head: Head) -> Segment:
        cur.execute("SELECT id, first_seq FROM segments WHERE state = 'open' ORDER BY id DESC LIMIT 1")
        row = cur.fetchone()
        if row is not None:
            return Segment(int(row[0]), int(row[1]))
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM segments")
        new_id = int(cur.fetchone()[0]) + 1
        ph = self.ph
        cur.execute(f"INSERT INTO segments (id, first_seq, last_seq, opened_at, closed_at, state) "
                    f"VALUES ({ph}, {ph}, NULL, {ph}, NULL, 'open')", (new_id, head.seq + 1, rfc3339(time.time())))
        return Segment(new_id, head.seq + 1)

    def _rotate(self, cur: Any, head: Head, seg: Segment) -> tuple[Segment, Checkpoint]:
        cp = self._insert_checkpoint(cur, head, seg.id, "rotate")
        ph = self.ph
        cur.execute(f"UPDATE segments SET state = 'sealed', last_seq = {ph}, closed_at = {ph} WHERE id = {ph}",
                    (head.seq, rfc3339(time.time()), seg.id))
        return self._open_segment(cur, head), cp

    def _insert_checkpoint(self, cur: Any, head: Head, segment: int, reason: str) -> Checkpoint:
        assert self.keys is not None
        cp = make_checkpoint(head, segment=segment, created_at=rfc3339(time.time()), reason=reason,
                             public_key=self.keys.public_key, sign=self.keys.sign)
        ph = self.ph
        cur.execute(f"INSERT INTO checkpoints (seq, hash, segment, created_at, reason, public_key, signature) "
                    f"VALUES ({ph}, {ph}, {ph}, {ph}, {ph}, {ph}, {ph})",
                    (cp.seq, cp.hash, cp.segment, cp.created_at, cp.reason, cp.public_key, cp.signature))
        return cp

    def _export_checkpoints(self, cps: list[Checkpoint]) -> None:
        path = self.options.checkpoint_file
        if not cps or path is None:
            return
        lines = "".join(json.dumps(cp.to_json(), sort_keys=True) + "\n" for cp in cps)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError:
            return  # the committed events and the DB copy of the checkpoint stand; only the outside copy is missing
        try:
            os.write(fd, lines.encode("ascii"))  # O_APPEND: concurrent writers never interleave a line
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def checkpoint(self, reason: str = "manual") -> Checkpoint:
        """Sign the current head now (evidence packs, `warden audit checkpoint`)."""
        if self.keys is None:
            raise StoreError("signing a checkpoint needs the audit keys")
        with self._write() as cur:
            head = self._head(cur)
            seg = self._open_segment(cur, head)
            cp = self._insert_checkpoint(cur, head, seg.id, reason)
        self._export_checkpoints([cp])
        return cp

    def rotate(self) -> Checkpoint:
        """Seal the open segment with a signed checkpoint and open the next one."""
        if self.keys is None:
            raise StoreError("rotating needs the audit keys")
        with self._write() as cur:
            head = self._head(cur)
            seg = self._open_segment(cur, head)
            _, cp = self._rotate(cur, head, seg)
        self._export_checkpoints([cp])
        return cp

    def prune(self, keep_segments: int, archive_dir: str | os.PathLike[str]) -> list[Path]:
        """Move all but the newest ``keep_segments`` sealed segments to JSONL archives.

        Each archive holds its records and the segment's closing checkpoint, and is fsynced before
        the rows are deleted. The last pruned segment's closing checkpoint becomes the anchor the
        remaining chain verifies from, so verification keeps working after retention.
        """
        if keep_segments < 0:
            raise ValueError("keep_segments must be >= 0")
        out_dir = Path(archive_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        ph = self.ph
        with self._write() as cur:
            cur.execute("SELECT id, first_seq, last_seq FROM segments WHERE state = 'sealed' ORDER BY id")
            sealed = [(int(a), int(b), int(c)) for a, b, c in cur.fetchall()]
            victims = sealed[: max(0, len(sealed) - keep_segments)]
            for seg_id, first, last in victims:
                cur.execute(f"SELECT seq, hash, segment, created_at, reason, public_key, signature FROM checkpoints "
                            f"WHERE segment = {ph} AND reason = 'rotate' AND seq = {ph}", (seg_id, last))
                row = cur.fetchone()
                if row is None:
                    raise StoreError(f"segment {seg_id} has no closing checkpoint; refusing to prune it")
                cp = _checkpoint_row(row)
                path = out_dir / f"segment-{seg_id:06d}-{first}-{last}.jsonl"
                cur.execute(f"SELECT {RECORD_COLUMNS} FROM events WHERE segment = {ph} ORDER BY seq", (seg_id,))
                with open(path, "w", encoding="utf-8") as fh:
                    fh.writelines(json.dumps(_record_row(r).to_json(), ensure_ascii=False) + "\n" for r in cur.fetchall())
                    fh.write(json.dumps({"checkpoint": cp.to_json()}) + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
                written.append(path)
                cur.execute(f"DELETE FROM events WHERE segment = {ph}", (seg_id,))
                cur.execute(f"UPDATE segments SET state = 'pruned' WHERE id = {ph}", (seg_id,))
                self._set_meta(cur, "anchor", json.dumps(cp.to_json()))
        return written

    def remember_policy(self, digest: str, texts: Mapping[str, str], sources: Sequence[str] = ()) -> None:
        ph = self.ph
        with self._write() as cur:
            cur.execute(f"INSERT INTO policies (digest, sources, texts, first_seen) VALUES ({ph}, {ph}, {ph}, {ph}) "
                        "ON CONFLICT (digest) DO NOTHING",
                        (digest, json.dumps(list(sources)), json.dumps(dict(texts), sort_keys=True),
                         rfc3339(time.time())))

    # -- reading -------------------------------------------------------------------------
    def iter_records(self, after_seq: int = 0, batch: int = 5000) -> Iterator[Record]:
        ph = self.ph
        last = after_seq
        while True:
            rows: list[Any] = []
            error: StoreError | None = None
            try:
                with self._read() as cur:
                    cur.execute(f"SELECT {RECORD_COLUMNS} FROM events WHERE seq > {ph} ORDER BY seq LIMIT {ph}",
                                (last, batch))
                    while chunk := cur.fetchmany(256):  # rows before a damaged page still count
                        rows.extend(chunk)
            except StoreError as exc:
                error = exc
            for r in rows:
                yield _record_row(r)
            if error is not None:
                raise error
            if len(rows) < batch:
                return
            last = int(rows[-1][0])

    def iter_events(self) -> Iterator[Mapping[str, Any]]:
        for r in self.iter_records():
            yield _event_of(r)

    def query(self, filters: Filters = Filters(), *, limit: int | None = None, newest_first: bool = False,
              after_seq: int = 0) -> list[dict[str, Any]]:
        ph = self.ph
        where: list[str] = [f"seq > {ph}"]
        args: list[Any] = [after_seq]
        for col in ("session", "agent", "decision", "tool", "kind", "tool_use_id"):
            val = getattr(filters, col)
            if val:
                where.append(f"{col} = {ph}")
                args.append(val)
        if filters.rule:
            where.append(f"rules LIKE {ph}")
            args.append(f"%,{filters.rule},%")
        if filters.since:
            where.append(f"ts >= {ph}")
            args.append(filters.since)
        if filters.until:
            where.append(f"ts < {ph}")
            args.append(filters.until)
        sql = (f"SELECT {RECORD_COLUMNS} FROM events WHERE {' AND '.join(where)} "
               f"ORDER BY seq {'DESC' if newest_first else 'ASC'}")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._read() as cur:
            cur.execute(sql, tuple(args))
            rows = cur.fetchall()
        events = [_event_of(_record_row(r)) for r in rows]
        # SQL selected on index columns outside the hash chain: keep only what the hashed body confirms
        wanted = {col: getattr(filters, col) for col in ("session", "agent", "decision", "tool", "kind",
                                                          "tool_use_id", "rule") if getattr(filters, col)}
        if "rule" in wanted:
            wanted["rules"] = wanted.pop("rule")
        return [ev for ev in events if not wanted or matches(ev, wanted)] if wanted else events

    def iter_query(self, filters: Filters = Filters(), batch: int = 2000) -> Iterator[dict[str, Any]]:
        """Like :meth:`query`, in pages: exports and stats over big logs stay in bounded memory."""
        last = 0
        while True:
            page = self.query(filters, limit=batch, after_seq=last)
            yield from page
            if len(page) < batch:
                return
            last = int(page[-1]["seq"])

    def stats(self, filters: Filters = Filters(), top: int = 10) -> dict[str, Any]:
        count = 0
        by_decision: dict[str, int] = {}
        by_rule: dict[str, int] = {}
        by_agent: dict[str, int] = {}
        by_kind: dict[str, int] = {}
        denied: dict[str, int] = {}
        for ev in self.iter_query(filters):
            count += 1
            by_kind[ev.get("kind", "")] = by_kind.get(ev.get("kind", ""), 0) + 1
            if ev.get("kind") != "decision":
                continue
            res = ev.get("result") or {}
            d = res.get("decision", "")
            by_decision[d] = by_decision.get(d, 0) + 1
            agent = ev.get("agent") or "(unknown)"
            by_agent[agent] = by_agent.get(agent, 0) + 1
            for r in res.get("rules") or []:
                rid = r.get("id", "") if isinstance(r, Mapping) else str(r)
                by_rule[rid] = by_rule.get(rid, 0) + 1
            if d == "deny":
                inp = ev.get("input") or {}
                subject = inp.get("command") or inp.get("file_path") or inp.get("url") or ev.get("tool", "")
                denied[str(subject)[:200]] = denied.get(str(subject)[:200], 0) + 1

        def ranked(d: dict[str, int], n: int | None = None) -> list[list[Any]]:
            return [[k, v] for k, v in sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]

        return {"events": count, "by_kind": dict(ranked(by_kind)), "by_decision": dict(ranked(by_decision)),
                "by_rule": ranked(by_rule), "by_agent": ranked(by_agent), "top_denied": ranked(denied, top)}

    def find_decision(self, tool_use_id: str) -> dict[str, Any] | None:
        """The latest decision about one tool call, to link its approval and outcome events."""
        if not tool_use_id:
            return None
        found = self.query(Filters(kind="decision", tool_use_id=tool_use_id), limit=1, newest_first=True)
        return found[0] if found else None

    def head(self) -> Head:
        with self._read() as cur:
            return self._head(cur)

    def count(self) -> int:
        with self._read() as cur:
            cur.execute("SELECT COUNT(*) FROM events")
            return int(cur.fetchone()[0])

    def last_key_id(self) -> str | None:
        with self._read() as cur:
            cur.execute("SELECT key_id FROM events ORDER BY seq DESC LIMIT 1")
            row = cur.fetchone()
        return str(row[0]) if row else None

    def checkpoints(self) -> list[Checkpoint]:
        with self._read() as cur:
            cur.execute("SELECT seq, hash, segment, created_at, reason, public_key, signature FROM checkpoints "
                        "ORDER BY seq")
            cps = [_checkpoint_row(r) for r in cur.fetchall()]
        seen = {(c.seq, c.signature) for c in cps}
        path = self.options.checkpoint_file
        if path is not None and path.exists():
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    cp = Checkpoint.from_json(json.loads(line))
                except (ValueError, KeyError, TypeError):
                    continue  # a torn last line after a crash; the DB copy still counts
                if (cp.seq, cp.signature) not in seen:
                    cps.append(cp)
                    seen.add((cp.seq, cp.signature))
        return sorted(cps, key=lambda c: c.seq)

    def anchor(self) -> Checkpoint | None:
        with self._read() as cur:
            return self._anchor(cur)

    def _anchor(self, cur: Any) -> Checkpoint | None:
        cur.execute(f"SELECT v FROM meta WHERE k = {self.ph}", ("anchor",))
        row = cur.fetchone()
        return Checkpoint.from_json(json.loads(row[0])) if row else None

    def _set_meta(self, cur: Any, key: str, value: str) -> None:
        ph = self.ph
        cur.execute(f"INSERT INTO meta (k, v) VALUES ({ph}, {ph}) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
                    (key, value))

    def get_meta(self, key: str) -> str | None:
        with self._read() as cur:
            cur.execute(f"SELECT v FROM meta WHERE k = {self.ph}", (key,))
            row = cur.fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as cur:
            self._set_meta(cur, key, value)

    def policy_texts(self, digest: str) -> dict[str, Any] | None:
        with self._read() as cur:
            cur.execute(f"SELECT sources, texts, first_seen FROM policies WHERE digest = {self.ph}", (digest,))
            row = cur.fetchone()
        if row is None:
            return None
        return {"digest": digest, "sources": json.loads(row[0]), "texts": json.loads(row[1]), "first_seen": row[2]}

    def segments(self) -> list[dict[str, Any]]:
        with self._read() as cur:
            cur.execute("SELECT id, first_seq, last_seq, opened_at, closed_at, state FROM segments ORDER BY id")
            return [dict(zip(("id", "first_seq", "last_seq", "opened_at", "closed_at", "state"), r, strict=True))
                    for r in cur.fetchall()]

    # -- verification --------------------------------------------------------------------
    def _iter_checked(self, after_seq: int, segments: SegmentCheck, batch: int = 5000) -> Iterator[Record]:
        """Records in order, each with its index columns and segment checked (raises IndexMismatch)."""
        ph = self.ph
        last = after_seq
        cols = f"{RECORD_COLUMNS}, {', '.join(SUMMARY_COLUMNS)}"
        while True:
            with self._read() as cur:
                cur.execute(f"SELECT {cols} FROM events WHERE seq > {ph} ORDER BY seq LIMIT {ph}", (last, batch))
                rows = cur.fetchall()
            for row in rows:
                rec = _record_row(row[:7])
                why = segments.problem(rec.seq, rec.segment) or column_problem(
                    rec.seq, rec.body, dict(zip(SUMMARY_COLUMNS, row[7:], strict=True)))
                yield rec
                if why:  # raised only once the chain accepted the record: a forged or edited body says so first
                    raise IndexMismatch(rec.seq, why)
            if len(rows) < batch:
                return
            last = int(rows[-1][0])

    def verify(self, keys: AuditKeys | None = None, *, check_checkpoints: bool = True) -> VerifyReport:
        """Check every record, every index column against its hashed body, every signed checkpoint
        and the head witness; stops at the first break, and warns about what it could not rule out."""
        keys = keys or self.keys
        anchor_cp = self.anchor()
        cps = self.checkpoints() if check_checkpoints else []
        if anchor_cp is not None:
            cps = [*cps, anchor_cp]
        anchor = Head(anchor_cp.seq, anchor_cp.hash) if anchor_cp else None
        witness, witness_problem = self._head_witness_state() if check_checkpoints else (None, "")
        if witness is not None:
            cps = [*cps, witness]
        v = ChainVerifier(keys.mac_keys if keys else None, anchor, want_hashes=(c.seq for c in cps))
        if anchor_cp is not None and anchor_cp.reason != "rotate":
            # A copied periodic (or evidence, manual) checkpoint is validly signed, but only the closing
            # checkpoint of a pruned segment says "everything before this was archived".
            v.stop("deleted", f"the prune anchor at seq {anchor_cp.seq} is a {anchor_cp.reason or 'unnamed'} "
                              f"checkpoint, not the signed rotation record of a pruned segment: events "
                              f"1..{anchor_cp.seq} were deleted")
        else:
            rotations = [c.seq for c in cps if c.reason == "rotate" and not c.public_key.startswith("hmac:")]
            segments = SegmentCheck(rotations, anchor_cp.segment if anchor_cp else None)
            try:
                v.feed_many(self._iter_checked(anchor.seq if anchor else 0, segments))
            except IndexMismatch as exc:
                v.stop_at(exc.seq, "edited", exc.message)
            except StoreError as exc:  # a damaged page: everything before it verified, nothing after can
                v.stop("corrupt", f"the log cannot be read past this point: {exc}")
        trusted = keys.trusted_public_keys() if keys else None
        if trusted is not None and keys is not None:
            trusted = [*trusted, *(f"hmac:{kid}" for kid in keys.mac_keys)]
        report = v.finish(cps, _checker(keys) if cps else None, trusted)
        if anchor_cp is not None:
            report.pruned = (1, anchor_cp.seq)
            report.warnings.append(f"events 1..{anchor_cp.seq} were pruned (anchored by the signed rotation "
                                   f"checkpoint of segment {anchor_cp.segment}); verify their archives with --file")
        report.warnings += self._completeness_warnings(report, witness, witness_problem, cps, anchor_cp)
        if keys is None:
            report.warnings.append("MACs were not checked (no audit key): only the hash chain and signatures")
        elif trusted is None and any(not c.public_key.startswith("hmac:") for c in cps):
            report.warnings.append("the checkpoint signing key is missing: signatures checked but not pinned")
        return report

    def _head_witness_state(self) -> tuple[Checkpoint | None, str]:
        path = self.options.head_file
        if path is None or not path.exists():
            return None, ""
        w = self.head_witness()
        return w, "" if w is not None else f"the head witness {path} is unreadable (garbled or overwritten)"

    def _completeness_warnings(self, report: VerifyReport, witness: Checkpoint | None, witness_problem: str,
                               cps: Sequence[Checkpoint], anchor_cp: Checkpoint | None) -> list[str]:
        """What a chain that verifies cannot prove by itself: a cut tail, an emptied log, deleted checkpoints."""
        out: list[str] = []
        head_file = self.options.head_file
        if witness_problem:
            out.append(witness_problem + ": a cut tail after the last signed checkpoint would go unnoticed")
        elif head_file is not None and self.keys is not None and witness is None and (report.count or anchor_cp):
            out.append(f"the head witness {head_file} is missing: a cut tail after the last signed checkpoint "
                       "would go unnoticed")
        elif witness is not None and report.ok and witness.seq < report.last_seq:
            out.append(f"the head witness is at seq {witness.seq} but the log ends at seq {report.last_seq}: an "
                       "older copy was put back (or the writer crashed between commit and witness update)")
        if report.ok and report.count == 0 and anchor_cp is None and self.keys is not None:
            out.append("the log holds no events but its audit keys exist: if anything was ever recorded, the log "
                       "was emptied or the database replaced")
        every = self.options.checkpoint_every
        if report.ok and every and report.count:
            have = {c.seq for c in cps if c.reason == "periodic"}
            low = anchor_cp.seq if anchor_cp else 0
            missing = [s for s in range((low // every + 1) * every, report.last_seq + 1, every) if s not in have]
            if missing:
                shown = ", ".join(map(str, missing[:5])) + (" ..." if len(missing) > 5 else "")
                out.append(f"{len(missing)} periodic checkpoint(s) are missing (seq {shown}): deleted from the "
                           f"database and the checkpoint file, or checkpoint_every was changed")
        return out


class IndexMismatch(Exception):
    def __init__(self, seq: int, message: str) -> None:
        super().__init__(message)
        self.seq = seq
        self.message = message


def _checker(keys: AuditKeys | None):
    """Ed25519 for checkpoints; HMAC (with the audit key) for the local head witness."""
    def check(public_key: str, payload: bytes, signature: bytes) -> bool:
        if public_key.startswith("hmac:"):
            key = keys.mac_keys.get(public_key[5:]) if keys else None
            return key is not None and hmac.compare_digest(event_mac(key, payload.hex()), signature.hex())
        return check_signature(public_key, payload, signature)

    return check


def _record_row(r: Sequence[Any]) -> Record:
    return Record(*r)  # RECORD_COLUMNS is in Record's field order; both drivers return int and str


def _checkpoint_row(r: Sequence[Any]) -> Checkpoint:
    return Checkpoint(seq=int(r[0]), hash=str(r[1]), segment=int(r[2]), created_at=str(r[3]), reason=str(r[4]),
                      public_key=str(r[5]), signature=str(r[6]))


def _event_of(r: Record) -> dict[str, Any]:
    try:
        ev = json.loads(r.body)
    except ValueError:
        ev = {"kind": "corrupt", "body": r.body[:200]}
    if not isinstance(ev, dict):
        ev = {"kind": "corrupt"}
    ev["seq"] = r.seq
    ev["hash"] = r.hash
    return ev
