"""`warden doctor` checks for the control loop: the state store answers, kill switches in force,
approval requests waiting (published under the ``warden.doctor`` entry-point group)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any


def checks(ctx: Any) -> Iterable[Any]:
    from warden.adapters.state import open_state
    from warden.integrations.doctor import FAIL, OK, WARN, Finding

    try:
        store = open_state(ctx.home, environ=ctx.environ)
        kills = store.kills()
        pending = store.list_requests(status="pending")
    except Exception as exc:
        yield Finding("control.state", FAIL, f"the control state store cannot be used: {exc}",
                      "until it can, every decision is denied (kill switch and limits fail closed); move a corrupt "
                      "state.db aside or fix $WARDEN_STATE_DB")
        return
    try:
        yield Finding("control.state", OK, f"control state store {store.location} answers")
        if kills:
            labels = "; ".join(f"{k.label}: {k.reason} (by {k.by})" for k in kills)
            yield Finding("control.kill", WARN, f"kill switch in force for {labels}",
                          "every decision in scope is denied; lift with `warden resume --all` (or the same scope)",
                          {"kills": [k.to_json() for k in kills]})
        else:
            yield Finding("control.kill", OK, "no kill switch in force")
        now = time.time()
        live = [r for r in pending if r.expires_at > now]
        yield Finding("control.approvals", OK, f"{len(live)} approval request(s) waiting"
                      + (" (`warden approvals list`)" if live else ""), detail={"pending": [r.id for r in live]})
    finally:
        store.close()
