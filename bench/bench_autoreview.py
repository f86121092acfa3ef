"""The auto-review tier on the project's shell corpora: prompts per 100 benign actions before and after,
and how many dangerous actions a reviewer could auto-approve.

Each corpus command is decided by the built-in policy. Every `ask` that the tier may send (the asking
rules all say `review: auto`, no separation of duties, no secret/taint/limit facts) goes to a real
HTTP reviewer: the project's scripted OpenAI-compatible server, judging the approval card with a
fixed conservative policy (a stand-in for a local model), and, as the worst case, a reviewer that
approves everything (the guardrails alone then bound the damage).

    python bench/bench_autoreview.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "review")]
from reviewer_server import ReviewerServer  # noqa: E402
from shell_util import builtin_policy  # noqa: E402

from warden.adapters.reviewer import review  # noqa: E402
from warden.core.action import action_from_payload  # noqa: E402
from warden.core.analyze import AnalysisEnv, analyze  # noqa: E402
from warden.core.control.card import build_card  # noqa: E402
from warden.core.decision import Decision  # noqa: E402
from warden.core.flow import decide  # noqa: E402
from warden.core.review.autoreview import ReviewerSettings, eligible  # noqa: E402

WS = "/home/dev/project"
ENV = AnalysisEnv(home="/home/dev", warden_home="/home/dev/.warden", env={"HOME": "/home/dev"})


def cases() -> tuple[list[str], list[str]]:
    benign, dangerous = [], []
    for path in sorted((ROOT / "tests" / "cases" / "shell").glob("*.yaml")):
        for c in yaml.safe_load(path.read_text())["cases"]:
            (benign if path.stem.startswith("benign") else dangerous).append(c["cmd"])
    return benign, dangerous


def run(cmds: list[str], policy, settings: ReviewerSettings | None) -> tuple[int, int, int, list[float]]:
    """(asks before review, asks after, allowed after, review latencies)."""
    before = after = allowed = 0
    lat: list[float] = []
    for cmd in cmds:
        action = action_from_payload({"tool_name": "Bash", "tool_input": {"command": cmd}, "cwd": WS, "workspace": WS})
        v = decide(policy, action, ENV)
        decision = v.decision
        if decision is Decision.ASK:
            before += 1
            ok, _ = eligible(policy, v)
            if ok and settings is not None:
                card = build_card(action, analyze(action, ENV), v, redact=lambda s: s)
                out = review(card, settings)
                lat.append(out.latency_ms)
                if out.approved:
                    decision = Decision.ALLOW
        if decision is Decision.ASK:
            after += 1
        if decision is Decision.ALLOW:
            allowed += 1
    return before, after, allowed, lat


OPTED_IN = ("ask-packages", "ask-network")  # what a team would opt in: installs and plain network reads
HARMFUL = ("fs.", "net.upload", "net.tunnel", "net.remote_exec", "exec.opaque", "pkg.publish", "pkg.index",
           "priv.", "persist.", "sys.", "secret.", "flow.", "cloud.", "db.", "git.force", "net.reverse_shell")


def harmful(cmd: str, policy) -> bool:
    action = action_from_payload({"tool_name": "Bash", "tool_input": {"command": cmd}, "cwd": WS, "workspace": WS})
    v = decide(policy, action, ENV)
    return v.decision is Decision.DENY or any(f.kind.startswith(HARMFUL) for f in v.facts)


def main() -> None:
    policy = builtin_policy()
    for rule in policy.rules:  # the documented opt-in: `review: auto` on these rules in a team's policy
        if rule.id in OPTED_IN:
            rule.review = "auto"
    benign, dangerous = cases()
    for mode in ("policy", "approve-all"):
        with ReviewerServer(mode=mode) as rv:
            settings = ReviewerSettings(url=rv.url, model=f"scripted-{mode}", timeout_s=10)
            t = time.perf_counter()
            b_before, b_after, _, lat = run(benign, policy, settings)
            d_before, _, d_allowed, lat2 = run(dangerous, policy, settings)
            dt = time.perf_counter() - t
            _, _, d_allowed_base, _ = run(dangerous, policy, None)
            bad = [c for c in dangerous if harmful(c, policy)]
            _, _, bad_allowed, _ = run(bad, policy, settings)
            _, _, bad_base, _ = run(bad, policy, None)
        n = len(benign)
        lats = lat + lat2
        print(f"reviewer {mode:11}: benign prompts per 100 actions {100 * b_before / n:5.2f} -> {100 * b_after / n:5.2f} "
              f"({b_before - b_after} of {b_before} asks resolved); dangerous: {d_before} asks, "
              f"{d_allowed - d_allowed_base} asks resolved (of {len(dangerous)}; ask-worthy installs/reads), "
              f"harmful auto-approved {bad_allowed - bad_base} of {len(bad)}; review latency p50 "
              f"{statistics.median(lats) if lats else 0:.1f} ms over {len(lats)} reviews; {dt:.1f} s")


if __name__ == "__main__":
    main()
