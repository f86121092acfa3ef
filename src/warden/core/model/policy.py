"""The policy's ``models:`` section, compiled: approved models, prices, budgets, intent recording.

Pure: the gateway hands in who is asking, which model, the clock and the usage so far; this module
says yes or no and why. Layering is strictest-wins (see :func:`merge_sections`): a model must be
approved by *every* layer that lists approved models, and every layer's budgets apply.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from warden.core.civil import civil_from_days

WINDOWS = ("session", "day", "month", "total")
KEYS = ("actor", "agent", "session", "all")


@dataclass(frozen=True, slots=True)
class Who:
    actor: str
    agent: str
    roles: tuple[str, ...]
    session: str


@dataclass(frozen=True, slots=True)
class Approval:
    provider: tuple[str, ...]
    model: tuple[str, ...]
    actor: tuple[str, ...] | None = None
    agent: tuple[str, ...] | None = None
    role: tuple[str, ...] | None = None

    def covers(self, provider: str, model: str, who: Who) -> bool:
        if not _any(self.provider, provider) or not _any(self.model, model):
            return False
        if self.actor is not None and not _any(self.actor, who.actor):
            return False
        if self.agent is not None and not _any(self.agent, who.agent):
            return False
        if self.role is not None and not any(_any(self.role, r) for r in who.roles):
            return False
        return True


@dataclass(frozen=True, slots=True)
class Budget:
    id: str
    per: str  # actor | agent | session | all
    window: str  # session | day | month | total
    tokens: int | None = None
    cost_usd: float | None = None

    def key(self, who: Who) -> str:
        value = {"actor": who.actor, "agent": who.agent, "session": who.session, "all": "*"}[self.per]
        scope = f"session={who.session}" if self.window == "session" else self.window
        return f"{self.id}|{self.per}={value}|{scope}"


@dataclass(frozen=True, slots=True)
class Price:
    input: float  # USD per million input tokens
    output: float


@dataclass(slots=True)
class ModelPolicy:
    approvals: list[list[Approval]] = field(default_factory=list)  # one list per layer that declared one
    budgets: list[Budget] = field(default_factory=list)
    prices: dict[str, Price] = field(default_factory=dict)  # model glob -> price
    record_plan: bool = True
    max_chars: int = 4000
    loop_repeat: int = 20
    sources: list[str] = field(default_factory=list)

    @property
    def restricts_models(self) -> bool:
        return bool(self.approvals)

    def approve(self, provider: str, model: str, who: Who) -> str | None:
        """None when the model may be used; otherwise the reason it may not."""
        for i, layer in enumerate(self.approvals):
            if not any(a.covers(provider, model, who) for a in layer):
                where = self.sources[i] if i < len(self.sources) else "the policy"
                listed = sorted({f"{'/'.join(a.provider)}:{'/'.join(a.model)}" for a in layer})
                return (f"model {model!r} from provider {provider!r} is not approved for "
                        f"{who.agent or 'this agent'} ({who.actor or 'unknown actor'}) by {where}; "
                        f"approved: {', '.join(listed) or 'none'}")
        return None

    def price_of(self, model: str) -> Price | None:
        best = None
        for glob, price in self.prices.items():
            if fnmatch.fnmatchcase(model, glob) and (best is None or len(glob) > len(best[0])):
                best = (glob, price)
        return best[1] if best else None

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> float:
        price = self.price_of(model)
        if price is None:
            return 0.0
        return (input_tokens * price.input + output_tokens * price.output) / 1_000_000


def window_start(window: str, now: float) -> float:
    """Epoch seconds where a budget window began (UTC calendar for day and month)."""
    if window in ("session", "total"):
        return 0.0
    day = int(now // 86400) * 86400
    if window == "day":
        return float(day)
    days = day // 86400
    dom = civil_from_days(days)[2]  # month: walk back to the 1st
    return float((days - (dom - 1)) * 86400)


@dataclass(frozen=True, slots=True)
class BudgetState:
    budget: Budget
    key: str
    tokens: int
    cost: float
    planned: int = 0  # estimated tokens of the request being checked

    @property
    def exceeded(self) -> bool:
        b = self.budget
        return (b.tokens is not None and self.tokens >= b.tokens) or (
            b.cost_usd is not None and self.cost >= b.cost_usd)

    def describe(self) -> str:
        b = self.budget
        parts = []
        if b.tokens is not None:
            parts.append(f"{self.tokens:,} of {b.tokens:,} tokens")
        if b.cost_usd is not None:
            parts.append(f"${self.cost:.2f} of ${b.cost_usd:.2f}")
        scope = {"all": "everyone", "actor": "this developer", "agent": "this agent",
                 "session": "this session"}[b.per]
        extra = f", and this request (~{self.planned:,} tokens) would exceed it" if self.planned else ""
        return f"budget {b.id!r} ({scope}, per {b.window}): {' and '.join(parts)} used{extra}"


UsageLookup = Callable[[str, str, float], tuple[int, float]]  # (per, value, since) -> (tokens, cost)


def budget_states(policy: ModelPolicy, who: Who, now: float, usage: UsageLookup) -> list[BudgetState]:
    out = []
    for b in policy.budgets:
        value = {"actor": who.actor, "agent": who.agent, "session": who.session, "all": "*"}[b.per]
        if b.window == "session" and b.per != "session":
            # "per actor, per session": the session's share of that actor's use
            tokens, cost = usage("session", who.session, 0.0)
        else:
            tokens, cost = usage(b.per, value, window_start(b.window, now))
        out.append(BudgetState(b, b.key(who), tokens, cost))
    return out


def over_budget(states: Iterable[BudgetState], planned_tokens: int = 0) -> BudgetState | None:
    """The first budget that is used up, or that this request (estimated) would overrun."""
    for s in states:
        if s.exceeded:
            return s
        if s.budget.tokens is not None and planned_tokens and s.tokens + planned_tokens > s.budget.tokens:
            return BudgetState(s.budget, s.key, s.tokens, s.cost, planned_tokens)
    return None


# --- compiling the policy section ---------------------------------------------------------------


def _any(globs: Iterable[str], value: str) -> bool:
    return any(fnmatch.fnmatchcase(value, g) for g in globs)


def _t(v: Any) -> tuple[str, ...] | None:
    if v is None:
        return None
    return (v,) if isinstance(v, str) else tuple(str(x) for x in v)


def merge_sections(layers: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """Fold each layer's ``models:`` dump (lowest first) into one plain dict the compiled policy keeps.

    Strictest wins: ``allow`` lists accumulate (each must approve), budgets accumulate, prices and
    the intent/loop settings of a higher layer override a lower one's, except that a lower layer's
    smaller loop bound stays.
    """
    out: dict[str, Any] = {"allow": [], "allow_sources": [], "budgets": [], "prices": {}, "intent": {}, "loop": {}}
    for source, section in layers:
        if section.get("allow") is not None:
            out["allow"].append(list(section["allow"]))
            out["allow_sources"].append(source)
        out["budgets"].extend(dict(b) for b in section.get("budgets") or [])
        out["prices"].update(section.get("prices") or {})
        out["intent"].update(section.get("intent") or {})
        loop = section.get("loop") or {}
        if "repeat" in loop:
            old = out["loop"].get("repeat")
            out["loop"]["repeat"] = loop["repeat"] if old is None else min(old, loop["repeat"])
    return out


def compile_models(merged: Mapping[str, Any] | None) -> ModelPolicy:
    merged = merged or {}
    approvals = []
    for layer in merged.get("allow") or []:
        approvals.append([
            Approval(provider=_t(a.get("provider")) or ("*",), model=_t(a.get("model")) or ("*",),
                     actor=_t((a.get("actor") or {}).get("id")), agent=_t((a.get("actor") or {}).get("agent")),
                     role=_t((a.get("actor") or {}).get("role")))
            for a in layer
        ])
    budgets = [Budget(id=str(b["id"]), per=str(b.get("per", "actor")), window=str(b.get("window", "month")),
                      tokens=b.get("tokens"), cost_usd=b.get("cost_usd")) for b in merged.get("budgets") or []]
    prices = {str(k): Price(float(v.get("input", 0)), float(v.get("output", 0)))
              for k, v in (merged.get("prices") or {}).items()}
    intent = merged.get("intent") or {}
    loop = merged.get("loop") or {}
    return ModelPolicy(approvals=approvals, budgets=budgets, prices=prices,
                       record_plan=bool(intent.get("record_plan", True)),
                       max_chars=int(intent.get("max_chars", 4000)),
                       loop_repeat=int(loop.get("repeat", 20)),
                       sources=list(merged.get("allow_sources") or []))
