"""``warden doctor`` checks for a machine logged in to a team server: is the link really running?"""

from __future__ import annotations

import time
from collections.abc import Iterator

from warden.integrations.doctor import FAIL, OK, SKIP, WARN, DoctorContext, Finding

STALE_S = 90.0  # the watch long-poll answers at least every 25 s while online


def checks(ctx: DoctorContext) -> Iterator[Finding]:
    from warden.integrations.server_client import config
    from warden.integrations.server_client.link import link_alive, read_status

    try:
        link = config.load(ctx.home)
    except config.NotLoggedIn as exc:
        yield Finding("server.login", FAIL, str(exc), "warden login URL --key wk_...")
        return
    if link is None:
        yield Finding("server.login", SKIP, "not logged in to a team server (a single-machine setup)")
        return
    yield Finding("server.login", OK, f"logged in to {link.url} as machine {link.machine}")
    status = read_status(ctx.home) or {}
    if not link_alive(ctx.home):
        yield Finding("server.link", WARN, "the server link is not running: server kill switches are not obeyed "
                      "here, queued approvals are not routed to the server and evidence is not shipped",
                      "it starts with the warm daemon on the next hook call; or run `warden sync --follow` as a "
                      "service (WARDEN_HOOK_DAEMON=0 or WARDEN_SERVER_LINK=0 keep the daemon from starting it)")
    else:
        age = time.time() - float(status.get("last_contact") or 0)
        if not status.get("online") or age > STALE_S:
            yield Finding("server.link", WARN, f"the server link runs but has not reached {link.url} for {age:.0f}s "
                          f"({status.get('error') or 'no answer'}); the last known kills stay in force",
                          "check the network and that the server runs; `warden sync --status` shows the link")
        else:
            yield Finding("server.link", OK, f"online (last contact {age:.0f}s ago), {status.get('kills', 0)} kill "
                          f"switch(es) mirrored, policy {status.get('policy_version') or '?'}")
    box = status.get("outbox") or {}
    if box.get("error"):
        yield Finding("server.outbox", WARN, f"audit events are not reaching the server: {box['error']}",
                      "they wait in the local store; `warden sync` ships them once the server answers")
    bundle = status.get("bundle") or {}
    if bundle.get("error"):
        yield Finding("server.bundle", FAIL, f"the server's policy bundle was refused: {bundle['error']}",
                      "the cached managed policy stays in force; see `warden login --refresh`")
