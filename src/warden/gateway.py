"""Gateway: the adapter-level service every entry point uses.

It discovers and caches the policy per workspace, supplies the machine facts analyzers may
use (home, symlinks), drives :func:`warden.core.flow.decision_flow` and writes the audit
event. ``decide`` never raises: any failure is a deny verdict that says what went wrong.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator, Mapping
from pathlib import Path
from typing import Any

from warden.core.action import Action, ActionError, action_from_payload
from warden.core.analyze import AnalysisEnv
from warden.core.credentials import credential_variables
from warden.core.decision import Verdict
from warden.core.flow import decision_flow


# One decision as steps the caller drives: each yielded list is events to record durably (one
# transaction); the caller sends back None once they are, or the error text when they could not be
# (the verdict then fails closed). The generator's return value is the verdict. `decide` drives it
# with the recorder in place; the team server drives it from its event loop with a group-commit writer.
DecisionSteps = Generator[list[dict[str, Any]], "str | None", Verdict]

FACTS_TTL_S = 1.0  # long-lived gateways: how stale the machine's facts (workspace, actor, git branch) may be


class Gateway:
    def __init__(
        self,
        *,
        cwd: str,
        policy_file: str | None,
        home: Path,
        environ: Mapping[str, str],
        audit: bool,
        long_lived: bool = False,
    ) -> None:
        self.cwd = cwd
        # a service deciding many actions (the team server): remember clean redaction results and the
        # machine's facts (workspace, actor, context) for FACTS_TTL_S; a hook process decides once
        self.long_lived = long_lived
        self._facts: dict[tuple[str, ...], tuple[float, Any]] = {}
        self._policy_keys: dict[str, str] = {}  # workspace -> what its policy files read as when loaded
        self.policy_file = policy_file
        self.home = home
        self.environ = dict(environ)
        self.audit = audit
        self._policies: dict[str, Any] = {}  # workspace -> CompiledPolicy | PolicyProblem
        self._policy_texts: dict[str, dict[str, str]] = {}  # digest -> {source: text}, for evidence
        self._redactor: Any = None
        self.last_decision_id: str | None = None  # id of the last recorded decision, for approvals
        self._recorder: Any = None
        self._recorder_error: str | None = None
        self._state: Any = None  # the control loop's StateStore, opened on first use
        user_home = self.environ.get("HOME") or str(Path.home())
        self.analysis_env = AnalysisEnv(
            home=user_home,
            warden_home=str(home),
            realpath=os.path.realpath,
            env={"HOME": user_home, **credential_variables(self.environ)},
        )

    @classmethod
    def from_env(
        cls,
        *,
        cwd: str | None = None,
        policy_file: str | None = None,
        warden_home: str | None = None,
        audit: bool = True,
        environ: Mapping[str, str] | None = None,
    ) -> Gateway:
        from warden.adapters.policy_files import warden_home as default_home

        environ = os.environ if environ is None else environ
        home = Path(warden_home) if warden_home else default_home(environ)
        from warden.adapters.environment import flag_on

        audit = audit and flag_on(environ, "WARDEN_AUDIT")
        return cls(cwd=cwd or os.getcwd(), policy_file=policy_file, home=home, environ=environ, audit=audit)

    # -- policy -----------------------------------------------------------------------------
    def workspace_for(self, cwd: str) -> str:
        from warden.adapters.policy_files import find_workspace

        where = cwd or self.cwd
        return self._machine_fact(("ws", where), lambda: find_workspace(where))

    def _machine_fact(self, key: tuple[str, ...], read: Any) -> Any:
        """``read()``, kept for FACTS_TTL_S when long-lived (the file system is not re-walked per decision)."""
        if not self.long_lived:
            return read()
        now = time.monotonic()
        hit = self._facts.get(key)
        if hit is not None and now - hit[0] < FACTS_TTL_S:
            return hit[1]
        value = read()
        if len(self._facts) >= 1024:
            self._facts.clear()
        self._facts[key] = (now, value)
        return value

    def _read_sources(self, workspace: str) -> tuple[list[tuple[str, str, str]], Any, str]:
        """The policy files of a workspace as they are now: (sources, trusted, their cache key)."""
        from warden.adapters.policy_files import cache_key, discover
        from warden.adapters.trust import trusted_paths

        sources = discover(workspace, policy_file=self.policy_file, environ=self.environ)
        explicit = self.policy_file or self.environ.get("WARDEN_POLICY")
        trusted = trusted_paths(sources, self.home, explicit)
        return sources, trusted, cache_key(sources, trusted)

    def policy_for(self, workspace: str):
        """The compiled policy for a workspace; raises PolicyLoadError/PolicyFileError."""
        cached = self._policies.get(workspace)
        if cached is None:
            from warden.adapters.policy_files import load_compiled

            try:
                sources, trusted, key = self._read_sources(workspace)
                self._policy_keys[workspace] = key
                cached = load_compiled(sources, self.home, trusted)
                self._policy_texts[cached.digest] = {path: text for _, path, text in sources}
            except Exception as exc:  # remembered so a broken policy denies quickly and consistently
                self._policy_keys.setdefault(workspace, f"error: {exc}")
                cached = exc
            self._policies[workspace] = cached
        if isinstance(cached, Exception):
            raise cached
        return cached

    def policy_changed(self) -> bool:
        """Would any policy this gateway loaded read differently now? Re-reads the policy files (a long-lived
        service calls it every so often and builds a fresh gateway when it says yes)."""
        # with a named policy file the workspace adds no layer, so every workspace reads the same: one look
        # (a server sees as many workspaces as its clients have checkouts)
        explicit = bool(self.policy_file or self.environ.get("WARDEN_POLICY"))
        now: dict[str, str] = {}
        for workspace, key in list(self._policy_keys.items()):
            probe = "" if explicit else workspace
            if probe not in now:
                try:
                    now[probe] = self._read_sources(workspace)[2]
                except Exception as exc:
                    now[probe] = f"error: {exc}"
            if now[probe] != key:
                return True
        return False

    def use_policy(self, workspace: str, policy: Any) -> None:
        """Decide for this workspace with an already compiled policy (the inventory compiles each
        distinct set of policy texts once, however many checkouts share it)."""
        self._policies[workspace] = policy

    @property
    def policy(self):
        return self.policy_for(self.workspace_for(self.cwd))

    # -- audit ------------------------------------------------------------------------------
    def _open_recorder(self) -> Any:
        if self._recorder is None and self._recorder_error is None:
            try:
                from warden.adapters.audit import open_recorder

                self._recorder = open_recorder(str(self.home), self.environ)
            except Exception as exc:
                self._recorder_error = f"{type(exc).__name__}: {exc}"
        if self._recorder is None:
            raise RuntimeError(f"audit log unavailable: {self._recorder_error}")
        return self._recorder

    def record(self, event: Mapping[str, Any]) -> str:
        return self._open_recorder().record(dict(event))

    # -- control state ----------------------------------------------------------------------
    def state(self) -> Any:
        """The StateStore (approvals, grants, kills, counters, taint); a stand-in that raises when broken."""
        if self._state is None:
            from warden.adapters.control import open_state_or_stand_in

            self._state = open_state_or_stand_in(self.home, self.environ)
        return self._state

    def _gate(self) -> Any:
        from warden.adapters.control import make_gate

        audit_store = None
        if self.audit:
            try:
                audit_store = self._open_recorder().store
            except Exception:
                audit_store = None
        return make_gate(self.state(), self.redactor(), audit_store)

    def record_control(self, events: list[dict[str, Any]], decision_id: str = "") -> None:
        """Audit control-loop events (requests, votes, kills, limits, taint); raises when they cannot be."""
        if not events or not self.audit:
            return
        from warden.adapters.control import audit_events

        self._open_recorder().record_many(audit_events(events, decision_id, self.redactor(), time.time()))

    def _decision_events(self, action: Any, verdict: Verdict, started: float, policy: Any, t0: float,
                         control: list[dict[str, Any]] | None = None, decision_id: str = "") -> list[dict[str, Any]]:
        from warden.core.audit import decision_event, new_id

        digest = getattr(policy, "digest", "")
        event = decision_event(
            action,
            verdict,
            policy_digest=digest,
            policy_sources=[f"{s['layer']}:{s['path']}@sha256:{s['digest'][:16]}" for s in getattr(policy, "sources", [])],
            started_at=started,
            duration_ms=(time.perf_counter() - t0) * 1000.0,
            redact=self.redactor(),
            policy_texts=self._policy_texts.get(digest),
            decision_id=decision_id or new_id(),
        )
        events: list[dict[str, Any]] = [event]
        if control:
            from warden.adapters.control import audit_events

            events += audit_events(control, event["id"], self.redactor(), started)
        return events

    def redactor(self):
        """text -> text with secrets replaced by keyed markers (used for audit events)."""
        if self._redactor is None:
            from warden.adapters.redaction import redactor_for

            kinds: tuple[str, ...] = ()
            try:  # the policy's data classes may ask for more personal-data kinds to be redacted
                data = self.policy.data
                kinds = data.redact_kinds if data is not None else ()
            except Exception:  # a broken policy denies elsewhere; redaction still uses the defaults
                kinds = ()
            self._redactor = redactor_for(self.home, kinds)
            if self.long_lived:
                from warden.adapters.redaction import CleanMemo

                self._redactor = CleanMemo(self._redactor)
        return self._redactor

    # -- deciding ---------------------------------------------------------------------------
    def normalize(self, payload: Any) -> Action:
        action = action_from_payload(payload, default_cwd=self.cwd)
        if not isinstance(payload, Mapping) or not payload.get("workspace"):
            from dataclasses import replace

            action = replace(action, workspace=self.workspace_for(action.cwd))
        return action

    def with_identity(self, action: Action, policy: Any = None) -> Action:
        """Fill who acts and where from the machine (docs/identity.md); what the action says wins."""
        from dataclasses import fields, replace

        from warden.adapters.identity import local_actor, local_context
        from warden.core.action import Actor

        where = action.cwd or action.workspace or self.cwd
        named = (getattr(policy, "settings", None) or {}).get("environments") or {}
        here = self._machine_fact(("context", where, getattr(policy, "digest", "")),
                                  lambda: local_context(self.environ, where, named))
        context = {**here, **action.context}
        found = self._machine_fact(("actor", where), lambda: local_actor(self.environ, where))
        actor = action.actor
        filled: dict[str, Any] = {f.name: found[f.name] for f in fields(Actor)
                                  if f.name in found and not getattr(actor, f.name)}
        return replace(action, actor=replace(actor, **filled), context=context)

    def decide_payload(self, payload: Any) -> Verdict:
        return self._drive(self.payload_steps(payload))

    def payload_steps(self, payload: Any) -> DecisionSteps:
        """:meth:`decide_payload` as steps: see :data:`DecisionSteps`."""
        try:
            action = self.normalize(payload)
        except Exception as exc:
            detail = str(exc) if isinstance(exc, ActionError) else f"{type(exc).__name__}: {exc}"
            verdict = Verdict.fail_closed(detail, reason=f"denied: not a valid action: {detail}")
            # the raw payload is evidence too: record what was refused (best effort, already a deny)
            yield from self._best_effort(payload, verdict, time.time(), None, time.perf_counter())
            return verdict
        return (yield from self.decide_steps(action))

    def judge_payload(self, payload: Any) -> Verdict:
        """What the policy alone says about an action that is not happening (the inventory's probes):
        approvals, limits, taint and the kill switch are neither consulted nor counted, nothing is recorded."""
        from warden.core.flow import decide as policy_decide

        try:
            action = self.normalize(payload)
            policy = self.policy_for(action.workspace or self.workspace_for(action.cwd))
        except Exception as exc:
            return Verdict.fail_closed(str(exc))
        return self._without_secrets(policy_decide(policy, action, self.analysis_env))

    def decide(self, action: Action) -> Verdict:
        return self._drive(self.decide_steps(action))

    def _drive(self, steps: DecisionSteps) -> Verdict:
        """Run the steps here and now, recording each batch of events with the recorder."""
        try:
            events = next(steps)
            while True:
                error = None
                try:
                    self.last_decision_id = self._open_recorder().record_many(events)[0]
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
                events = steps.send(error)
        except StopIteration as stop:
            return stop.value

    def decide_steps(self, action: Action) -> DecisionSteps:
        """:meth:`decide` as steps: see :data:`DecisionSteps`."""
        t0 = time.perf_counter()
        started = time.time()
        try:
            policy = self.policy_for(action.workspace or self.workspace_for(action.cwd))
        except Exception as exc:
            verdict = Verdict.fail_closed(
                str(exc), reason=f"denied: the policy could not be loaded, so nothing is allowed until it is fixed: {exc}"
            )
            yield from self._best_effort(self.with_identity(action), verdict, started, None, t0)
            return verdict
        try:
            action = self.with_identity(action, policy)
            from warden.core.audit import new_id

            gate = self._gate()
            gate.decision_id = new_id()
            flow = decision_flow(policy, action, self.analysis_env, gate)
            step = next(flow)
            error = None
            if self.audit:
                try:
                    events = self._decision_events(step.action, step.verdict, started, policy, t0, gate.events,
                                                   gate.decision_id)
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
                else:
                    error = yield events
            try:
                flow.send(error)
            except StopIteration as stop:
                return self._without_secrets(stop.value)
            raise RuntimeError("decision flow did not finish")
        except Exception as exc:
            return Verdict.fail_closed(f"internal error: {type(exc).__name__}: {exc}")

    def _best_effort(self, action: Any, verdict: Verdict, started: float, policy: Any, t0: float) -> DecisionSteps:
        """Record an already-denied decision if possible; a failure to record it changes nothing."""
        if not self.audit:
            return verdict
        try:
            events = self._decision_events(action, verdict, started, policy, t0)
        except Exception:
            return verdict  # already a deny; the log failure must not turn it into a crash
        yield events
        return verdict

    def _without_secrets(self, verdict: Verdict) -> Verdict:
        """The verdict goes back to the agent, its transcript and logs: when the action carried a
        credential, its reason and matched subjects (which quote the command) are redacted too."""
        if not any(f.kind == "secret.content" for f in verdict.facts):
            return verdict
        from dataclasses import replace

        from warden.core.facts import Fact

        try:
            redact = self.redactor()
        except Exception as exc:  # no key, no engine: say so rather than echo the secret
            return Verdict.fail_closed(f"cannot redact the verdict: {exc}")
        verdict.reason = redact(verdict.reason)
        verdict.rules = [replace(r, subject=redact(r.subject)) for r in verdict.rules]
        verdict.facts = [Fact(f.kind, redact(f.detail), f.data) if f.detail else f for f in verdict.facts]
        return verdict

    def close(self) -> None:
        if self._state is not None:
            self._state.close()
            self._state = None
        if self._recorder is not None:
            self._recorder.close()
            self._recorder = None
