"""The server's kill switches, mirrored into the local state store the gate reads before anything else.

Mirrored switches are marked ``by = "server:<who>"``; a switch lifted on the server is lifted here, and
only those (a developer's own ``warden kill`` stays until they resume it). While the server cannot be
reached nothing is lifted: the last known switches stay in force (fail closed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from warden.core.control.kill import SCOPES, KillSwitch

PREFIX = "server:"


def mirror(store: Any, server_kills: Iterable[Mapping[str, Any]]) -> tuple[list[KillSwitch], list[KillSwitch]]:
    """Make the local server-marked switches equal the server's; returns (set, lifted)."""
    wanted: dict[tuple[str, str], KillSwitch] = {}
    for k in server_kills:
        scope, value = str(k.get("scope", "")), str(k.get("value", ""))
        if scope not in SCOPES:
            scope, value = "all", ""  # a scope this client does not know stops everything rather than nothing
        by = str(k.get("by", ""))
        wanted[(scope, value)] = KillSwitch(scope, value, str(k.get("reason", "")) or "stopped by the team server",
                                            by if by.startswith(PREFIX) else PREFIX + by, float(k.get("at") or 0))
    local = {(k.scope, k.value): k for k in store.kills()}
    set_, lifted = [], []
    for key, switch in wanted.items():
        have = local.get(key)
        if have is None or (have.by.startswith(PREFIX) and (have.reason, have.by) != (switch.reason, switch.by)):
            store.kill(switch)
            set_.append(switch)
    for key, have in local.items():
        if have.by.startswith(PREFIX) and key not in wanted:
            store.resume(have.scope, have.value)
            lifted.append(have)
    return set_, lifted
