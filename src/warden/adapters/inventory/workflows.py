"""GitHub Actions workflows and GitLab CI files -> :class:`CiPipeline` (parsing only; see ci_paths)."""

from __future__ import annotations

import json
from typing import Any

from warden.adapters.inventory.base import Scope
from warden.adapters.inventory.ci_model import CiJob, CiPipeline, CiStep
from warden.adapters.inventory.ci_paths import add_pipeline
from warden.adapters.inventory.files import as_dict, as_list

GITLAB_RESERVED = frozenset({"stages", "variables", "include", "default", "workflow", "image", "services", "cache",
                             "before_script", "after_script", "pages:deploy"})


def _text(value: Any) -> str:
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return str(value)


def _permissions(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return {"*": "write" if value == "write-all" else "read"}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return {}


def _triggers(on: Any) -> list[str]:
    if isinstance(on, str):
        return [on]
    if isinstance(on, list):
        return [str(t) for t in on]
    if isinstance(on, dict):
        return [str(t) for t in on]
    return []


def github_pipeline(path: str, doc: Any) -> CiPipeline | None:
    if not isinstance(doc, dict) or not isinstance(doc.get("jobs"), dict):
        return None
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on:` key as the boolean True
    jobs = []
    for job_id, job in doc["jobs"].items():
        if not isinstance(job, dict):
            continue
        steps = []
        for i, st in enumerate(as_list(job.get("steps"))):
            if not isinstance(st, dict):
                continue
            inputs = as_dict(st.get("with"))
            steps.append(CiStep(name=str(st.get("name") or st.get("id") or f"step {i + 1}"), uses=str(st.get("uses") or ""),
                                run=str(st.get("run") or ""), inputs={str(k): str(v) for k, v in inputs.items()},
                                text=_text(st), condition=str(st.get("if") or "")))
        if isinstance(job.get("uses"), str):  # a reusable workflow call: its content is elsewhere
            steps.append(CiStep(name=f"calls {job['uses']}", uses=str(job["uses"]), text=_text(job)))
        env = job.get("environment")
        jobs.append(CiJob(id=str(job_id), steps=steps, needs=[str(n) for n in as_list(job.get("needs"))],
                          environment=str(env.get("name", "") if isinstance(env, dict) else env or ""),
                          permissions=_permissions(job.get("permissions")), condition=str(job.get("if") or ""),
                          text=_text(job), env_text=_text(job.get("env") or {})))
    push = on.get("push") if isinstance(on, dict) else None
    branches = push.get("branches") if isinstance(push, dict) else None
    return CiPipeline(path, "github", _triggers(on), jobs, _permissions(doc.get("permissions")),
                      push_branches=[str(b) for b in branches] if isinstance(branches, list) else None)


def gitlab_pipeline(path: str, doc: Any) -> CiPipeline | None:
    if not isinstance(doc, dict):
        return None
    triggers: set[str] = set()
    text = _text(doc)
    if "merge_request_event" in text:
        triggers.add("merge_request")
    if "$CI_COMMIT_BRANCH" in text or "$CI_DEFAULT_BRANCH" in text or "only" in text or not triggers:
        triggers.add("push")
    if '"schedule"' in text:
        triggers.add("schedule")
    if "trigger" in text and "$CI_PIPELINE_SOURCE" in text:
        triggers.add("api")
    jobs = []
    for job_id, job in doc.items():
        if str(job_id) in GITLAB_RESERVED or str(job_id).startswith(".") or not isinstance(job, dict):
            continue
        script = job.get("script")
        if script is None and "trigger" not in job:
            continue
        lines = []
        for part in ("before_script", "script", "after_script"):
            v = job.get(part)
            lines += [str(x) for x in v] if isinstance(v, list) else ([str(v)] if v else [])
        env = job.get("environment")
        steps = [CiStep(name=f"{job_id} script", run="\n".join(lines), text=_text(job))]
        jobs.append(CiJob(id=str(job_id), steps=steps,
                          needs=[n if isinstance(n, str) else str(n.get("job", "")) for n in as_list(job.get("needs"))
                                 if isinstance(n, (str, dict))],
                          environment=str(env.get("name", "") if isinstance(env, dict) else env or ""),
                          permissions={"*": "job-token"}, condition=_text(job.get("rules") or job.get("only") or ""),
                          text=_text(job), env_text=_text(job.get("variables") or {}) + _text(doc.get("variables") or {})))
    return CiPipeline(path, "gitlab", sorted(triggers), jobs, {"*": "job-token"}, token="CI_JOB_TOKEN")


def detect(scope: Scope) -> None:
    if scope.kind != "project":
        return
    for rel in scope.files.find(".github/workflows/*.yml", ".github/workflows/*.yaml"):
        pipe = github_pipeline(rel, scope.files.parsed(rel, "yaml"))
        if pipe is not None:
            add_pipeline(scope, pipe)
        elif scope.files.text(rel) is not None and scope.files.parsed(rel, "yaml") is not None:
            scope.inv.problem(scope.repo, rel, "malformed", "not a GitHub Actions workflow (no jobs: mapping)")
    for rel in scope.files.find(".gitlab-ci.yml", ".gitlab/ci/*.yml", ".gitlab/ci/*.yaml"):
        pipe = gitlab_pipeline(rel, scope.files.parsed(rel, "yaml"))
        if pipe is not None:
            add_pipeline(scope, pipe)
