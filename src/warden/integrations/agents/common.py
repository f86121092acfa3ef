"""What every agent module shares: reading a hook event, the gateway, reasons, redaction, records.

An agent module is a small table: its event names -> handlers that turn the agent's payload into
Claude-Code-shaped action payloads (the Action JSON the gateway accepts), and a Verdict back into
the agent's wire answer. :func:`respond` is the one skeleton they all run: bounded JSON parsing,
event dispatch, a gateway with the daemon's pooled recorder, and a fail-closed answer in the
agent's own blocking form for anything that goes wrong.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from warden.core.decision import Decision, Verdict
from warden.integrations.daemon.client import MAX_BODY

Answer = tuple[int, bytes, bytes]  # exit code, stdout, stderr
MAX_REASON = 2000  # agents cap hook output (Claude Code at 10,000 characters); reasons stay well under


class HookGateway(Protocol):
    """The part of :class:`warden.gateway.Gateway` agent modules use."""

    audit: bool
    last_decision_id: str | None

    @property
    def environ(self) -> Mapping[str, str]: ...

    def decide_payload(self, payload: Any) -> Verdict: ...

    def record(self, event: Mapping[str, Any]) -> str: ...

    def redactor(self) -> Callable[[str], str]: ...

    @property
    def policy(self) -> Any: ...

    def close(self) -> None: ...


class RecorderLender(Protocol):
    """The daemon's recorder pool (:class:`warden.integrations.daemon.pool.RecorderPool`)."""

    def lend(self, gw: Any) -> None: ...

    def take_back(self, gw: Any, *, healthy: bool) -> None: ...


Handler = Callable[[HookGateway, dict[str, Any]], Answer]


@dataclass(frozen=True)
class AgentProtocol:
    """One agent's hook protocol as data; :func:`respond` drives it."""

    agent: str  # the actor recorded in the audit log ("codex")
    handlers: Mapping[str, Handler]
    failure: Callable[[str, str], Answer]  # (event, why) -> the answer that blocks for that event
    event_of: Callable[[bytes], str]  # the event named in a payload that could not be parsed
    ignored_events: frozenset[str] = frozenset()  # events answered with "no opinion"
    workspace_env: str = ""  # environment variable naming the project root, when the agent sets one
    event_key: str = "hook_event_name"
    prepare: Callable[[dict[str, Any], Mapping[str, str]], str | None] | None = None  # payload check
    with_opts: frozenset[str] = frozenset()  # events whose handler also takes the hook options
    extra: Mapping[str, Any] = field(default_factory=dict)


def respond(
    proto: AgentProtocol,
    raw: bytes,
    environ: Mapping[str, str],
    cwd: str,
    opts: Mapping[str, Any],
    pool: RecorderLender | None = None,
    state: dict[str, str] | None = None,
    given: str = "",
) -> Answer:
    """One hook event in, (exit code, stdout, stderr) out. Never raises except the runner's
    HookDeadline (a BaseException). ``given`` is the event name when the agent names it outside the payload
    (Copilot's per-event hook commands); otherwise it is read from the payload."""
    event = given or proto.event_of(raw)
    try:
        if len(raw) > MAX_BODY:
            return proto.failure(event, f"the hook event is larger than {MAX_BODY} bytes")
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return proto.failure(event, f"the hook event on stdin is not valid JSON ({exc})")
        if not isinstance(payload, dict):
            return proto.failure(event, f"the hook event must be a JSON object, got {type(payload).__name__}")
        if not given:
            name = payload.get(proto.event_key)
            if not isinstance(name, str) or not name:
                return proto.failure("", f"the hook event has no {proto.event_key}")
            event = name
        if state is not None:
            state["event"] = event
        handler = proto.handlers.get(event)
        if handler is None:
            if event in proto.ignored_events:
                return 0, b"", b""
            return proto.failure(event, f"Warden does not know the {proto.agent} hook event {event!r} "
                                        "(is this agent newer than Warden's integration? run `warden doctor`)")
        if proto.prepare is not None:
            problem = proto.prepare(payload, environ)
            if problem:
                return proto.failure(event, problem)
        project = environ.get(proto.workspace_env) if proto.workspace_env else None
        if project and not payload.get("workspace"):
            payload["workspace"] = project  # commands may `cd` away from the project; the workspace stays
        gw = gateway(payload, environ, cwd, opts)
        answer: Answer | None = None
        try:
            if pool is not None:
                pool.lend(gw)
            answer = handler(gw, payload, opts) if event in proto.with_opts else handler(gw, payload)  # type: ignore[call-arg]
            return answer
        finally:
            if pool is not None:
                pool.take_back(gw, healthy=answer is not None and answer[0] == 0 and b"audit" not in answer[1])
            gw.close()
    except Exception as exc:  # the hook runner's HookDeadline is a BaseException and passes through
        return proto.failure(event, f"internal error: {type(exc).__name__}: {exc}")


