"""A CI pipeline -> graph paths and findings: who can trigger it, which agents it runs, what those
agents hold (token scopes, secrets, OIDC), and which publish/release/deploy steps their output reaches."""

from __future__ import annotations

import re

from warden.adapters.inventory.base import Scope
from warden.adapters.inventory.ci_model import CiJob, CiPipeline, CiStep
from warden.core.inventory.commands import (
    CLOUD_LOGIN,
    Reach,
    agent_for_uses,
    agents_in_run,
    is_warden_command,
    reach_for_uses,
    reach_in_run,
)
from warden.core.inventory.model import Edge
from warden.core.inventory.probes import bash

UNTRUSTED = {
    "issue_comment": "any commenter", "pull_request_target": "any pull-request author (runs with secrets)",
    "issues": "any issue author", "pull_request_review_comment": "any review commenter",
    "pull_request_review": "any reviewer", "discussion": "any discussion author", "discussion_comment": "any commenter",
    "workflow_run": "an upstream workflow (possibly a fork's)",
}
LIMITED = {"pull_request": "pull-request authors (fork runs get no secrets, read-only token)",
           "merge_request": "merge-request authors"}
_SECRET = re.compile(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)")
_GITLAB_VAR = re.compile(r"\$\{?([A-Z][A-Z0-9_]*(?:TOKEN|KEY|SECRET|PASSWORD|PASS|CREDENTIALS?))\}?")
_GATE = re.compile(r"author_association|github\.actor\s*==|github\.event\.sender\.login|contains\(fromJSON|"
                   r"github\.triggering_actor")
_PAT = re.compile(r"(?i)pat\b|_pat_|gh_token|github_pat|personal|app_private_key|bot_token|admin_token")
_PRT_CHECKOUT = re.compile(r"github\.event\.pull_request\.head\.(?:sha|ref)|refs/pull/")
LOWER = {"critical": "high", "high": "medium", "medium": "low", "low": "low", "info": "info"}


def secrets_in(text: str, system: str) -> set[str]:
    if system == "gitlab":
        return set(_GITLAB_VAR.findall(text))
    return set(_SECRET.findall(text)) - {"GITHUB_TOKEN"}


def step_reach(step: CiStep) -> list[Reach]:
    found = [r for r in [reach_for_uses(step.uses)] if r] if step.uses else []
    return found + (reach_in_run(step.run) if step.run else [])


def _writes(perms: dict[str, str] | None) -> list[str] | None:
    """Write scopes of the token; None when undeclared (the repository default, possibly write-all)."""
    if perms is None:
        return None
    if perms.get("*") == "write":
        return ["*"]
    return sorted(k for k, v in perms.items() if v == "write" and k != "*")


def _downstream(pipe: CiPipeline, job_id: str) -> list[CiJob]:
    out: list[CiJob] = []
    frontier = {job_id}
    while frontier:
        nxt = {j.id for j in pipe.jobs if set(j.needs) & frontier and j not in out}
        out += [j for j in pipe.jobs if j.id in nxt and j not in out]
        frontier = nxt - {job_id}
    return out


def add_pipeline(scope: Scope, pipe: CiPipeline) -> None:
    inv, repo = scope.inv, scope.repo
    untrusted = [t for t in pipe.triggers if t in UNTRUSTED]
    wf = inv.node(f"workflow:{repo}:{pipe.path}", "workflow", pipe.path, repo, scope.at(pipe.path), system=pipe.system,
                  triggers=pipe.triggers, untrusted_triggers=untrusted, push_branches=pipe.push_branches,
                  permissions=pipe.permissions if pipe.permissions is not None else "repository default")
    for t in pipe.triggers:
        label = UNTRUSTED.get(t) or LIMITED.get(t) or "maintainers / repository events"
        actor = inv.node(f"actor:{repo}:{label}", "actor", label, repo, untrusted=t in UNTRUSTED)
        inv.edge(Edge(actor, "trigger", wf, repo, scope.at(pipe.path, t), agent=False, note=f"on: {t}"))
    token = scope.credential(pipe.token, "per-run CI token", standing=False)
    agent_jobs: set[str] = set()
    for job in pipe.jobs:
        agents = [(i, s, a) for i, s in enumerate(job.steps) for a in _agents_of(s)]
        if agents:
            agent_jobs.add(job.id)
            _agent_job(scope, pipe, job, agents, wf, token, untrusted)
    for job in pipe.jobs:
        upstream_agent = any(job.id in {d.id for d in _downstream(pipe, a)} for a in agent_jobs)
        if job.id in agent_jobs or upstream_agent:
            continue
        for step in job.steps:
            for reach in step_reach(step):
                cred, standing = _reach_credential(scope, pipe, job, step, token)
                inv.edge(Edge(wf, reach.action, scope.target(reach.target, reach.label), repo,
                              scope.at(pipe.path, step.uses or step.run.split("\n")[0][:40]), credential=cred,
                              authority="standing" if standing else "scoped", agent=False,
                              probe=bash(reach.probe, scope.root), note=f"job {job.id}: {step.name}"))
                if standing and reach.action == "publish":
                    inv.finding("publish-long-lived-credential", "low", f"{pipe.path} publishes with a long-lived secret",
                                f"Job {job.id} publishes to {reach.label} with {inv.nodes[cred].name}; prefer OIDC "
                                "trusted publishing (id-token: write), which leaves no standing token to steal.",
                                repo, scope.at(pipe.path, inv.nodes[cred].name))
    if "pull_request_target" in pipe.triggers and _PRT_CHECKOUT.search(" ".join(j.text for j in pipe.jobs)):
        inv.finding("pull-request-target-checkout", "critical" if agent_jobs else "high",
                    f"{pipe.path} checks out untrusted pull-request code with secrets",
                    "pull_request_target runs with the base repository's secrets and write token; checking out the "
                    "PR head lets any fork run code (or steer an agent) with them. Use pull_request, or never check "
                    "out the head in that workflow.", repo, scope.at(pipe.path, "pull_request_target"))


