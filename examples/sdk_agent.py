"""A minimal custom agent guarded by Warden: the same policy, audit log and redaction as the hooks.

The "model" is a scripted list of shell commands so the example runs offline; put your LLM call in
`plan()`. It works in a scratch project it creates (a git repo with a notes file holding a token).
Run:   python examples/sdk_agent.py
Then:  warden audit query --json | grep example-agent     (every decision, recorded)
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from warden.sdk import ActionDenied, ApprovalRequired, Guard

project = Path(tempfile.mkdtemp(prefix="warden-sdk-example-"))
(project / ".git").mkdir()
(project / "notes.txt").write_text("deploy notes\ntoken = ghp_" + "R8bQ2vX9kL4mN7pT1wZ5yC3dF6gH0jK2sA8e\n")

guard = Guard(agent="example-agent", cwd=str(project), actor_id="you@example.com", session="example-1")


@guard.tool(as_tool="Bash", to_input=lambda command: {"command": command})
def shell(command: str) -> str:
    """Run a shell command, only if Warden's policy allows it; the output comes back redacted."""
    return subprocess.run(command, shell=True, cwd=project, capture_output=True, text=True, timeout=30).stdout


def plan() -> list[str]:
    # what a model might ask for: a benign command, a destructive one, one that prints a secret
    return ["ls", "rm -rf ~", "cat notes.txt"]


def main() -> int:
    for command in plan():
        try:
            output = shell(command)
        except ActionDenied as exc:
            print(f"denied: {command}: {exc.verdict.reason}")  # hand the reason to the model, so it adapts
            continue
        except ApprovalRequired as exc:
            print(f"needs approval: {command}: {exc.verdict.reason}")
            continue
        print(f"ran: {command}\n{output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