def gateway(payload: Mapping[str, Any], environ: Mapping[str, str], cwd: str, opts: Mapping[str, Any]) -> HookGateway:
    """The one integration point with the policy engine and audit log (warden.gateway)."""
    from warden.gateway import Gateway

    return Gateway.from_env(
        cwd=str(payload.get("cwd") or cwd), policy_file=opts.get("policy"), environ=environ, audit=True
    )


def event_named(raw: bytes, known: Iterable[str], key: bytes = b'"hook_event_name"') -> str:
    """The event name for a failure answer when the payload could not be (fully) handled.

    Reads the first ``"hook_event_name": "..."`` (agents write it before the tool input, so a
    tool input cannot smuggle in another name) and accepts only known names.
    """
    at = raw.find(key, 0, 65536)
    if at < 0:
        return ""
    rest = raw[at + len(key): at + len(key) + 64].lstrip(b" \t\r\n")
    if not rest.startswith(b":"):
        return ""
    rest = rest[1:].lstrip(b" \t\r\n")
    if not rest.startswith(b'"'):
        return ""
    name = rest[1:].split(b'"', 1)[0].decode("ascii", "replace")
    return name if name in set(known) else ""


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def clip(text: str, limit: int = MAX_REASON) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def actor(agent: str) -> dict[str, str]:
    return {"agent": agent}


def decide_all(gw: HookGateway, payloads: list[dict[str, Any]]) -> tuple[Verdict, dict[str, Any]]:
    """Decide each action (one tool call may be several, e.g. a patch touching many files);
    the strictest verdict wins and is returned with the payload it judged."""
    worst: tuple[Verdict, dict[str, Any]] | None = None
    for payload in payloads:
        verdict = gw.decide_payload(payload)
        if worst is None or verdict.decision > worst[0].decision:
            worst = (verdict, payload)
        if verdict.decision is Decision.DENY:
            break
    if worst is None:
        raise ValueError("the tool call names no action to decide")
    return worst


def patch_files(patch: str) -> list[tuple[str, str, str]]:
    """(operation, path, added text) per file in a Codex ``*** Begin Patch`` envelope."""
    files: list[tuple[str, str, list[str]]] = []
    for line in patch.splitlines():
        for op, marker in (("add", "*** Add File: "), ("update", "*** Update File: "),
                           ("delete", "*** Delete File: "), ("move", "*** Move to: ")):
            if line.startswith(marker):
                files.append((op, line[len(marker):].strip(), []))
                break
        else:
            if files and line.startswith("+"):
                files[-1][2].append(line[1:])
    return [(op, path, "\n".join(added)) for op, path, added in files]


def patch_actions(patch: str, cwd: str, one: Callable[[str, dict[str, Any]], dict[str, Any]]) -> list[dict[str, Any]]:
    """A patch as the writes it makes: each added or updated file a Write of its added lines, each
    deleted file an ``rm``. Raises ValueError when the patch names no file."""
    import os
    import shlex

    files = patch_files(patch)
    if not files:
        raise ValueError("the patch names no file")
    out = []
    for op, path, added in files:
        full = path if os.path.isabs(path) else os.path.join(cwd, path)
        if op == "delete":
            out.append(one("Bash", {"command": f"rm -f -- {shlex.quote(full)}"}))
        else:
            out.append(one("Write", {"file_path": full, "content": added}))
    return out


