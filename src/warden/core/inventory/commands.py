"""What a CI step or a shell line does, as data: agents it launches, what it publishes or deploys,
pushes, and how it gets cloud credentials. Tables, not code paths: add a row to teach a new tool."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Agent:
    name: str  # claude-code, codex, gemini, copilot, aider, ...
    via: str  # the action or command that launched it


# `uses:` prefixes of actions that run a coding agent
AGENT_ACTIONS = {
    "anthropics/claude-code-action": "claude-code",
    "anthropics/claude-code-base-action": "claude-code",
    "openai/codex-action": "codex",
    "google-github-actions/run-gemini-cli": "gemini",
    "google-gemini/gemini-cli-action": "gemini",
    "github/copilot-swe-agent": "copilot",
    "cursor/cursor-agent-action": "cursor",
}

# shell invocations of agent CLIs (npx/pip/uvx runs included)
AGENT_COMMANDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?:^|[\s;&|(/])(?:npx\s+(?:-y\s+)?@anthropic-ai/claude-code|claude\s+(?:-p|--print)\b)"), "claude-code"),
    (re.compile(r"(?:^|[\s;&|(/])(?:npx\s+(?:-y\s+)?@openai/codex|codex\s+exec\b)"), "codex"),
    (re.compile(r"(?:^|[\s;&|(/])(?:npx\s+(?:-y\s+)?@google/gemini-cli|gemini\s+(?:-p|--prompt)\b)"), "gemini"),
    (re.compile(r"(?:^|[\s;&|(/])(?:npx\s+(?:-y\s+)?@github/copilot|copilot\s+-p\b)"), "copilot"),
    (re.compile(r"(?:^|[\s;&|(/])(?:cursor-agent\b)"), "cursor"),
    (re.compile(r"(?:^|[\s;&|(/])(?:pip[x3]?\s+install\s+[^\n;&|]*aider-chat|aider\s+--(?:message|yes))"), "aider"),
    (re.compile(r"(?:^|[\s;&|(/])(?:pip[x3]?\s+install\s+[^\n;&|]*(?:openhands|swe-agent)|uvx\s+(?:openhands|sweagent))"), "openhands"),
]


@dataclass(frozen=True, slots=True)
class Reach:
    action: str  # publish | release | deploy | push | open-pr
    target: str  # target key: registry:npm, cloud:aws, branch, ...
    label: str
    probe: str  # a shell command with the same effect, for the policy engine


# One display name per target key, whichever step or tool reached it first.
TARGET_NAMES = {
    "registry:npm": "npm registry", "registry:pypi": "PyPI", "registry:crates": "crates.io",
    "registry:rubygems": "RubyGems", "registry:containers": "container registry", "release:github": "GitHub releases",
    "cloud:terraform": "Terraform-managed infrastructure", "cloud:kubernetes": "Kubernetes cluster", "cloud:aws": "AWS",
    "cloud:gcp": "Google Cloud", "cloud:azure": "Azure", "cloud:paas": "PaaS deploy (Vercel/Netlify/Fly)",
    "pages": "GitHub Pages", "branch": "default branch", "pulls": "pull requests",
}

# `run:` text patterns -> what the step reaches
RUN_REACH: list[tuple[re.Pattern[str], Reach]] = [
    (re.compile(r"\b(?:npm|yarn|pnpm)\s+(?:publish|release)\b"), Reach("publish", "registry:npm", "npm publish", "npm publish")),
    (re.compile(r"\bnpx\s+(?:-y\s+)?(?:semantic-release|changeset\s+publish|lerna\s+publish)\b"), Reach("publish", "registry:npm", "npm release tool", "npm publish")),
    (re.compile(r"\b(?:twine\s+upload|uv\s+publish|poetry\s+publish|flit\s+publish|hatch\s+publish)\b"), Reach("publish", "registry:pypi", "PyPI upload", "twine upload dist/*")),
    (re.compile(r"\bcargo\s+publish\b"), Reach("publish", "registry:crates", "cargo publish", "cargo publish")),
    (re.compile(r"\bgem\s+push\b"), Reach("publish", "registry:rubygems", "gem push", "gem push pkg.gem")),
    (re.compile(r"\b(?:docker|podman)\s+(?:push|buildx\s+build\s+[^\n]*--push)\b"), Reach("publish", "registry:containers", "container push", "docker push registry.example/app")),
    (re.compile(r"\bgh\s+release\s+(?:create|upload)\b"), Reach("release", "release:github", "GitHub release", "gh release create v1.0.0")),
    (re.compile(r"\bterraform\b[^\n;&|]*?\s(?:apply|destroy)\b"), Reach("deploy", "cloud:terraform", "terraform apply", "terraform apply -auto-approve")),
    (re.compile(r"\bkubectl\b[^\n;&|]*?\s(?:apply|set|rollout|delete|patch|replace|scale)\b"), Reach("deploy", "cloud:kubernetes", "kubectl", "kubectl apply -f k8s/")),
    (re.compile(r"\bhelm\b[^\n;&|]*?\s(?:upgrade|install|uninstall)\b"), Reach("deploy", "cloud:kubernetes", "helm", "helm upgrade --install app ./chart")),
    (re.compile(r"\baws\s+(?:s3\s+(?:sync|cp|rm)|cloudformation\s+deploy|ecs\s+update-service|lambda\s+update|deploy\b)"), Reach("deploy", "cloud:aws", "AWS CLI", "aws s3 sync ./site s3://prod-site")),
    (re.compile(r"\bgcloud\s+(?:run\s+deploy|app\s+deploy|functions\s+deploy|compute|container)\b"), Reach("deploy", "cloud:gcp", "gcloud", "gcloud run deploy app")),
    (re.compile(r"\baz\s+(?:webapp|functionapp|deployment|aks)\b"), Reach("deploy", "cloud:azure", "Azure CLI", "az webapp deploy --name app")),
    (re.compile(r"\b(?:flyctl|fly)\s+deploy\b|\bvercel\b[^\n]*--prod|\bnetlify\s+deploy\b|\bserverless\s+deploy\b|\bsls\s+deploy\b"), Reach("deploy", "cloud:paas", "PaaS deploy", "vercel deploy --prod")),
    (re.compile(r"\bgit\s+push\b"), Reach("push", "branch", "git push", "git push origin HEAD")),
    (re.compile(r"\bgh\s+pr\s+(?:create|merge)\b"), Reach("open-pr", "pulls", "gh pr", "gh pr create --fill")),
]

# `uses:` prefixes -> what the step reaches
USES_REACH: dict[str, Reach] = {
    "pypa/gh-action-pypi-publish": Reach("publish", "registry:pypi", "PyPI publish action", "twine upload dist/*"),
    "js-devtools/npm-publish": Reach("publish", "registry:npm", "npm publish action", "npm publish"),
    "changesets/action": Reach("publish", "registry:npm", "changesets", "npm publish"),
    "docker/build-push-action": Reach("publish", "registry:containers", "docker build-push", "docker push registry.example/app"),
    "softprops/action-gh-release": Reach("release", "release:github", "GitHub release action", "gh release create v1.0.0"),
    "ncipollo/release-action": Reach("release", "release:github", "GitHub release action", "gh release create v1.0.0"),
    "azure/webapps-deploy": Reach("deploy", "cloud:azure", "Azure web app deploy", "az webapp deploy --name app"),
    "azure/k8s-deploy": Reach("deploy", "cloud:kubernetes", "AKS deploy", "kubectl apply -f k8s/"),
    "google-github-actions/deploy-cloudrun": Reach("deploy", "cloud:gcp", "Cloud Run deploy", "gcloud run deploy app"),
    "aws-actions/amazon-ecs-deploy-task-definition": Reach("deploy", "cloud:aws", "ECS deploy", "aws ecs update-service --service app"),
    "hashicorp/tfc-workflows-github": Reach("deploy", "cloud:terraform", "Terraform Cloud", "terraform apply -auto-approve"),
    "peaceiris/actions-gh-pages": Reach("deploy", "pages", "GitHub Pages", "git push origin gh-pages"),
    "actions/deploy-pages": Reach("deploy", "pages", "GitHub Pages", "git push origin gh-pages"),
    "peter-evans/create-pull-request": Reach("open-pr", "pulls", "create-pull-request", "gh pr create --fill"),
    "stefanzweifel/git-auto-commit-action": Reach("push", "branch", "auto-commit", "git push origin HEAD"),
}

# cloud login actions: (uses prefix, cloud, input keys that mean OIDC, input keys that mean a long-lived key)
CLOUD_LOGIN = {
    "aws-actions/configure-aws-credentials": ("cloud:aws", ("role-to-assume",), ("aws-access-key-id", "aws-secret-access-key")),
    "google-github-actions/auth": ("cloud:gcp", ("workload_identity_provider",), ("credentials_json",)),
    "azure/login": ("cloud:azure", ("client-id",), ("creds",)),
}

CREDENTIAL_NAME = re.compile(r"(?i)(token|secret|passw(or)?d|api[_-]?key|private[_-]?key|credential|auth|pat\b|_key\b|^key$)")


def agents_in_run(text: str) -> list[str]:
    return [name for rx, name in AGENT_COMMANDS if rx.search(text)]


def _by_action(table: dict[str, T], uses: str) -> T | None:
    """The row for a `uses: owner/repo[/path]@ref` (the ref and sub-path do not matter)."""
    base = uses.split("@")[0].lower()
    for prefix, row in table.items():
        if base == prefix or base.startswith(prefix + "/"):
            return row
    return None


def agent_for_uses(uses: str) -> str | None:
    return _by_action(AGENT_ACTIONS, uses)


def reach_in_run(text: str) -> list[Reach]:
    return [reach for rx, reach in RUN_REACH if rx.search(text)]


def reach_for_uses(uses: str) -> Reach | None:
    return _by_action(USES_REACH, uses)


def looks_like_credential(name: str) -> bool:
    return bool(CREDENTIAL_NAME.search(name))


WARDEN_CONTROL = re.compile(r"(?:^|[\s/'\"])warden['\"]?\s+(?:hook|mcp\s+proxy|exec|install|decide)\b")


def is_warden_command(text: str) -> bool:
    return bool(WARDEN_CONTROL.search(text))
