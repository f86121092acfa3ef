"""Secret-carrying content as facts (``secret.content``), for prompts, writes and commands.

Owned by the secrets work (issue 4): wires ``warden.core.secrets`` into analysis.
"""

from __future__ import annotations

from warden.core.action import Action
from warden.core.facts import Fact


def content_facts(action: Action) -> list[Fact]:
    return []
