"""The policy file schema (pydantic). ``warden policy schema`` exports it as JSON Schema.

A closed set of fields: unknown keys are errors, so a typo never silently weakens a rule.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Effect = Literal["allow", "ask", "deny"]
AccessName = Literal["read", "write", "delete", "exec"]
StrList = list[str]


def _listify(v: Any) -> Any:
    return [v] if isinstance(v, str) else v


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActorMatch(_Strict):
    id: StrList | None = Field(None, description="Globs on the actor identity (a person or service).")
    agent: StrList | None = Field(None, description="Globs on the agent name, e.g. claude-code, cursor.")
    role: StrList | None = Field(None, description="Globs; any of the actor's roles may match.")

    _l = field_validator("id", "agent", "role", mode="before")(_listify)


class MatchSpec(_Strict):
    tool: StrList | None = Field(None, description="Globs on the tool name: Bash, Read, mcp__github__*.")
    program: StrList | None = Field(None, description="Globs on the normalized program of a simple command.")
    command: StrList | None = Field(
        None, description="Token patterns on normalized argv, prefix match; * one token, ** any run."
    )
    path: StrList | None = Field(None, description="gitignore-style globs on resolved paths.")
    access: list[AccessName] | None = Field(None, description="Path accesses that path/in_workspace look at.")
    in_workspace: bool | None = Field(
        None, description="true: every such path is inside the workspace; false: at least one is outside."
    )
    host: StrList | None = Field(None, description="Host globs: *.example.com, .example.com, example.com.")
    facts: StrList | None = Field(None, description="Globs on fact kinds: git.force_push, secret.*.")
    actor: ActorMatch | None = None
    context: dict[str, StrList] | None = Field(None, description="Context key -> globs, e.g. environment: [prod].")

    _l = field_validator("tool", "program", "command", "path", "access", "host", "facts", mode="before")(_listify)

    @field_validator("context", mode="before")
    @classmethod
    def _ctx(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: _listify(x) for k, x in v.items()}
        return v

    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in MatchSpec.model_fields)


class Examples(_Strict):
    match: list[str | dict[str, Any]] = Field(default_factory=list)
    not_match: list[str | dict[str, Any]] = Field(default_factory=list)


class Rule(MatchSpec):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", description="Unique kebab-case id.")
    effect: Effect
    reason: str = Field(min_length=1, description="Shown to the agent and the human: what and why.")
    unless: MatchSpec | None = Field(None, description="The rule does not apply when this matches.")
    examples: Examples | None = None


class Limits(_Strict):
    cpu_seconds: int = Field(600, ge=1)
    memory_mb: int = Field(4096, ge=16)
    processes: int = Field(512, ge=1)
    wall_seconds: int = Field(1800, ge=1)


class SandboxProfile(_Strict):
    writable: StrList = Field(default_factory=list, description="Extra writable paths.")
    read_only: StrList = Field(default_factory=list, description="Extra protected paths, read-only inside.")
    masked: StrList = Field(default_factory=list, description="Extra secret paths hidden from the sandbox.")
    network: Literal["none", "proxy"] = "none"
    allow_domains: StrList = Field(default_factory=list, description="Egress allowlist when network: proxy.")
    allow_private: StrList = Field(
        default_factory=list, description="Allowlisted hosts (globs) or CIDRs that may resolve to private addresses "
        "(internal registries); metadata endpoints stay refused.")
    upstream_proxy: str = Field("", description="http://HOST:PORT of a corporate proxy to go through, or `env` "
                                "($HTTPS_PROXY).")
    env_allow: StrList = Field(default_factory=list, description="Extra environment variables to keep.")
    limits: Limits = Field(default_factory=Limits)


class Sandbox(_Strict):
    claude_code: bool = Field(False, description="Run allowed Claude Code Bash commands under `warden exec`.")
    allow_unsandboxed: bool = Field(False, description="Permit `warden exec --no-sandbox`.")
    profiles: dict[str, SandboxProfile] = Field(default_factory=dict)


class Settings(_Strict):
    protected_branches: StrList = Field(
        default_factory=lambda: ["main", "master"], description="Branches that force-push/deletion rules guard."
    )
    ask_fallback: Effect = Field(
        "deny", description="What adapters that cannot ask a human do with an ask (deny or allow)."
    )
    environments: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Environment name -> {VARIABLE: glob}: the first whose variables all match names "
        "context.environment (before the built-in ci / local).",
    )


LOCKABLE = ("default", "disable", "settings", "sandbox", "trust")


class PolicyFile(_Strict):
    version: Literal[1] = 1
    default: Effect | None = Field(None, description="Effect when no rule matches a subject.")
    settings: Settings | None = None
    sandbox: Sandbox | None = None
    disable: StrList = Field(default_factory=list, description="Rule ids of lower layers to switch off.")
    lock: list[Literal["default", "disable", "settings", "sandbox", "trust"]] = Field(
        default_factory=list, description="Managed layer only: what lower layers may not change "
        "(`trust`: `warden trust` cannot make a project's loosening take effect)."
    )
    trusted_projects: StrList = Field(
        default_factory=list, description="Managed layer only: globs on project policy paths whose loosening "
        "applies without `warden trust`.",
    )
    rules: list[Rule] = Field(default_factory=list)
