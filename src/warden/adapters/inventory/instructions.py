"""Instruction files: what steers each agent (CLAUDE.md, AGENTS.md, .cursorrules, GEMINI.md, Copilot
instructions), who must review changes to them (CODEOWNERS), and commands in them a reviewer should see."""

from __future__ import annotations

import re

from warden.adapters.inventory.base import Scope
from warden.core.inventory.model import Edge

# glob -> the agents that read it
PATTERNS: dict[str, tuple[str, ...]] = {
    "**/CLAUDE.md": ("claude-code",), "**/CLAUDE.local.md": ("claude-code",),
    "**/AGENTS.md": ("codex", "cursor", "copilot", "copilot-coding-agent", "gemini"),
    "**/GEMINI.md": ("gemini",), ".cursorrules": ("cursor",), ".cursor/rules/**/*.mdc": ("cursor",),
    ".github/copilot-instructions.md": ("copilot", "copilot-coding-agent"),
    ".github/instructions/*.instructions.md": ("copilot", "copilot-coding-agent"),
    ".windsurfrules": ("windsurf",), ".clinerules": ("cline",),
}
USER_PATTERNS: dict[str, tuple[str, ...]] = {".claude/CLAUDE.md": ("claude-code",), ".codex/AGENTS.md": ("codex",),
                                             ".gemini/GEMINI.md": ("gemini",)}
RISKY = [
    (re.compile(r"--dangerously-skip-permissions|--yolo\b|--dangerously-bypass"), "turns the agent's own approvals off"),
    (re.compile(r"git\s+push\s+(?:-f|--force)\b"), "force-pushes"),
    (re.compile(r"--no-verify\b"), "skips git hooks"),
    (re.compile(r"\b(?:curl|wget)\b[^\n|]*\|\s*(?:ba|z)?sh\b"), "pipes a download into a shell"),
    (re.compile(r"(?i)\b(?:npm|twine|cargo)\s+publish\b|\bterraform\s+apply\b|\bkubectl\s+apply\b"), "publishes or deploys"),
]


def detect(scope: Scope) -> None:
    patterns = PATTERNS if scope.kind == "project" else USER_PATTERNS if scope.kind == "user" else {}
    for pattern, readers in patterns.items():
        for rel in scope.files.find(pattern):
            text = scope.files.text(rel)
            if text is None:
                continue
            node = scope.inv.node(f"instructions:{scope.repo}:{rel}", "instructions", rel, scope.repo, scope.at(rel),
                                  readers=list(readers), bytes=len(text.encode()))
            for agent_name in readers:
                agent = f"agent:{scope.repo}:{agent_name}"
                if agent in scope.inv.nodes or agent_name == readers[0]:
                    if agent not in scope.inv.nodes:
                        scope.inv.node(agent, "agent", agent_name, scope.repo, scope.at(rel), scope=scope.kind)
                    scope.inv.edge(Edge(node, "steer", agent, scope.repo, scope.at(rel), agent=False,
                                        note="the agent reads this file as instructions"))
            for rx, what in RISKY:
                m = rx.search(text)
                if m:
                    scope.inv.finding("instructions-risky-command", "low", f"{rel} tells agents to run a command that {what}",
                                      f"`{m.group(0)}` in an instruction file is followed by every agent that reads it; "
                                      "keep such steps for people, or make sure Warden asks before they run.",
                                      scope.repo, scope.at(rel, m.group(0)))
