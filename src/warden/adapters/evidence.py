"""Evidence packs: one session's events plus a proof that they are in the signed chain.

The proof is the run of chain records from the session's first event to a checkpoint signed
at pack time. Records of other sessions in that run are *elided*: only their body digest is
kept, which is enough to recompute every link (the chain hashes body digests) without
disclosing what other sessions did. An auditor checks it with the public key alone:
``warden audit verify --file records.jsonl --public-key KEY``.
"""

from __future__ import annotations

import html
import json
import os
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from warden.adapters.store import Filters, SqlAuditStore, StoreError
from warden.adapters.store.keyring import check_signature
from warden.core.audit import Head, verify_records

README = """Warden evidence pack
====================

session         {session}
events          {events} (seq {first}..{last})
signed head     seq {cp_seq} hash {cp_hash}
public key      {public_key}
log verified    {log_ok}
proof verified  {proof_ok}

Files
  summary.html        readable summary of the session
  events.jsonl        the session's events (secrets redacted at record time)
  approvals.json      approvals and who gave them
  data_classes.json   the data classes the session read, and every refused read or flow
  records.jsonl       chain records from the first event to the signed checkpoint (last line);
                      other sessions' events are reduced to their digest
  verification.json   verification of the whole log and of this proof when the pack was made
  policies/           the policy texts in force, by digest (when they were recorded)
  public_key.txt      Ed25519 key that signed the checkpoint

Check it yourself
  warden audit verify --file records.jsonl --public-key "$(cat public_key.txt)"
Each event in events.jsonl has "hash"; it appears in records.jsonl at the same "seq".
"""


def build_pack(store: SqlAuditStore, session: str, out: Path) -> dict[str, Any]:
    if not session or not session.strip():  # an empty filter would select every session
        raise StoreError("an evidence pack needs a session id; an empty one would bundle every session")
    events = store.query(Filters(session=session))  # re-checked against the hashed bodies by query()
    if not events:
        raise StoreError(f"no events recorded for session {session!r}; find sessions with "
                         "`warden audit query --since 1d --json | jq -r .session | sort -u`")
    cp = store.checkpoint("evidence")
    first = events[0]["seq"]
    ids = {e["seq"] for e in events}
    records = [r if r.seq in ids else r.elided() for r in store.iter_records(after_seq=first - 1) if r.seq <= cp.seq]
    anchor = Head(first - 1, records[0].prev_hash)
    keys = store.keys
    proof = verify_records(records, keys.mac_keys if keys else None, anchor=anchor, checkpoints=[cp],
                           check_signature=check_signature, trusted_public_keys=[cp.public_key])
    full = store.verify()
    digests = sorted({(e.get("policy") or {}).get("digest", "") for e in events} - {""})
    policies = {d: store.policy_texts(d) for d in digests}
    approvals = [e for e in events if e.get("kind") == "approval"]
    who = identities(events)
    per_decision = approvals_per_decision(events)

    files: dict[str, str] = {
        "events.jsonl": "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in events),
        "approvals.json": json.dumps(approvals, indent=2, ensure_ascii=False),
        "identity.json": json.dumps(who, indent=2, ensure_ascii=False),
        "approvals_by_decision.json": json.dumps(per_decision, indent=2, ensure_ascii=False),
        "data_classes.json": json.dumps(data_classes_touched(events), indent=2, ensure_ascii=False),
        "records.jsonl": "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in records)
        + json.dumps({"checkpoint": cp.to_json()}) + "\n",
        "verification.json": json.dumps({"log": full.to_json(), "proof": proof.to_json(),
                                         "checkpoint": cp.to_json()}, indent=2),
        "public_key.txt": cp.public_key + "\n",
        "README.txt": README.format(session=session, events=len(events), first=first, last=events[-1]["seq"],
                                    cp_seq=cp.seq, cp_hash=cp.hash, public_key=cp.public_key,
                                    log_ok="yes" if full.ok else f"NO: {full.broken and full.broken.message}",
                                    proof_ok="yes" if proof.ok else f"NO: {proof.broken and proof.broken.message}"),
        "summary.html": _html(session, events, approvals, policies, full.ok and proof.ok, cp.to_json(),
                              full.to_json()),
    }
    for digest, pol in policies.items():
        safe = digest.replace(":", "-").replace("/", "-")[:80]
        if pol is None:
            files[f"policies/{safe}/MISSING.txt"] = ("The policy text for this digest was not recorded. Record it with "
                                                     "Recorder.remember_policy or policy_texts in the event.\n")
            continue
        files[f"policies/{safe}/sources.json"] = json.dumps(pol["sources"], indent=2)
        for i, (source, text) in enumerate(sorted(pol["texts"].items())):
            name = re.sub(r"[^A-Za-z0-9._-]+", "-", re.sub(r":\d+$", "", str(source)).split("/")[-1]) or "policy"
            files[f"policies/{safe}/{i:02d}-{name}"] = str(text)
    tmp = out.with_name(out.name + ".tmp")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    os.replace(tmp, out)
    return {"events": len(events), "verified": full.ok and proof.ok, "policies": len(policies),
            "actors": [a["id"] for a in who["actors"]], "checkpoint": cp.to_json()}