def _agents_of(step: CiStep) -> list[str]:
    named = agent_for_uses(step.uses) if step.uses else None
    return [named] if named else agents_in_run(step.run)


def _reach_credential(scope: Scope, pipe: CiPipeline, job: CiJob, step: CiStep, token: str) -> tuple[str, bool]:
    names = sorted(secrets_in(step.text + job.env_text, pipe.system))
    if names:
        return scope.credential(names[0], f"{pipe.system} secret", standing=True), True
    for s in job.steps:
        login = next((v for k, v in CLOUD_LOGIN.items() if s.uses.lower().startswith(k)), None)
        if login:
            oidc = any(k in s.inputs for k in login[1]) and not any(k in s.inputs for k in login[2])
            if oidc:
                return scope.credential(f"OIDC role ({login[0].split(':')[1]})", "short-lived OIDC federation",
                                        standing=False), False
            keys = sorted(secrets_in(s.text, pipe.system)) or ["cloud access key"]
            return scope.credential(keys[0], f"{pipe.system} secret (cloud key)", standing=True), True
    perms = job.permissions if job.permissions is not None else pipe.permissions
    if perms and perms.get("id-token") == "write":
        return scope.credential("OIDC token (id-token: write)", "short-lived OIDC token", standing=False), False
    return token, False


def _agent_job(scope: Scope, pipe: CiPipeline, job: CiJob, agents: list[tuple[int, CiStep, str]], wf: str,
               token: str, untrusted: list[str]) -> None:
    inv, repo, root = scope.inv, scope.repo, scope.root
    perms = job.permissions if job.permissions is not None else pipe.permissions
    writes = _writes(perms) if pipe.system == "github" else ["*"]
    governed = any(is_warden_command(s.run) or is_warden_command(s.text) or "warden" in s.uses.lower() for s in job.steps)
    controls = ["warden-ci"] if governed else []
    base = pipe.path.rsplit("/", 1)[-1]
    gate = bool(_GATE.search(job.condition + " ".join(s.condition for s in job.steps)))
    for idx, step, name in agents:
        where = scope.at(pipe.path, step.uses or step.run.split("\n")[0][:40])
        if step.uses and name == "claude-code" and step.inputs.get("allowed_non_write_users") != "*":
            gate = True  # the action itself refuses triggering users without write access unless told otherwise
        agent = inv.node(f"agent:{repo}:{pipe.path}#{job.id}:{name}", "agent", f"{name} ({base}/{job.id})", repo, where,
                         scope="ci", agent_type=name, via=step.uses or step.run[:120], workflow=pipe.path, job=job.id,
                         actor_gate=gate, warden_hooks=[])
        inv.edge(Edge(wf, "trigger", agent, repo, where, agent=False, note=f"job {job.id}"))
        paths: list[tuple[str, str, str, str, str, bool, str]] = [
            ("read-code", "code", "source code", "cat README.md", token, False, ""),
            ("run-shell", "runner", "CI runner", "make test", token, False, ""),
        ]
        may_write = writes is None or "*" in writes or "contents" in writes
        unknown = "token permissions not declared: the repository default applies (may be write-all)" if writes is None else ""
        if may_write:
            paths += [("write-code", "code", "source code", "git commit -am change", token, False, unknown),
                      ("push", "branch", "default branch", f"git push origin {scope.default_branch}", token, False, unknown)]
        if writes is None or "*" in writes or "pull-requests" in writes:
            paths.append(("open-pr", "pulls", "pull requests", "gh pr create --fill", token, False, unknown))
        visible = sorted(secrets_in(step.text + job.env_text, pipe.system))
        for sec in visible:
            cred = scope.credential(sec, f"{pipe.system} secret", standing=True)
            inv.edge(Edge(agent, "use-credential", cred, repo, scope.at(pipe.path, sec), credential=cred,
                          authority="standing", probe=bash(f"printenv {sec}", root), controls=list(controls)))
            if _PAT.search(sec):
                paths.append(("modify-workflow", "ci", "CI workflows", "git push origin HEAD", cred, True,
                              f"{sec} looks like a personal/app token, which can change workflow files"))
        id_token = bool(perms and (perms.get("id-token") == "write" or perms.get("*") == "write"))
        if id_token:
            oidc = scope.credential("OIDC token (id-token: write)", "short-lived OIDC token", standing=False)
            inv.edge(Edge(agent, "use-credential", oidc, repo, scope.at(pipe.path, "id-token"), credential=oidc,
                          authority="scoped", probe=bash("curl -H \"Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN\" "
                                                         "\"$ACTIONS_ID_TOKEN_REQUEST_URL\"", root), controls=list(controls)))
        for action, key, label, cmd, cred, standing, note in paths:
            inv.edge(Edge(agent, action, scope.target(key, label), repo, where, credential=cred,
                          authority="standing" if standing else "scoped", probe=bash(cmd, root), controls=list(controls),
                          note=note))
        # What the agent's output flows into: later steps of its job, and every job that needs it.
        reached: list[tuple[Reach, str, str]] = []
        for later in job.steps[idx + 1:]:
            reached += [(r, later.name, job.id) for r in step_reach(later)]
        for down in _downstream(pipe, job.id):
            reached += [(r, s.name, down.id) for s in down.steps for r in step_reach(s)]
        for reach, step_name, job_id in reached:
            j = next(x for x in pipe.jobs if x.id == job_id)
            s = next(x for x in j.steps if x.name == step_name)
            cred, standing = _reach_credential(scope, pipe, j, s, token)
            env = f" in environment {j.environment}" if j.environment else ""
            inv.edge(Edge(agent, reach.action, scope.target(reach.target, reach.label), repo,
                          scope.at(pipe.path, s.uses or s.run.split("\n")[0][:40]), credential=cred,
                          authority="standing" if standing else "scoped", probe=bash(reach.probe, root),
                          controls=list(controls),
                          note=f"the agent's output reaches job {job_id} step '{step_name}'{env}"))
        _findings(scope, pipe, job, agent, name, untrusted, writes, visible, id_token, reached, gate, where)


