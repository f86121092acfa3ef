"""Session taint: content from outside the trust boundary that entered an agent's context.

Sources (each an origin the approval card shows):

* ``web``       a WebFetch or WebSearch ran (its result is attacker-controllable text);
* ``mcp``       a tool of an MCP server not listed as trusted ran;
* ``outside``   a file outside the workspace was read (Read, or a shell read of such a path);
* ``clone``     a repository was cloned (its files, instructions and scripts are someone else's);
* ``injection`` a tool's output matched a prompt-injection pattern.

What taint does NOT catch: content the agent gets through a channel Warden does not see (the
user pasting text, files already in the workspace written by others, network reads inside an
allowed program such as a test suite), and injection text phrased unlike the patterns below.
Taint is a signal for stricter rules, not a detector that proves a session clean.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from warden.core.action import Action

MAX_SCAN_CHARS = 256 * 1024  # injection patterns look at the first 256 KiB of a tool result

# Bounded patterns (no nested quantifiers): phrases that address the model rather than the user.
_INJECTION = [re.compile(p, re.IGNORECASE) for p in (
    r"\b(ignore|disregard|forget)\s+(all\s+|any\s+)?(the\s+)?(previous|prior|above|earlier)\s+"
    r"(instructions|prompts|rules|messages)",
    r"\byou\s+are\s+now\s+(in\s+)?(developer|dan|jailbreak|admin|god)\b",
    r"<\s*/?\s*(system|im_start|assistant)\s*>",
    r"\bnew\s+(system\s+)?instructions\s*:",
    r"\b(do\s+not|don't|never)\s+(tell|inform|mention\s+to)\s+the\s+user\b",
    r"\b(AI|assistant|agent|model)\s*[:,]?\s*(please\s+)?(run|execute|curl|send|upload)\s+",
    r"\bexfiltrat(e|ion)\b",
)]


@dataclass(frozen=True, slots=True)
class TaintOrigin:
    source: str  # web | mcp | outside | clone | injection
    detail: str  # a URL, a server name, a path, a matched phrase
    tool: str = ""
    at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "detail": self.detail, "tool": self.tool, "at": self.at}

    @property
    def label(self) -> str:
        return f"{self.source}: {self.detail}" if self.detail else self.source


def origins_before(action: Action, *, paths: Iterable[Any] = (), facts: Iterable[Any] = (),
                   trusted_mcp: Iterable[str] = (), now: float = 0.0) -> list[TaintOrigin]:
    """Taint an allowed action brings in when it runs (known before the result arrives)."""
    out: list[TaintOrigin] = []
    if action.tool == "WebFetch":
        out.append(TaintOrigin("web", str(action.input.get("url", ""))[:500], action.tool, now))
    elif action.tool == "WebSearch":
        out.append(TaintOrigin("web", f"search: {str(action.input.get('query', ''))[:200]}", action.tool, now))
    elif action.is_mcp and action.mcp_server not in set(trusted_mcp):
        out.append(TaintOrigin("mcp", f"server {action.mcp_server} ({action.tool})", action.tool, now))
    for p in paths:
        if getattr(p, "access", None) == "read" and not getattr(p, "in_workspace", True):
            out.append(TaintOrigin("outside", str(getattr(p, "path", ""))[:500], action.tool, now))
            break
    for f in facts:
        if getattr(f, "kind", "") in ("git.clone", "vcs.clone"):
            out.append(TaintOrigin("clone", str(getattr(f, "detail", ""))[:500], action.tool, now))
            break
    if action.tool == "Bash" and not any(o.source == "clone" for o in out):
        cmd = action.command or ""
        if re.search(r"\bgit\s+(-\S+\s+)*clone\b", cmd):
            out.append(TaintOrigin("clone", cmd[:300], action.tool, now))
    return out


def injection_in(text: str) -> str | None:
    """The first prompt-injection phrase in a tool result, or None."""
    sample = text[:MAX_SCAN_CHARS]
    for rx in _INJECTION:
        m = rx.search(sample)
        if m:
            return m.group(0)[:120]
    return None


def origins_after(action: Action, result_text: str, now: float = 0.0) -> list[TaintOrigin]:
    """Taint a tool's result brings in (PostToolUse)."""
    phrase = injection_in(result_text)
    return [TaintOrigin("injection", f"{action.tool} output contains {phrase!r}", action.tool, now)] if phrase else []
