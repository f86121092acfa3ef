"""The local Warden as a client of the team server (``warden login`` and the link the daemon runs).

* :mod:`.config` — ``$WARDEN_HOME/server.json``: the server URL, this machine's key, its name and the
  server's pinned bundle-signing key;
* :mod:`.bundle` — pull, verify and cache the signed managed-policy bundle;
* :mod:`.outbox` — ship the local audit chain to the server (durable, exactly-once by event id);
* :mod:`.kills` — mirror the server's kill switches into the local state store;
* :mod:`.approvals` — route queued approval requests to the server and bring its votes back;
* :mod:`.link` — the loop that runs all of the above in the warm daemon or ``warden sync --follow``.
"""