# --- reasons -------------------------------------------------------------------------------


def explain(verdict: Verdict, payload: Mapping[str, Any], settings: str = "the agent's settings") -> str:
    """What was decided, what was found, and what would be allowed instead."""
    label = verdict.decision.label
    head = {"allow": "Warden allowed this", "ask": "Warden asks for approval",
            "deny": "Warden denied this"}[label]
    text = f"{head}: {verdict.reason}"
    if label == "allow":
        return clip(text)
    kinds = sorted({f.kind for f in verdict.facts})
    if kinds:
        text += f". Found: {', '.join(kinds[:8])}"
    instead = _instead(kinds, payload, settings)
    if instead:
        text += f". Instead: {instead}"
    return clip(text)


# fact-kind prefixes -> what would be allowed instead (the fact vocabulary is docs/facts.md)
_INSTEAD: tuple[tuple[tuple[str, ...], str], ...] = (
    (("exec.opaque", "exec.escape", "exec.env_inject", "shell.parse_error", "shell.too_complex",
      "flow.decoded_exec", "flow.remote_exec", "shell.binary"),
     "run the command itself, directly (not through eval, `bash -c`, decoded, piped-in or downloaded "
     "scripts), so Warden can see what runs"),
    (("path.outside_workspace", "fs.write_outside", "fs.critical", "fs.unresolved_target",
      "fs.workspace_root_delete"),
     "keep file changes to specific paths inside the workspace ({workspace})"),
    (("guard.",), "leave {settings} and Warden's policy and state to the user"),
    (("secret.",), "refer to credentials by name (an environment variable the tool reads itself) instead "
                   "of reading, printing or writing them"),
    (("git.",), "use a non-destructive git command (no force push or history rewrite on shared branches)"),
    (("flow.exfil", "net.", "host."), "fetch only from hosts the policy allows, and send no local data out"),
    (("pkg.",), "ask the user to install or publish packages"),
    (("priv.", "sys.", "persist."), "avoid sudo and system-wide changes; ask the user to make them"),
)


def _instead(kinds: list[str], payload: Mapping[str, Any], settings: str) -> str:
    workspace = payload.get("workspace") or payload.get("cwd") or "the workspace"
    hints = [hint.format(workspace=workspace, settings=settings) for prefixes, hint in _INSTEAD
             if any(k.startswith(prefixes) for k in kinds)]
    if not hints:
        hints.append("ask the user to run it, or to adjust the policy (`warden explain` shows why)")
    return "; ".join(hints)


def approval_hint(gw: HookGateway, verdict: Verdict, why: str = "this agent cannot ask for it from a hook") -> str:
    """Where an ask cannot become a prompt: why, and the queued request (or recorded decision) the
    user can act on. A queued request, once approved, lets the same call pass when retried."""
    queued = getattr(verdict, "approval", None) or {}
    if queued.get("id") and queued.get("status") == "pending":
        return (f"This needs a human's approval and {why}, so Warden denied it for now; approval request "
                f"{queued['id']} is queued (`warden approvals approve {queued['id']}`): retry after it is approved.")
    ref = gw.last_decision_id or "recorded in `warden audit query`"
    return (f"This needs a human's approval and {why}, so Warden denied it for now (decision {ref}). "
            "Ask the user to approve it or to run it themselves.")


# --- output redaction and records ------------------------------------------------------------


def redact_tree(value: Any, redact: Callable[[str], str], path: str, changed: list[str]) -> Any:
    """A copy of ``value`` with every string redacted; ``changed`` collects where something was."""
    if isinstance(value, str):
        new = redact(value)
        if new != value:
            changed.append(path or "$")
        return new
    if isinstance(value, list):
        return [redact_tree(v, redact, f"{path}[{i}]", changed) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: redact_tree(v, redact, f"{path}.{k}" if path else str(k), changed) for k, v in value.items()}
    return value


REDACTION_NOTE = ("Warden replaced secrets or personal data in this tool output ({where}) with redaction markers; the real "
                  "values are not available to you. Refer to them by name (e.g. an environment variable).")