def identities(events: list[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
    """Who acted (distinct actors, with user, host, email, agent and its version) and where (distinct
    environment / branch / CI contexts), as recorded on the events."""
    actors: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
    contexts: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
    for ev in events:
        actor = {k: str(v) for k, v in (ev.get("actor") or {}).items() if isinstance(v, str) and v}
        if actor.get("id"):
            actors.setdefault(tuple(sorted(actor.items())), actor)
        ctx = {k: str(v) for k, v in (ev.get("context") or {}).items() if k in ("environment", "branch", "ci")}
        if ctx:
            contexts.setdefault(tuple(sorted(ctx.items())), ctx)
    return {"actors": list(actors.values()), "contexts": list(contexts.values())}


def _who(actor: dict[str, str]) -> str:
    extra = [actor[k] for k in ("user", "host") if actor.get(k)]
    agent = " ".join(x for x in (actor.get("agent", ""), actor.get("agent_version", "")) if x)
    return actor["id"] + (f" ({'@'.join(extra)}{', ' + agent if agent else ''})" if extra or agent else "")


def data_classes_touched(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Which data classes the session read (from ``data.read`` facts) and which reads or flows were refused."""
    classes: dict[str, list[str]] = {}
    refused: list[dict[str, Any]] = []
    for e in events:
        if e.get("kind") != "decision":
            continue
        for f in (e.get("result") or {}).get("facts") or []:
            kind = str(f.get("kind", ""))
            data = f.get("data") or {}
            if kind == "data.read":
                origins = classes.setdefault(str(data.get("class", "")), [])
                if data.get("origin") and data["origin"] not in origins:
                    origins.append(str(data["origin"]))
            elif kind.startswith(("data.above_clearance", "flow.below_destination")):
                refused.append({"decision_id": e.get("id"), "decision": (e.get("result") or {}).get("decision"),
                                "fact": kind, "detail": f.get("detail", "")})
    return {"classes_read": classes, "refused": refused}


APPROVAL_OPS = ("approval.request", "approval.vote", "approval.refused", "approval.expired", "approval.answered",
                "grant.use", "grant.error")


def approvals_per_decision(events: list[dict[str, Any]]) -> dict[str, Any]:
    """decision id -> the decision in brief and every approval step tied to it (request, votes with the
    approvers' identities, refusals, expiry, the grant that allowed it)."""
    out: dict[str, Any] = {}
    decisions = {e.get("id"): e for e in events if e.get("kind") == "decision"}
    for ev in events:
        if ev.get("kind") == "approval" or (ev.get("kind") == "control" and ev.get("op") in APPROVAL_OPS):
            did = str(ev.get("decision_id") or "")
            if not did:
                continue
            entry = out.setdefault(did, {"decision": None, "steps": []})
            d = decisions.get(did)
            if d is not None and entry["decision"] is None:
                inp = d.get("input") or {}
                entry["decision"] = {"seq": d.get("seq"), "tool": d.get("tool"),
                                     "subject": inp.get("command") or inp.get("file_path") or inp.get("url") or "",
                                     "result": (d.get("result") or {}).get("decision")}
            data = ev.get("data") or {}
            entry["steps"].append({
                "seq": ev.get("seq"), "timestamp": ev.get("timestamp"),
                "step": ev.get("op") if ev.get("kind") == "control" else "approval",
                "request": data.get("request") if isinstance(data.get("request"), str)
                else (data.get("request") or {}).get("id", "") if isinstance(data.get("request"), dict) else "",
                "approver": data.get("approver") or (ev.get("approver") or {}).get("id", ""),
                "vote": data.get("vote"), "code": data.get("code"), "granted": ev.get("granted"),
                "reason": data.get("reason") or (ev.get("result") or {}).get("reason", ""),
            })
    return out


def _html(session: str, events: list[dict[str, Any]], approvals: list[dict[str, Any]],
          policies: Mapping[str, Any], verified: bool, cp: dict[str, Any], report: dict[str, Any]) -> str:
    e = html.escape
    counts: dict[str, int] = {}
    for ev in events:
        if ev.get("kind") == "decision":
            d = (ev.get("result") or {}).get("decision", "")
            counts[d] = counts.get(d, 0) + 1
    rows = []
    for ev in events:
        res = ev.get("result") or {}
        inp = ev.get("input") or {}
        subject = inp.get("command") or inp.get("file_path") or inp.get("url") or ev.get("phase") or ev.get("error") or ""
        if ev.get("kind") == "approval":
            subject = f"by {(ev.get('approver') or {}).get('id', '')} for {ev.get('decision_id', '')}"
        elif ev.get("kind") == "outcome":
            out = ev.get("outcome") or {}
            subject = f"{out.get('status', '')} exit={out.get('exit_code')}: {out.get('summary', '')}"
        rules = ", ".join(r.get("id", "") for r in res.get("rules") or [] if isinstance(r, dict))
        cls = e(str(res.get("decision", "")))
        rows.append(f"<tr class='{cls}'><td>{ev.get('seq')}</td><td>{e(str(ev.get('timestamp', ''))[:23])}</td>"
                    f"<td>{e(str(ev.get('kind', '')))}</td><td>{e(str(ev.get('tool', '')))}</td>"
                    f"<td><b>{e(str(res.get('decision', '')))}</b></td><td><code>{e(str(subject)[:300])}</code></td>"
                    f"<td>{e(rules)}</td><td>{e(str(res.get('reason', ''))[:300])}</td></tr>")
    appr = "".join(f"<li>{e(str(a.get('timestamp', '')))}: <b>{e(str((a.get('result') or {}).get('decision', '')))}"
                   f"</b> by {e(str((a.get('approver') or {}).get('id', '')))} via "
                   f"{e(str((a.get('approver') or {}).get('via', '')))} for decision "
                   f"<code>{e(str(a.get('decision_id', '')))}</code></li>" for a in approvals) or "<li>none</li>"
    pols = "".join(f"<li><code>{e(d)}</code>: {'recorded' if p else 'text not recorded'}"
                   f"{' — ' + e(', '.join(p['sources'])) if p else ''}</li>" for d, p in policies.items()) or "<li>none</li>"
    status = ("<p class='ok'>✔ The audit log verified intact, and this pack's records chain to a signed checkpoint.</p>"
              if verified else f"<p class='bad'>✘ Verification failed: {e(json.dumps(report.get('broken')))}</p>")
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Warden evidence — {e(session)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;width:100%}}
td,th{{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top;font-size:13px}}
tr.deny td{{background:#fde8e8}}tr.ask td{{background:#fff6dc}}.ok{{color:#126b12}}.bad{{color:#a00;font-weight:bold}}
code{{font-size:12px;word-break:break-all}}</style></head><body>
<h1>Warden evidence pack</h1>
<p>Session <code>{e(session)}</code> — {len(events)} events, decisions:
{e(', '.join(f'{k}={v}' for k, v in sorted(counts.items())) or 'none')}<br>
Agents: {e(', '.join(sorted({str(ev.get('agent')) for ev in events if ev.get('agent')})) or 'unknown')} —
actors: {e(', '.join(_who(a) for a in identities(events)['actors']) or 'unknown')}<br>
Where: {e('; '.join(', '.join(f'{k}={v}' for k, v in sorted(c.items())) for c in identities(events)['contexts'])
        or 'unknown')}<br>
From {e(str(events[0].get('timestamp', '')))} to {e(str(events[-1].get('timestamp', '')))}</p>
{status}
<p>Signed head: seq {cp['seq']} <code>{e(cp['hash'])}</code> at {e(cp['created_at'])}, Ed25519 key
<code>{e(cp['public_key'])}</code></p>
<h2>Approvals</h2><ul>{appr}</ul>
<h2>Policies in force</h2><ul>{pols}</ul>
<h2>Events</h2><table><tr><th>seq</th><th>time (UTC)</th><th>kind</th><th>tool</th><th>decision</th>
<th>subject</th><th>rules</th><th>reason</th></tr>{''.join(rows)}</table>
<p>Verify independently: <code>warden audit verify --file records.jsonl --public-key "$(cat public_key.txt)"</code></p>
</body></html>
"""
