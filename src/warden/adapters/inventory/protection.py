"""Branch protection as declared in the checkout: CODEOWNERS, exported rulesets, Probot settings.
What only the hosting API can show (the live rules, required reviews, environment reviewers) is said
so in the report instead of being guessed."""

from __future__ import annotations

from typing import Any

from warden.adapters.inventory.base import Scope
from warden.core.review.codeowners import LOCATIONS, parse

API_NOTE = ("Live branch protection, rulesets, required reviewers and environment protection rules are not in the "
            "checkout; check them with the hosting API (GitHub: GET /repos/OWNER/REPO/rules/branches/BRANCH and "
            "/environments; GitLab: GET /projects/:id/protected_branches).")


def detect(scope: Scope) -> None:
    if scope.kind != "project":
        return
    owners_file = next((p for p in LOCATIONS if scope.files.exists(p)), "")
    rules, bad_lines = parse(scope.files.text(owners_file) or "") if owners_file else ([], [])
    for problem in bad_lines:
        scope.inv.problem(scope.repo, owners_file, "malformed", problem)
    scope.extra["codeowners"] = rules
    declared: list[dict[str, Any]] = []
    rulesets = scope.files.find(".github/rulesets/*.json")
    for rel in rulesets:
        data = scope.files.parsed(rel, "json")
        if isinstance(data, dict):
            kinds = sorted({str(r.get("type")) for r in data.get("rules") or [] if isinstance(r, dict)})
            declared.append({"file": rel, "name": data.get("name"), "enforcement": data.get("enforcement"), "rules": kinds})
    settings = ".github/settings.yml"
    if scope.files.exists(settings):
        data = scope.files.parsed(settings, "yaml")
        branches = data.get("branches") if isinstance(data, dict) else None
        for b in branches or [] if isinstance(branches, list) else []:
            if isinstance(b, dict) and b.get("protection"):
                declared.append({"file": settings, "name": b.get("name"), "enforcement": "probot-settings",
                                 "rules": sorted((b.get("protection") or {}).keys()) if isinstance(b.get("protection"), dict) else []})
    branch = scope.target("branch", "default branch", branch=scope.default_branch, codeowners=owners_file or None,
                          declared_protection=declared, visibility=API_NOTE)
    scope.inv.nodes[branch].detail["declared_protection"] = declared
    if not owners_file:
        scope.inv.finding("no-codeowners", "low", "No CODEOWNERS file",
                          "Nobody is required to review changes to agent configs, instructions or workflows; add "
                          ".github/CODEOWNERS covering at least .github/, .claude/, .mcp.json and instruction files.",
                          scope.repo)
    scope.inv.finding("protection-not-visible", "info", "Branch protection cannot be verified from the checkout",
                      API_NOTE + (f" Declared here: {', '.join(d['file'] for d in declared)}." if declared else ""),
                      scope.repo)