def record_outcome(gw: HookGateway, agent: str, *, tool: str, response: Any, changed: list[str],
                   tool_use_id: str, session: str) -> None:
    """Record what a tool returned (redacted), linked to its decision when it can be found; an
    output that reads like a prompt injection taints the session first."""
    taint_from_output(gw, agent, tool=tool, session=session, tool_use_id=tool_use_id, response=response)
    if not getattr(gw, "audit", True):
        return
    from warden.core.audit import outcome_event

    redact = gw.redactor()
    summary = response if isinstance(response, str) else dumps(response).decode("utf-8")
    gw.record(outcome_event(
        tool=tool, started_at=time.time(), status="redacted" if changed else "completed",
        tool_use_id=tool_use_id, session=session, decision_id=decision_id(gw, tool_use_id),
        output=summary, actor=actor(agent), redact=redact,
    ))


def decision_id(gw: HookGateway, tool_use_id: str) -> str:
    """The audit id of this call's PreToolUse decision, linking the outcome to it (best effort)."""
    if not tool_use_id:
        return ""
    try:
        finder = getattr(gw, "find_decision", None) or gw._open_recorder().find_decision  # type: ignore[attr-defined]
        found = finder(tool_use_id)
    except Exception:
        return ""  # an unlinked outcome is still evidence; the decision itself was recorded
    return str((found or {}).get("id", "")) if isinstance(found, dict) else ""


def record_session(gw: HookGateway, agent: str, *, phase: str, session: str, detail: str) -> None:
    if not getattr(gw, "audit", True):
        return
    from warden.core.audit import session_event

    gw.record(session_event(phase=phase, session=session, started_at=time.time(), actor=actor(agent),
                            detail=detail, redact=gw.redactor()))


def session_answer(gw: HookGateway, agent: str, payload: Mapping[str, Any], *, event: str, phase: str,
                   keys: Iterable[str], failure: Callable[[str, str], Answer],
                   summary: Callable[[str], Mapping[str, Any]] | None = None) -> Answer:
    """Record a session boundary; with ``summary`` (session start), also hand the model the policy
    summary in the agent's own output shape. A broken policy or audit log fails closed here."""
    details = [f"{agent} {event}", f"cwd={payload.get('cwd', '')}"]
    details += [f"{k}={payload[k]}" for k in keys if isinstance(payload.get(k), (str, bool))]
    policy = None
    if summary is not None:
        policy = gw.policy  # a broken policy raises here: better to say so at session start
        details.append(f"policy={getattr(policy, 'digest', '')}")
    try:
        record_session(gw, agent, phase=phase, session=str(payload.get("session_id") or payload.get("sessionId") or ""),
                       detail=" ".join(details))
    except Exception as exc:
        return failure(event, f"the audit log could not record {event}: {exc}")
    if summary is None or policy is None:
        return 0, b"", b""
    context = policy_summary(policy, payload)
    killed = kill_notice(gw, agent, payload)
    return 0, dumps(summary(clip(f"{killed} {context}" if killed else context, 3000))), b""


# --- the control loop (approvals, limits, taint, kill switch) as every agent sees it -------------


def taint_from_output(gw: Any, agent: str, *, tool: str, session: str, tool_use_id: str, response: Any) -> None:
    """Tool output that reads like a prompt injection marks the session (its origin is kept)."""
    if not session or not hasattr(gw, "state"):
        return
    from warden.core.action import Action
    from warden.core.control.taint import origins_after

    text = response if isinstance(response, str) else dumps(response).decode("utf-8", "replace")
    action = Action(tool=tool, input={}, session=session)
    for origin in origins_after(action, text, time.time()):
        try:
            gw.state().add_taint(session, origin)
            gw.record_control([{"op": "taint", "session": session, "tool": tool, "tool_use_id": tool_use_id,
                                "actor": actor(agent), "origin": origin.to_json()}])
        except Exception:
            pass  # the next decision reads the taint; an unreadable store denies there


