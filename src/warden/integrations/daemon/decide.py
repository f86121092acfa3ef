"""Decisions from the warm daemon, for per-command callers such as `warden exec`.

Importing the policy engine, the shell parser, the secrets engine and the audit store costs
several times the interpreter's start-up; the warm daemon (:mod:`warden.integrations.daemon.server`)
keeps them loaded. :class:`DaemonGateway` offers the part of :class:`warden.gateway.Gateway` that
`warden exec` uses, deciding through the daemon and opening a local gateway only for the rarer
steps (recording an approval, proxy egress events). No daemon, or a stale one: ``None`` from
:func:`daemon_gateway`, and the caller decides in-process (a daemon is started for next time).
A daemon that fails or does not answer in time: a deny verdict, never a silent allow.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from warden.adapters.environment import find_workspace, flag_on
from warden.integrations.daemon import client

DEADLINE = 8.0
class _Policy:
    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox


class DaemonGateway:
    def __init__(self, cwd: str, policy_file: str | None, environ: Mapping[str, str]) -> None:
        self.cwd, self.policy_file, self.environ = cwd, policy_file, environ
        self.audit = flag_on(environ, "WARDEN_AUDIT")
        self.last_decision_id: str | None = None
        self.secret_env: list[str] | None = None  # credential-valued variables, judged by the daemon
        self._sandbox: dict[str, Any] = {}
        self._local: Any = None

    def workspace_for(self, cwd: str) -> str:
        return find_workspace(cwd or self.cwd)

    def decide(self, action: Any) -> Any:
        from warden.core.decision import Decision, RuleMatch, Verdict

        payload = action.to_json()
        answer = ask(payload, self.environ, action.cwd or self.cwd, self.policy_file)
        if answer is None:
            return None
        if "error" in answer:
            return Verdict.fail_closed(answer["error"])
        v = answer["verdict"]
        self._sandbox[action.workspace] = answer.get("sandbox")
        self.last_decision_id = answer.get("decision_id")
        self.secret_env = answer.get("secret_env")
        rules = [RuleMatch(r["id"], Decision.parse(r["effect"]), r["reason"], r["source"], r["layer"],
                           r.get("subject", "")) for r in v.get("rules", [])]
        return Verdict(Decision.parse(v["decision"]), v["reason"], rules, [], error=v.get("error"),
                       policy_digest=v.get("policy_digest", ""), approval=v.get("approval"))

    def policy_for(self, workspace: str) -> _Policy:
        sandbox = self._sandbox.get(workspace)
        if sandbox is None:
            raise RuntimeError("the policy did not load (see the verdict)")
        return _Policy(sandbox)

    def _gateway(self) -> Any:
        if self._local is None:
            from warden.gateway import Gateway

            self._local = Gateway.from_env(cwd=self.cwd, policy_file=self.policy_file, environ=self.environ)
        return self._local

    def record(self, event: Mapping[str, Any]) -> str:
        return self._gateway().record(event)

    def record_report(self, report: Mapping[str, Any]) -> str:
        """Record a sandbox report through the daemon; locally if it is gone."""
        from warden.adapters.exec.report import outcome_from_report

        raw = json.dumps({"report": dict(report), "decision_id": self.last_decision_id}, default=str).encode()
        result = client.ask(raw, self.environ, self.cwd, [client.REPORT], DEADLINE)
        if result is None:
            return self.record(outcome_from_report(dict(report), self.last_decision_id or "", self.redactor()))
        code, out, err = result
        if code != 0:
            raise RuntimeError(err.decode("utf-8", "replace") or "the daemon could not record the report")
        return out.decode()

    def redactor(self) -> Any:
        return self._gateway().redactor()


def enabled(environ: Mapping[str, str]) -> bool:
    return flag_on(environ, "WARDEN_HOOK_DAEMON")


def ask(payload: dict[str, Any], environ: Mapping[str, str], cwd: str, policy_file: str | None) -> dict | None:
    """The daemon's answer: {"verdict", "sandbox", "decision_id"}, {"error"}, or None (decide locally)."""
    argv = [client.DECIDE, "--policy", policy_file] if policy_file else [client.DECIDE]
    result = client.ask(json.dumps(payload).encode(), environ, cwd, argv, DEADLINE)
    if result is None:
        return None
    code, out, err = result
    if code != 0:
        return {"error": err.decode("utf-8", "replace").strip() or f"the decision daemon answered {code}"}
    try:
        return json.loads(out)
    except ValueError:
        return {"error": "the decision daemon sent an unreadable answer"}


def daemon_gateway(cwd: str, policy_file: str | None, environ: Mapping[str, str]) -> DaemonGateway | None:
    return DaemonGateway(cwd, policy_file, environ) if enabled(environ) else None
