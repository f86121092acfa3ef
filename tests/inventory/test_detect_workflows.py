"""CI workflows: agents they run, who can trigger them, what the agent holds and what its output reaches."""

from __future__ import annotations

import pytest

from tests.inventory.helpers import edge, make_repo, rules, scan, severity_of, triples

COMMENT_AGENT = """
on:
  issue_comment:
    types: [created]
permissions:
  contents: write
  pull-requests: write
jobs:
  agent:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: anthropics/claude-code-action@v1
        with:
          anthropic_api_key: ${{ secrets.ANTHROPIC_API_KEY }}
          allowed_non_write_users: "*"
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
"""

CASES = [
    ("commenter-triggered agent with write and a publish path", COMMENT_AGENT,
     {"agent-untrusted-trigger": "critical"}),
    ("the action's own write-access check lowers it", COMMENT_AGENT.replace('          allowed_non_write_users: "*"\n', ""),
     {"agent-untrusted-trigger": "high"}),
    ("an author_association condition lowers it", COMMENT_AGENT.replace(
        "    runs-on: ubuntu-latest", "    if: github.event.comment.author_association == 'OWNER'\n    runs-on: ubuntu-latest"),
     {"agent-untrusted-trigger": "high"}),
    ("read-only agent on comments is medium", """
on: issue_comment
permissions: {contents: read}
jobs:
  a:
    steps:
      - run: npx -y @anthropic-ai/claude-code -p "triage"
""", {"agent-untrusted-trigger": "medium"}),
    ("undeclared permissions", """
on: [push]
jobs:
  a:
    steps:
      - run: codex exec "fix lint"
""", {"agent-default-permissions": "medium"}),
    ("id-token in the agent job", """
on: workflow_dispatch
permissions: {contents: read, id-token: write}
jobs:
  a:
    steps:
      - uses: openai/codex-action@v1
""", {"agent-id-token": "medium"}),
    ("pull_request_target checking out the head", """
on: pull_request_target
jobs:
  a:
    permissions: {contents: read}
    steps:
      - uses: actions/checkout@v4
        with: {ref: "${{ github.event.pull_request.head.sha }}"}
      - uses: google-github-actions/run-gemini-cli@v0
""", {"pull-request-target-checkout": "critical", "agent-untrusted-trigger": "medium"}),
]


@pytest.mark.parametrize("name,workflow,expected", CASES, ids=[c[0] for c in CASES])
def test_workflow_findings(tmp_path, name, workflow, expected):
    inv = scan(make_repo(tmp_path / "repo", {".github/workflows/agent.yml": workflow}))
    for rule, severity in expected.items():
        assert severity_of(inv, rule) == severity, rule


def test_paths_of_an_agent_job(tmp_path):
    inv = scan(make_repo(tmp_path / "repo", {".github/workflows/agent.yml": COMMENT_AGENT}))
    agent = "claude-code (agent.yml/agent)"
    t = triples(inv)
    assert {"any commenter -trigger-> .github/workflows/agent.yml", f".github/workflows/agent.yml -trigger-> {agent}",
            f"{agent} -push-> default branch", f"{agent} -open-pr-> pull requests",
            f"{agent} -use-credential-> ANTHROPIC_API_KEY", f"{agent} -publish-> npm registry"} <= t
    pub = edge(inv, agent, "publish")
    assert inv.nodes[pub.credential].name == "NPM_TOKEN" and pub.authority == "standing"
    assert pub.classification == "ungoverned" and pub.verdict["decision"] == "ask"
    push = edge(inv, agent, "push")
    assert inv.nodes[push.credential].name == "GITHUB_TOKEN" and push.authority == "scoped"


def test_agent_output_reaches_downstream_deploy_with_oidc(tmp_path):
    wf = """
on: {push: {branches: [main]}}
permissions: {contents: read, id-token: write}
jobs:
  fix:
    steps:
      - run: npx @openai/codex exec "update snapshots"
  deploy:
    needs: fix
    environment: production
    steps:
      - uses: aws-actions/configure-aws-credentials@v4
        with: {role-to-assume: "arn:aws:iam::1:role/deploy", aws-region: eu-west-1}
      - run: terraform -chdir=infra apply -auto-approve
  legacy:
    steps:
      - uses: aws-actions/configure-aws-credentials@v4
        with: {aws-access-key-id: "${{ secrets.AWS_KEY_ID }}", aws-secret-access-key: "${{ secrets.AWS_SECRET }}"}
      - run: aws s3 sync site s3://prod
"""
    inv = scan(make_repo(tmp_path / "repo", {".github/workflows/deploy.yml": wf}))
    dep = edge(inv, "codex (deploy.yml/fix)", "deploy", "Terraform-managed infrastructure")
    assert inv.nodes[dep.credential].name == "OIDC role (aws)" and dep.authority == "scoped"
    assert "production" in dep.note
    legacy = edge(inv, ".github/workflows/deploy.yml", "deploy", "AWS")
    assert legacy.agent is False and legacy.classification == "context" and legacy.authority == "standing"
    assert inv.nodes[legacy.credential].name == "AWS_KEY_ID"


