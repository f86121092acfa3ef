"""Warden for the OpenAI Agents SDK (``openai-agents``): tool input and output guardrails.

::

    from agents import Agent, function_tool
    from warden.sdk import Guard
    from warden.sdk.openai_agents import guardrails

    guard = Guard(agent="support-bot")
    check, redact = guardrails(guard, as_tool="Bash", to_input=lambda args: {"command": args["command"]})

    @function_tool(tool_input_guardrails=[check], tool_output_guardrails=[redact])
    def run_shell(command: str) -> str: ...

A deny (and an ask, unless the guard's ``on_ask`` approves) rejects the call: the model gets
Warden's reason instead of a result and the run goes on. An output carrying a secret is replaced
by its redacted form (the SDK's ``reject_content`` puts that message where the output would be).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from agents import (
    ToolGuardrailFunctionOutput,
    ToolInputGuardrailData,
    ToolOutputGuardrailData,
    tool_input_guardrail,
    tool_output_guardrail,
)

from warden.sdk.guard import ActionDenied, ApprovalRequired, Guard


def guardrails(guard: Guard, *, as_tool: str | None = None,
               to_input: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None) -> tuple[Any, Any]:
    """(input guardrail, output guardrail) for function tools, deciding through ``guard``.

    ``as_tool`` names the action (default ``mcp__<agent>__<tool name>``); ``to_input`` maps the
    tool's JSON arguments to the action input (default: the arguments as they are).
    """

    @tool_input_guardrail(name="warden_check")
    def check(data: ToolInputGuardrailData) -> ToolGuardrailFunctionOutput:
        ctx = data.context
        name = as_tool or f"mcp__{guard.agent}__{ctx.tool_name}"
        try:
            args = json.loads(ctx.tool_arguments or "{}")
        except ValueError:
            return ToolGuardrailFunctionOutput.reject_content(
                "Warden blocked this because it could not decide safely: the tool arguments are not valid JSON")
        if not isinstance(args, dict):
            args = {"value": args}
        try:
            guard.require(name, to_input(args) if to_input else args, tool_use_id=ctx.tool_call_id)
        except (ActionDenied, ApprovalRequired) as exc:
            return ToolGuardrailFunctionOutput.reject_content(str(exc), output_info={"verdict": exc.verdict.to_json()})
        except Exception as exc:  # fail closed: a guard that cannot decide rejects
            return ToolGuardrailFunctionOutput.reject_content(
                f"Warden blocked this because it could not decide safely: {type(exc).__name__}: {exc}")
        return ToolGuardrailFunctionOutput.allow()

    @tool_output_guardrail(name="warden_redact")
    def redact(data: ToolOutputGuardrailData) -> ToolGuardrailFunctionOutput:
        ctx = data.context
        name = as_tool or f"mcp__{guard.agent}__{ctx.tool_name}"
        try:
            outcome = guard.filter(data.output, tool=name, tool_use_id=ctx.tool_call_id)
        except Exception as exc:
            return ToolGuardrailFunctionOutput.reject_content(f"[output withheld by Warden: {exc}]")
        if not outcome.redacted:
            return ToolGuardrailFunctionOutput.allow()
        shown = outcome.output if isinstance(outcome.output, str) else json.dumps(outcome.output)
        return ToolGuardrailFunctionOutput.reject_content(shown, output_info={"redacted": outcome.redacted})

    return check, redact
