"""A CI system-neutral view of a pipeline (GitHub Actions workflow, GitLab CI file), so one module
turns both into graph paths and findings."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CiStep:
    name: str
    uses: str = ""
    run: str = ""
    inputs: dict[str, str] = field(default_factory=dict)  # `with:` for actions
    text: str = ""  # everything in the step as text (secrets and env references are found here)
    condition: str = ""


@dataclass
class CiJob:
    id: str
    steps: list[CiStep]
    needs: list[str] = field(default_factory=list)
    environment: str = ""
    permissions: dict[str, str] | None = None  # None: not declared (the repository default applies)
    condition: str = ""
    text: str = ""
    env_text: str = ""  # job-level environment: what every step (the agent included) can read


@dataclass
class CiPipeline:
    path: str
    system: str  # github | gitlab
    triggers: list[str]
    jobs: list[CiJob]
    permissions: dict[str, str] | None = None
    token: str = "GITHUB_TOKEN"
    push_branches: list[str] | None = None  # branch filters of the push trigger; None: every branch
