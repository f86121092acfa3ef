"""Load and judge the multi-tool action corpus (tests/cases/actions/*.yaml).

Each case is one agent action of any tool: ``cmd:`` is shorthand for a Bash command, otherwise
``tool:`` and ``input:`` give the tool call as Claude Code sends it. Files named ``dangerous_*``
hold actions that must never be auto-allowed (``expect: deny`` ones must be denied outright);
``benign_*`` files hold everyday actions, which should be allowed without a prompt.

Also runnable as a script (``python tests/action_corpus.py``) to print the figures for
whatever ``warden`` is importable, which is how the before/after figures in the notes were
taken (``PYTHONPATH=<other tree>/src``).
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parent / "cases"
WORKSPACE = "/home/dev/project"
HOME = "/home/dev"


@dataclass(frozen=True)
class Case:
    file: str
    tool: str
    input: dict[str, Any]
    expect: str
    theme: str
    note: str
    ideal: str = ""  # a known miss: what the decision should be (the figures count this); expect is today's

    @property
    def target(self) -> str:
        return self.ideal or self.expect

    @property
    def dangerous(self) -> bool:
        return self.file.startswith("dangerous")

    @property
    def label(self) -> str:
        body = self.input.get("command") if self.tool == "Bash" else self.input
        return f"{self.tool} {body}"


def load(dirs: tuple[str, ...] = ("actions",)) -> list[Case]:
    out: list[Case] = []
    for d in dirs:
        for path in sorted((ROOT / d).glob("*.yaml")):
            for raw in yaml.safe_load(path.read_text())["cases"]:
                if "cmd" in raw:
                    tool, inp = "Bash", {"command": raw["cmd"]}
                else:
                    tool, inp = raw["tool"], dict(raw.get("input") or {})
                out.append(Case(path.stem, tool, inp, raw["expect"], raw.get("theme", path.stem.split("_", 1)[-1]),
                                raw.get("note", ""), raw.get("ideal", "")))
    return out


def judge(policy: Any, case: Case) -> Any:
    from warden.core.action import action_from_payload
    from warden.core.analyze import AnalysisEnv
    from warden.core.flow import decide

    env = AnalysisEnv(home=HOME, warden_home=HOME + "/.warden", env={"HOME": HOME})
    action = action_from_payload({"tool_name": case.tool, "tool_input": case.input, "cwd": WORKSPACE,
                                  "workspace": WORKSPACE})
    return decide(policy, action, env)


def figures(policy: Any, cases: list[Case]) -> dict[str, Any]:
    got = [(c, judge(policy, c).decision.label) for c in cases]
    dangerous = [(c, d) for c, d in got if c.dangerous]
    must_deny = [(c, d) for c, d in dangerous if c.target == "deny"]
    benign = [(c, d) for c, d in got if c.file.startswith("benign")]
    return {
        "dangerous": len(dangerous), "must_deny": len(must_deny), "benign": len(benign),
        "dangerous_not_allowed": sum(d != "allow" for _, d in dangerous) / max(1, len(dangerous)),
        "must_deny_denied": sum(d == "deny" for _, d in must_deny) / max(1, len(must_deny)),
        "benign_allowed": sum(d == "allow" for _, d in benign) / max(1, len(benign)),
        "allowed_dangerous": [c.label for c, d in dangerous if d == "allow"],
        "undenied": [c.label for c, d in must_deny if d != "deny"],
        "prompted_benign": [c.label for c, d in benign if d != "allow"],
        "tools": dict(Counter(c.tool if not c.tool.startswith("mcp__") else "mcp__*" for c, _ in got)),
    }


def _policy() -> Any:
    from warden.adapters.policy_files import BUILTIN
    from warden.core.policy.load import LayerSource, compile_policy

    return compile_policy([LayerSource("builtin", "builtin:recommended.yaml", BUILTIN.read_text())])


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    policy = _policy()
    for dirs in (("actions",), ("shell",)):
        cases = load(dirs)
        if not cases:
            continue
        f = figures(policy, cases)
        print(f"{dirs[0]}: {f['dangerous']} dangerous ({f['must_deny']} must-deny), {f['benign']} benign; "
              f"dangerous not auto-allowed {f['dangerous_not_allowed']:.1%}, must-deny denied "
              f"{f['must_deny_denied']:.1%}, benign auto-allowed {f['benign_allowed']:.1%}  tools {f['tools']}")
        if verbose:
            for key in ("allowed_dangerous", "undenied", "prompted_benign"):
                for label in f[key]:
                    print(f"  {key}: {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