def next_task(gw: Any, session: str) -> None:
    """Each user prompt starts a new task: limits with a `/task` window count from here."""
    if session and hasattr(gw, "state"):
        try:
            gw.state().next_task(session)
        except Exception:
            pass  # a `/task` limit then counts on in the previous task: stricter, never looser


def kill_notice(gw: Any, agent: str, payload: Mapping[str, Any]) -> str:
    """A kill switch in scope, said up front: every tool call of this session will be denied."""
    if not hasattr(gw, "state"):
        return ""
    from warden.core.control.kill import kill_matches_ids

    try:
        kills = gw.state().kills()
    except Exception as exc:
        return f"WARDEN: the kill-switch state cannot be read ({exc}), so every tool call is denied."
    raw_actor = payload.get("actor")
    who: Mapping[str, Any] = raw_actor if isinstance(raw_actor, Mapping) else {}
    k = kill_matches_ids(kills, agent=str(who.get("agent") or agent),
                         session=str(payload.get("session_id") or payload.get("sessionId") or ""),
                         actor=str(who.get("id") or ""))
    if k is None:
        return ""
    return (f"WARDEN KILL SWITCH: {k.label} was stopped by {k.by}: {k.reason}. Every tool call is denied until "
            "someone runs `warden resume`; tell the user and stop.")


def prompt_block_reason(gw: HookGateway, payload: dict[str, Any], prompt: str) -> str | None:
    """Why a prompt must not reach the model (it carries a secret, or the policy denies it), or None."""
    redacted = gw.redactor()(prompt)
    next_task(gw, str(payload.get("session_id") or ""))
    verdict = gw.decide_payload(payload)  # records the decision; secret.* facts come from analysis
    carries_secret = redacted != prompt or any(f.kind.startswith("secret") for f in verdict.facts)
    if not (carries_secret or verdict.decision is Decision.DENY):
        return None
    why = "it contains what looks like a secret" if carries_secret else verdict.reason
    return clip(f"Warden blocked this prompt: {why}. Secrets must not be sent to the model; remove it and "
                "refer to it by name (for example $API_TOKEN) instead.")


def policy_summary(policy: Any, payload: Mapping[str, Any]) -> str:
    """One paragraph the model reads at session start, so it wastes fewer turns on denials."""
    workspace = payload.get("workspace") or payload.get("cwd") or "the project directory"
    rules = list(getattr(policy, "rules", []))

    # Site rules first (managed, project, user): they are what this model cannot guess.
    order = {"managed": 0, "cli": 1, "project": 1, "user": 2, "builtin": 3}
    rules.sort(key=lambda r: order.get(str(getattr(r, "layer", "builtin")), 3))

    def reasons(effect: str, limit: int) -> list[str]:
        seen: list[str] = []
        for r in rules:
            label = getattr(getattr(r, "effect", None), "label", "")
            # the first clause is the what; the rest (the why, the instead) is in each denial
            reason = " ".join(str(getattr(r, "reason", "")).split()).split(";")[0].rstrip(".")
            reason = reason if len(reason) <= 110 else reason[:109] + "…"
            if label == effect and reason and reason not in seen:
                seen.append(reason)
        return seen[:limit]

    default = getattr(getattr(policy, "default", None), "label", "ask")
    digest = str(getattr(policy, "digest", ""))[:12] or "unknown"
    parts = [f"Warden checks every tool call in this session against a security policy (digest {digest})."]
    allowed = reasons("allow", 5)
    if allowed:
        parts.append("Allowed without asking: " + "; ".join(allowed) + ".")
    denied = reasons("deny", 10)
    if denied:
        parts.append("Always denied: " + "; ".join(denied) + ".")
    parts.append(f"Anything else needs approval or follows the default ({default}).")
    parts.append(f"Work inside {workspace}, run commands directly (no eval, `bash -c`, decoded or piped-in "
                 "scripts), and do not read, print or write credentials: secrets in tool output are redacted "
                 "and prompts carrying secrets are blocked. A denial's reason says what would be allowed "
                 "instead; do not retry the same action in another form.")
    return clip(" ".join(parts), 2500)
