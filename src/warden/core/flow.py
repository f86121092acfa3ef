"""The one path every action takes, as a generator the adapters drive.

    analyze -> decide -> (adapter records the event) -> verdict

Pure: the flow yields :class:`Record` steps and the adapter does the I/O, sending back
``None`` on success or an error message. An evidence failure turns any verdict into a deny
(an action whose record cannot be written does not happen).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from warden.core.action import Action
from warden.core.analyze import AnalysisEnv, analyze
from warden.core.decision import Verdict
from warden.core.policy.compiled import CompiledPolicy, evaluate


@dataclass(frozen=True, slots=True)
class Record:
    action: Action
    verdict: Verdict


def decide(policy: CompiledPolicy, action: Action, env: AnalysisEnv, control: Any = None) -> Verdict:
    """Analyze and evaluate; never raises (an internal error is a deny that says so).

    ``control`` (a :class:`warden.core.control.gate.Gate`) adds the stateful checks: kill switch,
    taint, limits, loop breaker and approvals.
    """
    try:
        analysis = analyze(action, env)
        home = env.env.get("HOME") or env.home
        if policy.data is not None:  # data classes: reads above clearance, flows below a destination
            from warden.core.data.classes import data_facts

            analysis.facts.extend(data_facts(policy.data, action, analysis, home))
        if control is not None:
            return control.decide(policy, action, analysis, lambda a: evaluate(policy, a, analysis, home=home))
        return evaluate(policy, action, analysis, home=home)
    except Exception as exc:  # fail closed with the error as the reason
        verdict = Verdict.fail_closed(f"internal error while deciding: {type(exc).__name__}: {exc}")
        verdict.policy_digest = policy.digest
        return verdict


def decision_flow(policy: CompiledPolicy, action: Action, env: AnalysisEnv,
                  control: Any = None) -> Generator[Record, str | None, Verdict]:
    verdict = decide(policy, action, env, control)
    error = yield Record(action, verdict)
    if error:
        failed = Verdict.fail_closed(f"the audit event could not be written ({error})")
        failed.rules, failed.facts, failed.policy_digest = verdict.rules, verdict.facts, verdict.policy_digest
        return failed
    return verdict