def test_warden_step_governs_the_agent_job(tmp_path):
    wf = """
on: workflow_dispatch
permissions: {contents: write}
jobs:
  a:
    steps:
      - run: pip install warden && warden install claude-code --scope project
      - uses: anthropics/claude-code-action@v1
"""
    inv = scan(make_repo(tmp_path / "repo", {".github/workflows/a.yml": wf}))
    push = edge(inv, "claude-code (a.yml/a)", "push")
    assert push.controls == ["warden-ci"] and push.classification == "approval-required"


def test_plain_publish_with_long_lived_token_and_trusted_publishing(tmp_path):
    inv = scan(make_repo(tmp_path / "repo", {
        ".github/workflows/npm.yml": "on: {release: {types: [published]}}\njobs:\n  p:\n    steps:\n      - run: npm publish\n"
                                     "        env: {NODE_AUTH_TOKEN: '${{ secrets.NPM_TOKEN }}'}\n",
        ".github/workflows/pypi.yml": "on: {release: {}}\npermissions: {id-token: write}\njobs:\n  p:\n    steps:\n"
                                      "      - uses: pypa/gh-action-pypi-publish@release/v1\n",
    }))
    assert [f.where.path for f in inv.findings if f.rule == "publish-long-lived-credential"] == [".github/workflows/npm.yml"]
    pypi = edge(inv, ".github/workflows/pypi.yml", "publish", "PyPI")
    assert pypi.authority == "scoped" and "OIDC" in inv.nodes[pypi.credential].name


def test_gitlab_ci_agent_job(tmp_path):
    ci = """
stages: [review, deploy]
review:
  stage: review
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
  script:
    - npx -y @anthropic-ai/claude-code -p "review this MR" --allowedTools Bash
deploy:
  stage: deploy
  needs: [review]
  environment: production
  script:
    - helm upgrade --install app ./chart --set token=$DEPLOY_TOKEN
"""
    inv = scan(make_repo(tmp_path / "repo", {".gitlab-ci.yml": ci}))
    agent = "claude-code (.gitlab-ci.yml/review)"
    dep = edge(inv, agent, "deploy", "Kubernetes cluster")
    assert inv.nodes[dep.credential].name == "DEPLOY_TOKEN"
    assert edge(inv, agent, "push").credential.endswith("CI_JOB_TOKEN")
    assert "merge_request" in inv.nodes["workflow:repo:.gitlab-ci.yml"].detail["triggers"]


@pytest.mark.parametrize("text,kind", [
    ("on: [push\njobs: {", "malformed"),
    ("a: &a [x, x]\n" + "".join(f"b{i}: &b{i} [*{'a' if i == 0 else 'b' + str(i - 1)}, *{'a' if i == 0 else 'b' + str(i - 1)}]\n" for i in range(300)), "malformed"),
    ("- just\n- a list\n", "malformed"),
])
def test_bad_workflows_are_reported(tmp_path, text, kind):
    inv = scan(make_repo(tmp_path / "repo", {".github/workflows/bad.yml": text}))
    assert [p.kind for p in inv.problems if p.path == ".github/workflows/bad.yml"] == [kind]
    assert "file-malformed" in rules(inv)


@pytest.mark.parametrize("branches,reaches", [("[main]", True), ("['ma*']", True), ("[release/*]", False), (None, True)])
def test_a_push_to_the_default_branch_reaches_what_pushes_deploy(tmp_path, branches, reaches):
    on = f"on: {{push: {{branches: {branches}}}}}" if branches else "on: push"
    deploy = f"{on}\njobs:\n  d:\n    steps:\n      - run: kubectl apply -f k8s/\n        env: {{KUBE_TOKEN: '${{{{ secrets.KUBE_TOKEN }}}}'}}\n"
    inv = scan(make_repo(tmp_path / "repo", {"CLAUDE.md": "x", ".github/workflows/deploy.yml": deploy}))
    found = [e for e in inv.edges.values() if e.source == "agent:repo:claude-code" and e.action == "deploy"]
    assert bool(found) is reaches
    if reaches:
        e = found[0]
        assert inv.nodes[e.credential].name == "KUBE_TOKEN" and e.authority == "standing"
        assert e.probe["tool_input"]["command"] == "git push origin main"  # Warden gates the push, not CI's deploy
        assert "by pushing to main" in e.note and e.classification == "ungoverned"


def test_untrusted_agent_that_pushes_reaches_push_triggered_deploys(tmp_path):
    agent_wf = """
on: issue_comment
permissions: {contents: write}
jobs:
  a:
    steps:
      - uses: anthropics/claude-code-action@v1
        with: {allowed_non_write_users: "*"}
"""
    deploy = "on: {push: {branches: [main]}}\njobs:\n  d:\n    steps:\n      - run: helm upgrade app ./chart\n"
    files = {".github/workflows/agent.yml": agent_wf}
    before = severity_of(scan(make_repo(tmp_path / "a", files)), "agent-untrusted-trigger")
    inv = scan(make_repo(tmp_path / "b", {**files, ".github/workflows/deploy.yml": deploy}))
    f = next(f for f in inv.findings if f.rule == "agent-untrusted-trigger")
    assert (before, f.severity) == ("high", "critical")
    assert "also reach Kubernetes cluster" in f.message
    assert any(inv.edges[x].action == "deploy" for x in f.edges)
