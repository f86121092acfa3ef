"""`decide` latency in-process for a 100-rule policy over a realistic action mix.

Target (issue 2): p50 under 50 µs excluding shell parsing. Shell actions are analyzed once
up front so this measures the engine; bench_shell.py measures parsing. Also prints the
process start-up of `warden decide` against a bare interpreter.

    python bench/bench_decide.py [--n 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _stats import fmt_ms, fmt_us, summary, time_calls, time_process

from warden.core.action import action_from_payload
from warden.core.analyze import AnalysisEnv, analyze
from warden.core.policy.compiled import evaluate
from warden.core.policy.load import LayerSource, compile_policy

WS = "/home/dev/project"


def hundred_rule_policy() -> str:
    rules = []
    programs = ["ls", "cat", "grep", "rg", "find", "git", "make", "npm", "pytest", "python", "go", "cargo",
                "docker", "kubectl", "terraform", "aws", "curl", "wget", "ssh", "scp"]
    for i, prog in enumerate(programs):
        rules.append({"id": f"allow-{prog}-{i}", "effect": "allow", "reason": f"{prog} ok", "program": [prog],
                      "in_workspace": True})
        rules.append({"id": f"ask-{prog}-net-{i}", "effect": "ask", "reason": "network", "program": [prog],
                      "host": ["*"], "unless": {"host": ["*.github.com", "pypi.org"]}})
        rules.append({"id": f"deny-{prog}-etc-{i}", "effect": "deny", "reason": "system", "program": [prog],
                      "path": ["/etc/**", "/usr/**"], "access": ["write", "delete"]})
        rules.append({"id": f"deny-{prog}-cmd-{i}", "effect": "deny", "reason": "dangerous", "command": [f"{prog} ** --force"]})
        rules.append({"id": f"ask-{prog}-ctx-{i}", "effect": "ask", "reason": "prod", "program": [prog],
                      "context": {"environment": ["prod"]}})
    rules[-1:] = [{"id": "deny-secrets", "effect": "deny", "reason": "secrets", "path": ["~/.ssh/**", "~/.aws/**", ".env*"]}]
    return json.dumps({"version": 1, "default": "ask", "rules": rules[:100]})


MIX = [
    {"tool_name": "Read", "tool_input": {"file_path": f"{WS}/src/app.py"}},
    {"tool_name": "Read", "tool_input": {"file_path": "/home/dev/.ssh/id_rsa"}},
    {"tool_name": "Write", "tool_input": {"file_path": f"{WS}/src/app.py", "content": "x = 1\n"}},
    {"tool_name": "Edit", "tool_input": {"file_path": f"{WS}/README.md", "old_string": "a", "new_string": "b"}},
    {"tool_name": "WebFetch", "tool_input": {"url": "https://docs.python.org/3/", "prompt": "read"}},
    {"tool_name": "Grep", "tool_input": {"pattern": "TODO", "path": f"{WS}/src"}},
    {"tool_name": "mcp__github__create_issue", "tool_input": {"title": "x"}},
    {"tool_name": "Bash", "tool_input": {"command": "git status && git diff --stat"}},
    {"tool_name": "Bash", "tool_input": {"command": "pytest -q tests/"}},
    {"tool_name": "Bash", "tool_input": {"command": "rm -rf /etc/ssh"}},
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000, help="evaluations per measurement")
    args = ap.parse_args()
    policy = compile_policy([LayerSource("project", "bench.yaml", hundred_rule_policy())])
    env = AnalysisEnv(home="/home/dev", env={"HOME": "/home/dev"})
    prepared = []
    for p in MIX:
        action = action_from_payload({**p, "cwd": WS})
        prepared.append((action, analyze(action, env)))
    print(f"policy: {len(policy.rules)} rules; action mix: {len(prepared)} kinds")
    i = 0

    def one() -> None:
        nonlocal i
        action, analysis = prepared[i % len(prepared)]
        i += 1
        evaluate(policy, action, analysis, home="/home/dev")

    time_calls(one, 2000)  # warm up
    p50, p99 = summary(time_calls(one, args.n))
    print(f"engine evaluate (excl. shell parsing): p50 {fmt_us(p50)}  p99 {fmt_us(p99)}  "
          f"target p50 < 50 µs -> {'MET' if p50 < 50e-6 else 'MISSED'}")

    with tempfile.TemporaryDirectory() as home:
        warden = str(Path(sys.executable).parent / "warden")
        env_vars = dict(os.environ, WARDEN_HOME=home, WARDEN_AUDIT="0")
        payload = json.dumps({**MIX[0], "cwd": WS}).encode()
        subprocess.run([warden, "decide"], input=payload, env=env_vars, capture_output=True)  # fill the cache
        n = 20
        bare, _ = summary(time_process([sys.executable, "-c", "pass"], n))
        imp, _ = summary(time_process([sys.executable, "-c", "import warden"], n))
        cli, _ = summary(time_process([warden, "decide"], n, input=payload, env=env_vars))
        print(f"process start: python -c pass {fmt_ms(bare)} | import warden {fmt_ms(imp)} "
              f"| warden decide (cached policy) {fmt_ms(cli)} = {cli / bare:.1f}x the bare interpreter")


if __name__ == "__main__":
    main()