def _findings(scope: Scope, pipe: CiPipeline, job: CiJob, agent: str, name: str, untrusted: list[str],
              writes: list[str] | None, secrets: list[str], id_token: bool, reached: list[tuple[Reach, str, str]],
              gate: bool, where) -> None:
    inv, repo = scope.inv, scope.repo
    holds = []
    if writes is None:
        holds.append("the repository-default token (possibly write-all)")
    elif [w for w in writes if w != "id-token"]:
        holds.append(", ".join(f"{w}: write" for w in writes if w != "id-token") if "*" not in writes else "write-all")
    if secrets:
        holds.append("secret" + ("s " if len(secrets) > 1 else " ") + ", ".join(secrets))
    if id_token:
        holds.append("id-token: write")
    targets = sorted({r.label for r, _, _ in reached if r.action in ("deploy", "publish", "release")})
    if targets:
        holds.append("a path to " + ", ".join(targets))
    edges = [e.id for e in inv.edges_from(agent)]
    if untrusted:
        who = ", ".join(sorted({UNTRUSTED[t] for t in untrusted}))
        sev = "critical" if targets and (writes is None or writes or secrets) else "high" if (writes is None or writes or secrets or id_token) else "medium"
        if gate:
            sev = LOWER[sev]
        gated = (" An actor check narrows who can start it, but the issue, comment or PR text it reads still comes "
                 "from anyone.") if gate else ""
        inv.finding("agent-untrusted-trigger", sev,
                    f"Agent workflow triggerable by {who} holds {'; '.join(holds) or 'a read token'}",
                    f"{pipe.path} job {job.id} runs {name} on {', '.join(untrusted)}.{gated} Give the agent job "
                    "`permissions: contents: read`, no secrets beyond the model key, and put publish/deploy behind a "
                    "separate workflow with a protected environment.", repo, where, edges)
    if writes is None and pipe.system == "github":
        inv.finding("agent-default-permissions", "medium", f"Agent job {job.id} in {pipe.path} has undeclared token permissions",
                    "Without `permissions:` the job gets the repository default, which may be write-all; declare the "
                    "least the agent needs (e.g. contents: read, pull-requests: write).", repo, where, edges)
    if id_token:
        inv.finding("agent-id-token", "medium", f"Agent job {job.id} in {pipe.path} can mint OIDC tokens",
                    "id-token: write lets anything in the job (the agent's shell included) request cloud credentials "
                    "for this repository's trust policy; move cloud access to a job the agent does not run in.",
                    repo, scope.at(pipe.path, "id-token"), edges)
