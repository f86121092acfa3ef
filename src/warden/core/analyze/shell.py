"""Shell command analysis (issue 3 replaces this with the tree-sitter analyzer).

Until then every command is opaque, which the policy never auto-allows: failing closed.
"""

from __future__ import annotations

from warden.core.analyze import AnalysisEnv
from warden.core.facts import OPAQUE, Analysis, CommandInfo, Fact


def analyze_shell(command: str, cwd: str, workspace: str, env: AnalysisEnv) -> Analysis:
    info = CommandInfo(program="", argv=(), raw=command, opaque=True, facts=[Fact(OPAQUE, "no shell analyzer")])
    return Analysis(commands=[info])
