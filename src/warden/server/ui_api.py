"""Read-only JSON behind the web interface (``/v1/ui/...``): the same figures the pages show, for scripts.

People only (developer, approver, auditor, admin; never an agent key), scoped by :mod:`warden.server.ui_data`:
a developer gets their own requests, sessions and machines.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI, HTTPException, Query

from warden.server import api_schema as doc
from warden.server import ui_data

if TYPE_CHECKING:
    from warden.server.keys import Principal
    from warden.server.ui_data import Server

PEOPLE = ("developer", "approver", "auditor")


def mount_ui_api(app: FastAPI, server: Server, who: Any) -> None:
    @app.get("/v1/ui/queue")
    async def ui_queue(status: str = "pending", team: str = "", agent: str = "", risk: str = "",
                       p: Principal = Depends(who)) -> dict[str, Any]:
        """The approval queue with each request's risk, team and requester, filtered by team, agent and risk."""
        server.require(p, *PEOPLE)
        return await asyncio.to_thread(ui_data.queue, server, p, status=status, team=team, agent=agent, risk=risk)

    @app.get("/v1/ui/sessions")
    async def ui_sessions(agent: str = "", verdict: str = "", kind: str = "", machine: str = "", since: str = "",
                          until: str = "", q: str = "", p: Principal = Depends(who)) -> dict[str, Any]:
        """Sessions with matching events (agent, verdict, kind, machine, time range, full text)."""
        server.require(p, *PEOPLE)
        f = ui_data.EventFilter(agent=agent, verdict=verdict, kind=kind, machine=machine, since=since, until=until, q=q)
        return await asyncio.to_thread(ui_data.sessions, server, p, f)

    @app.get("/v1/ui/sessions/{session}", responses=doc.errors(404))
    async def ui_timeline(session: str, p: Principal = Depends(who)) -> dict[str, Any]:
        """One session as a timeline: prompt, tool calls with verdict, approval, control changes and outcome."""
        server.require(p, *PEOPLE)
        t = await asyncio.to_thread(ui_data.timeline, server, p, session)
        if t is None:
            raise HTTPException(404, "no such session (or none of its events are yours)")
        return t

    @app.get("/v1/ui/dashboard", responses=doc.errors(400))
    async def ui_dashboard(hours: int = Query(24, ge=1, le=24 * 366),
                           stale_minutes: float = Query(ui_data.STALE_MINUTES, gt=0, le=525_600),
                           p: Principal = Depends(who)) -> dict[str, Any]:
        """Decisions over time by verdict, top denied and asked rules, approval latency, kills, machine health."""
        server.require(p, *PEOPLE)
        if not 0 < stale_minutes <= 525_600:
            raise HTTPException(400, "stale_minutes must be between 0 and 525600 (a year)")
        return await asyncio.to_thread(ui_data.dashboard, server, p, hours=hours, stale_minutes=stale_minutes)
