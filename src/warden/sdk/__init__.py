"""Warden for custom agents: decide, filter and record tool calls from Python.

::

    from warden.sdk import Guard, ActionDenied

    guard = Guard(agent="billing-bot")          # the same warden.yaml, audit log and redaction as hooks
    verdict = guard.check("Bash", {"command": "rm -rf ~"})
    verdict.decision.label                      # "deny", with verdict.reason saying why

    @guard.tool(as_tool="Bash", to_input=lambda command: {"command": command})
    def run_shell(command: str) -> str: ...     # denied calls raise ActionDenied; outputs come back redacted

Framework adapters: :mod:`warden.sdk.openai_agents` (tool input/output guardrails for the OpenAI
Agents SDK) and :mod:`warden.sdk.langchain` (LangChain/LangGraph tools; an ask interrupts the
graph). See docs/sdk.md.
"""

from warden.sdk.guard import ActionDenied, ApprovalRequired, Guard, Outcome

__all__ = ["ActionDenied", "ApprovalRequired", "Guard", "Outcome"]
