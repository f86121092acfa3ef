"""Warden for LangChain / LangGraph tools: a guarded copy of any ``BaseTool``.

::

    from warden.sdk import Guard
    from warden.sdk.langchain import guard_tool

    safe_shell = guard_tool(Guard(agent="lg-agent"), shell_tool, as_tool="Bash",
                            to_input=lambda args: {"command": args["command"]})

A deny comes back to the model as the tool's result (Warden's reason), so the agent can adjust.
An ask, inside a LangGraph run, *interrupts* the graph (``langgraph.types.interrupt``) with the
verdict; resume it with ``Command(resume=True)`` to approve or ``Command(resume=False)`` to refuse
(the answer is recorded). Outside a graph, an ask goes to the guard's ``on_ask`` or is refused.
Outputs come back with secrets replaced by markers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

from warden.core.decision import Decision
from warden.sdk.guard import ActionDenied, ApprovalRequired, Guard


def _in_graph() -> bool:
    try:
        from langgraph.config import get_config

        get_config()
        return True
    except Exception:  # langgraph absent, or not inside a running graph
        return False


def _approve_in_graph(verdict: Any, tool: str, args: Mapping[str, Any]) -> bool:
    from langgraph.types import interrupt

    answer = interrupt({"warden": "approval", "tool": tool, "input": dict(args), "reason": verdict.reason,
                        "rules": [r.id for r in verdict.rules]})
    return answer is True or (isinstance(answer, dict) and answer.get("approved") is True)


def guard_tool(guard: Guard, tool: BaseTool, *, as_tool: str | None = None,
               to_input: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None) -> BaseTool:
    """A tool with ``tool``'s name, description and schema whose every call goes through ``guard``."""
    name = as_tool or f"mcp__{guard.agent}__{tool.name}"

    def run(**kwargs: Any) -> Any:
        action = to_input(kwargs) if to_input else kwargs
        verdict = guard.check(name, action)
        if verdict.decision is Decision.DENY:
            return str(ActionDenied(verdict))
        if verdict.decision is Decision.ASK:
            approved = _approve_in_graph(verdict, name, action) if _in_graph() else None
            if approved is None:
                try:
                    guard.require(name, action)  # on_ask decides (and is recorded), or refuses
                    approved = True
                except (ActionDenied, ApprovalRequired) as exc:
                    return str(exc)
            else:
                guard.record_approval(verdict, name, "", approved)
            if not approved:
                return str(ApprovalRequired(verdict))
        return guard.filter(tool.invoke(kwargs), tool=name).output

    return StructuredTool.from_function(func=run, name=tool.name, description=tool.description,
                                        args_schema=tool.args_schema)
