"""The Guard: one object a custom agent asks before a tool runs and hands the output after.

It drives the same :class:`warden.gateway.Gateway` the hooks use, in this process (the policy is
re-read and digested on each check, so an edited ``warden.yaml`` applies at once). Every check is
recorded in the audit log with ``actor.agent`` set to the guard's agent name; every filtered output
is recorded redacted. Failures deny (house rule 5): a policy that does not load, an action that is
not valid, an audit log that cannot be written.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from warden.core.decision import Decision, Verdict

F = TypeVar("F", bound=Callable[..., Any])


class ActionDenied(PermissionError):
    """The policy denied the action; ``verdict`` says why (``verdict.reason``, ``verdict.rules``)."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(f"Warden denied this: {verdict.reason}")
        self.verdict = verdict


class ApprovalRequired(PermissionError):
    """The policy asks for a human's approval and the guard had no way to get one (no ``on_ask``)."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(f"Warden asks for approval: {verdict.reason}")
        self.verdict = verdict


@dataclass(frozen=True)
class Outcome:
    """A tool's output as the model may see it: secrets replaced by markers."""

    output: Any
    redacted: list[str]  # where secrets were found ("$", "rows[2].token", ...)


class Guard:
    """Decide, filter and record a custom agent's tool calls under Warden's policy.

    ``cwd``/``workspace``: where the agent works (the policy is discovered from there);
    ``policy_file``: an explicit project policy; ``agent``/``actor_id``/``roles``: who acts, as
    recorded; ``on_ask``: called with the verdict when the policy asks (return True to approve, for
    example after prompting a human); without it an ask raises :class:`ApprovalRequired`.
    """

    def __init__(self, *, agent: str = "custom", cwd: str | None = None, workspace: str | None = None,
                 policy_file: str | None = None, actor_id: str = "", roles: tuple[str, ...] = (),
                 session: str = "", audit: bool = True, environ: Mapping[str, str] | None = None,
                 on_ask: Callable[[Verdict], bool] | None = None) -> None:
        self.agent = agent
        self.cwd = os.path.abspath(cwd or os.getcwd())
        self.workspace = workspace
        self.policy_file = policy_file
        self.actor_id = actor_id
        self.actor: dict[str, Any] = {"id": actor_id, "agent": agent, "roles": list(roles)}
        self.session = session
        self.audit = audit
        self.environ = dict(os.environ if environ is None else environ)
        self.on_ask = on_ask
        self.last_decision_id: str | None = None  # the audit id of the last check

    # -- the gateway ---------------------------------------------------------------------------
    def _gateway(self) -> Any:
        from warden.gateway import Gateway

        return Gateway.from_env(cwd=self.cwd, policy_file=self.policy_file, environ=self.environ, audit=self.audit)

    def _payload(self, tool: str, tool_input: Mapping[str, Any], tool_use_id: str) -> dict[str, Any]:
        payload: dict[str, Any] = {"hook_event_name": "PreToolUse", "tool_name": tool, "tool_input": dict(tool_input),
                                   "cwd": self.cwd, "session_id": self.session, "tool_use_id": tool_use_id,
                                   "actor": self.actor}
        if self.workspace:
            payload["workspace"] = self.workspace
        return payload

    # -- deciding ------------------------------------------------------------------------------
    def check(self, tool: str, tool_input: Mapping[str, Any], *, tool_use_id: str = "") -> Verdict:
        """The verdict for one action (recorded). Tools use Warden's names: Bash, Read, Write, Edit,
        WebFetch, WebSearch, or ``mcp__server__tool`` for anything else."""
        gw = self._gateway()
        try:
            verdict: Verdict = gw.decide_payload(self._payload(tool, tool_input, tool_use_id))
            self.last_decision_id = gw.last_decision_id
            return verdict
        finally:
            gw.close()

    def require(self, tool: str, tool_input: Mapping[str, Any], *, tool_use_id: str = "") -> Verdict:
        """Like :meth:`check`, but raise unless the action may run now (an ask goes to ``on_ask``)."""
        verdict = self.check(tool, tool_input, tool_use_id=tool_use_id)
        if verdict.decision is Decision.DENY:
            raise ActionDenied(verdict)
        if verdict.decision is Decision.ASK:
            approved = False
            if self.on_ask is not None:
                try:
                    approved = bool(self.on_ask(verdict))
                except Exception:
                    approved = False  # an approval step that fails is not an approval
            self.record_approval(verdict, tool, tool_use_id, approved)
            if not approved:
                raise ApprovalRequired(verdict)
        return verdict

    def record_approval(self, verdict: Verdict, tool: str, tool_use_id: str, approved: bool) -> None:
        """The answer to an ask is evidence too, linked to the decision it answers."""
        if not self.audit:
            return
        import time

        from warden.core.audit import approval_event

        gw = self._gateway()
        try:
            gw.record(approval_event(decision_id=self.last_decision_id or "", granted=approved,
                                     approver=self.actor_id or self.agent, via="sdk.on_ask", started_at=time.time(),
                                     session=self.session, tool=tool, tool_use_id=tool_use_id, reason=verdict.reason,
                                     actor=self.actor, redact=gw.redactor()))
        finally:
            gw.close()

    # -- after the tool ------------------------------------------------------------------------
    def filter(self, output: Any, *, tool: str = "", tool_use_id: str = "") -> Outcome:
        """The output with secrets replaced by markers (strings anywhere in lists/dicts), recorded."""
        from warden.integrations.agents import common

        gw = self._gateway()
        try:
            changed: list[str] = []
            value = output
            if not isinstance(output, (str, list, dict)):
                value = str(output)
            redacted = common.redact_tree(value, gw.redactor(), "", changed)
            common.record_outcome(gw, self.agent, tool=tool, response=redacted, changed=changed,
                                  tool_use_id=tool_use_id, session=self.session)
            return Outcome(redacted, changed)
        finally:
            gw.close()

    # -- decorating tool functions ------------------------------------------------------------
    def tool(self, fn: F | None = None, *, as_tool: str | None = None,
             to_input: Callable[..., Mapping[str, Any]] | None = None) -> Any:
        """Decorate a tool function: checked before it runs, its output filtered after.

        ``as_tool`` names the action in Warden's vocabulary (default ``mcp__<agent>__<function>``,
        so MCP-style policy rules apply); ``to_input`` maps the call's arguments to the action input
        (default: the bound arguments by name). Works for sync and async functions.
        """

        def wrap(func: F) -> F:
            name = as_tool or f"mcp__{self.agent}__{func.__name__}"
            signature = inspect.signature(func)

            def action_input(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Mapping[str, Any]:
                if to_input is not None:
                    return to_input(*args, **kwargs)
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                return json.loads(json.dumps(dict(bound.arguments), default=str))

            if inspect.iscoroutinefunction(func):
                @functools.wraps(func)
                async def async_guarded(*args: Any, **kwargs: Any) -> Any:
                    self.require(name, action_input(args, kwargs))
                    return self.filter(await func(*args, **kwargs), tool=name).output

                return async_guarded  # type: ignore[return-value]

            @functools.wraps(func)
            def guarded(*args: Any, **kwargs: Any) -> Any:
                self.require(name, action_input(args, kwargs))
                return self.filter(func(*args, **kwargs), tool=name).output

            return guarded  # type: ignore[return-value]

        return wrap(fn) if fn is not None else wrap
