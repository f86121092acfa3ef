"""The policy file schema (pydantic). ``warden policy schema`` exports it as JSON Schema.

A closed set of fields: unknown keys are errors, so a typo never silently weakens a rule.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
    tainted: bool | None = Field(
        None, description="true: only in a session that took in untrusted content (see docs/approvals.md#taint).")

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


_DURATION = r"^\s*[1-9][0-9]*\s*[smhd]\s*$"


class Approvers(_Strict):
    id: StrList | None = Field(None, description="Identities that may approve (exact ids).")
    role: StrList | None = Field(None, description="Roles whose holders may approve.")

    _l = field_validator("id", "role", mode="before")(_listify)


class Approval(_Strict):
    """Where an ``ask`` goes and what an approval means (docs/approvals.md)."""

    route: Literal["native", "queue"] = Field(
        "native", description="native: the agent's own prompt; queue: Warden's approval queue.")
    approvers: Approvers | None = Field(None, description="Who may approve (ids and/or roles); anyone else if unset.")
    quorum: int = Field(1, ge=1, le=10, description="Distinct approvers needed.")
    expires: str = Field("10m", pattern=_DURATION, description="How long a request waits before it is denied.")
    grant: str = Field("once", pattern=r"^(once|session|\s*[1-9][0-9]*\s*[smhd]\s*)$",
                       description="What one approval covers: once, session, or a duration like 30m.")

    @field_validator("approvers", mode="before")
    @classmethod
    def _ids(cls, v: Any) -> Any:
        return {"id": _listify(v)} if isinstance(v, (str, list)) else v


def _limit_shorthand(v: Any) -> Any:
    return {"max": v} if isinstance(v, str) else v


class RuleLimit(_Strict):
    """A budget on how often a rule may match (docs/approvals.md#limits)."""

    max: str = Field(pattern=r"^\s*[1-9][0-9]*\s*/\s*(session|task|[1-9][0-9]*\s*[smhd])\s*$",
                     description="COUNT/WINDOW: 10/session, 50/task, 100/1h.")
    per: Literal["actor", "agent", "session", "rule", "tool"] = Field(
        "session", description="What the count is kept for.")
    on_exceed: Literal["ask", "deny"] = Field("deny", description="The effect once the count is exceeded.")


class Rule(MatchSpec):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", description="Unique kebab-case id.")
    effect: Effect
    reason: str = Field(min_length=1, description="Shown to the agent and the human: what and why.")
    unless: MatchSpec | None = Field(None, description="The rule does not apply when this matches.")
    examples: Examples | None = None
    approval: Approval | None = Field(None, description="effect: ask only: route, approvers, quorum, expires, grant.")
    limit: RuleLimit | None = Field(None, description="A budget: `10/session` or {max, per, on_exceed}.")
    review: Literal["auto"] | None = Field(
        None, description="effect: ask only: the reviewer model (settings.reviewer) may approve it or escalate "
        "to a person (docs/review.md).")

    _limit = field_validator("limit", mode="before")(_limit_shorthand)

    @field_validator("review")
    @classmethod
    def _review_ask_only(cls, v: str | None, info: Any) -> str | None:
        if v is not None and info.data.get("effect") != "ask":
            raise ValueError("`review: auto` only applies to rules with effect: ask (a deny is never reviewed away)")
        return v

    @field_validator("approval")
    @classmethod
    def _ask_only(cls, v: Approval | None, info: Any) -> Approval | None:
        if v is not None and info.data.get("effect") != "ask":
            raise ValueError("`approval:` only applies to rules with effect: ask")
        return v


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


class LoopBreaker(_Strict):
    repeat: int = Field(ge=2, le=10000, description="Identical consecutive actions that trip the breaker.")
    effect: Literal["ask", "deny"] = "ask"


class Reviewer(_Strict):
    """The auto-review tier's model: any OpenAI-compatible chat endpoint."""

    url: str = Field(pattern=r"^https?://", description="Base URL, e.g. http://127.0.0.1:8000/v1 (vLLM, Ollama).")
    model: str = Field(min_length=1, description="The model name the endpoint serves.")
    api_key_env: str | None = Field(None, description="Environment variable holding the API key (never the key).")
    timeout_s: float = Field(10.0, gt=0, le=120, description="No answer by then: a person decides.")
    max_risk: Literal["low", "medium"] = Field("low", description="The highest risk the reviewer may approve.")


PII_KINDS = ("card", "iban", "ssn", "national_id", "phone", "email", "dob", "phi")


class ClearanceRule(_Strict):
    actor: ActorMatch = Field(description="Who (id / agent / role globs).")
    # `class` is a Python keyword: the YAML key is `class`, the attribute `level`
    level: str = Field(alias="class", description="The highest data class they may read.")


class Clearance(_Strict):
    default: str = Field("internal", description="Clearance of anyone no rule names.")
    rules: list[ClearanceRule] = Field(default_factory=list, description="First match wins.")


class Destinations(_Strict):
    default: str = Field("public", description="What an unknown host or destination may receive.")
    hosts: dict[str, str] = Field(default_factory=dict, description="Host glob -> highest class it may receive.")
    mcp: dict[str, str] = Field(default_factory=dict, description="MCP server -> highest class it may receive.")
    models: dict[str, str] = Field(default_factory=dict, description="Model provider -> highest class.")
    remotes: dict[str, str] = Field(default_factory=dict, description="git remote name or URL glob -> class.")


class DataPolicy(_Strict):
    """Data classes: what an agent may read, and where data may go (docs/data.md)."""

    classes: StrList = Field(default_factory=lambda: ["public", "internal", "confidential", "restricted"],
                             description="Ordered, lowest first.")
    paths: dict[str, StrList] = Field(default_factory=dict, description="Class -> path globs (like rule paths).")
    hosts: dict[str, StrList] = Field(default_factory=dict, description="Class -> host globs whose content it is.")
    mcp: dict[str, str] = Field(default_factory=dict, description="MCP server -> class of what it returns.")
    owners: dict[str, str] = Field(default_factory=dict, description="Connector (MCP server, tool glob) -> the "
                                   "team or person who owns it and answers for its data (shown in verdicts and "
                                   "the Action BOM).")
    tools: dict[str, str] = Field(default_factory=dict, description="Tool name glob -> class of what it returns.")
    content: dict[str, str] = Field(default_factory=dict, description="Detected kind (card, iban, ssn, national_id, "
                                    "phone, email, dob, phi, secret) -> class.")
    clearance: Clearance = Field(default_factory=Clearance)
    destinations: Destinations = Field(default_factory=Destinations)
    on_read_above: Literal["ask", "deny"] = Field("deny", description="A read above the reader's clearance.")
    on_send_above: Literal["ask", "deny"] = Field("deny", description="Data sent to a destination cleared below it.")
    redact: list[str] = Field(default_factory=lambda: ["card", "ssn", "national_id"],
                              description="Detected kinds redacted from tool outputs, prompts and audit records.")

    @field_validator("redact")
    @classmethod
    def _kinds(cls, v: list[str]) -> list[str]:
        bad = [k for k in v if k not in PII_KINDS]
        if bad:
            raise ValueError(f"unknown personal-data kind(s) {bad}; known: {', '.join(PII_KINDS)}")
        return v

    @model_validator(mode="after")
    def _known_classes(self) -> DataPolicy:
        known = set(self.classes)
        if len(known) != len(self.classes):
            raise ValueError("data classes must be unique")
        used: list[tuple[str, str]] = [(f"paths.{c}", c) for c in self.paths] + [(f"hosts.{c}", c) for c in self.hosts]
        used += [(f"mcp.{k}", v) for k, v in self.mcp.items()] + [(f"tools.{k}", v) for k, v in self.tools.items()]
        used += [(f"content.{k}", v) for k, v in self.content.items()]
        used += [("clearance.default", self.clearance.default)]
        used += [(f"clearance.rules[{i}]", r.level) for i, r in enumerate(self.clearance.rules)]
        d = self.destinations
        used += [("destinations.default", d.default)]
        for group in ("hosts", "mcp", "models", "remotes"):
            used += [(f"destinations.{group}.{k}", v) for k, v in getattr(d, group).items()]
        for where, cls in used:
            if cls not in known:
                raise ValueError(f"{where}: unknown data class {cls!r}; the classes are {', '.join(self.classes)}")
        unknown_kinds = [k for k in self.content if k not in (*PII_KINDS, "secret")]
        if unknown_kinds:
            raise ValueError(f"content: unknown kind(s) {unknown_kinds}; known: {', '.join(PII_KINDS)}, secret")
        return self


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
    loop_breaker: LoopBreaker | None = Field(
        None, description="Escalate the same action repeated this many times in a row in one session.")
    trusted_mcp: StrList = Field(
        default_factory=list, description="MCP servers whose results do not taint the session.")
    reviewer: Reviewer | None = Field(None, description="The reviewer model for rules with `review: auto`.")


class ModelApproval(_Strict):
    provider: StrList = Field(default_factory=lambda: ["*"], description="Upstream names (globs), e.g. anthropic.")
    model: StrList = Field(default_factory=lambda: ["*"], description="Model ids (globs), e.g. claude-sonnet-*.")
    actor: ActorMatch | None = Field(None, description="Who may use it (id / agent / role globs); anyone if absent.")

    _l = field_validator("provider", "model", mode="before")(_listify)


class ModelBudget(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", description="Name shown when the budget runs out.")
    per: Literal["actor", "agent", "session", "all"] = Field("actor", description="Whose use is counted together.")
    window: Literal["session", "day", "month", "total"] = Field("month", description="When the count starts again.")
    tokens: int | None = Field(None, ge=1, description="Input + output tokens allowed in the window.")
    cost_usd: float | None = Field(None, gt=0, description="Cost allowed in the window (prices below).")


class ModelPrice(_Strict):
    input: float = Field(0, ge=0, description="USD per million input tokens.")
    output: float = Field(0, ge=0, description="USD per million output tokens.")


class ModelIntent(_Strict):
    record_plan: bool = Field(True, description="Record the model's plan/reasoning text (redacted, bounded).")
    max_chars: int = Field(4000, ge=0, le=8000, description="How much of the instruction and plan to keep.")


class ModelLoop(_Strict):
    repeat: int = Field(20, ge=2, description="The same request this many times in a row in a session is refused.")


class Models(_Strict):
    """What the model gateway enforces (`warden model-gateway`, docs/model-gateway.md)."""

    allow: list[ModelApproval] | None = Field(
        None, description="Approved models; when given, every other model is refused. Each layer that lists "
        "approved models must approve a request.")
    budgets: list[ModelBudget] = Field(default_factory=list)
    prices: dict[str, ModelPrice] = Field(default_factory=dict, description="Model glob -> price per million tokens.")
    intent: ModelIntent | None = None
    loop: ModelLoop | None = None

    @field_validator("budgets")
    @classmethod
    def _limit_given(cls, v: list[ModelBudget]) -> list[ModelBudget]:
        for b in v:
            if b.tokens is None and b.cost_usd is None:
                raise ValueError(f"budget {b.id!r} needs tokens: or cost_usd:")
        return v


LOCKABLE = ("default", "disable", "settings", "sandbox", "models", "data", "trust")


class PolicyFile(_Strict):
    version: Literal[1] = 1
    default: Effect | None = Field(None, description="Effect when no rule matches a subject.")
    settings: Settings | None = None
    sandbox: Sandbox | None = None
    disable: StrList = Field(default_factory=list, description="Rule ids of lower layers to switch off.")
    models: Models | None = Field(None, description="Approved models, budgets and intent recording for the model gateway.")
    data: DataPolicy | None = Field(None, description="Data classes, clearance and destinations (docs/data.md).")
    lock: list[Literal["default", "disable", "settings", "sandbox", "models", "data", "trust"]] = Field(
        default_factory=list, description="Managed layer only: what lower layers may not change "
        "(`trust`: `warden trust` cannot make a project's loosening take effect)."
    )
    trusted_projects: StrList = Field(
        default_factory=list, description="Managed layer only: globs on project policy paths whose loosening "
        "applies without `warden trust`.",
    )
    rules: list[Rule] = Field(default_factory=list)
