"""A `warden exec` run under the kill switch: registered in the state store and watched.

While the command runs, a thread waits on the store's change notifications (and re-reads at
least every 0.5 s); when a kill switch covering this run appears it terminates the process
group, and bubblewrap's ``--die-with-parent`` takes the sandbox down with it. `warden kill`
also signals registered runs on this machine directly, so a stuck watcher is not the only way.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from types import TracebackType
from typing import Any


class KillWatch:
    def __init__(self, action: Any) -> None:
        self.action = action
        self.refusal = ""
        self._stop = threading.Event()
        self._store: Any = None
        self._run_id = ""

    def __enter__(self) -> KillWatch:
        from warden.adapters.policy_files import warden_home
        from warden.adapters.state import new_id, open_state
        from warden.core.control.kill import kill_matches

        try:
            self._store = open_state(warden_home(os.environ))
            hit = kill_matches(self._store.kills(), self.action)
            if hit is not None:
                self.refusal = f"stopped by the kill switch for {hit.label}: {hit.reason}"
                return self
            self._run_id = new_id("run")
            a = self.action
            self._store.register_run(self._run_id, os.getpid(), session=a.session, agent=a.actor.agent,
                                     actor=a.actor.id, now=time.time())
        except Exception as exc:  # the kill switch cannot be checked: fail closed
            self.refusal = f"the kill-switch state cannot be read, so nothing runs: {exc}"
            return self
        threading.Thread(target=self._watch, name="warden-kill-watch", daemon=True).start()
        return self

    def _watch(self) -> None:
        from warden.adapters.policy_files import warden_home
        from warden.adapters.state import open_state
        from warden.core.control.kill import kill_matches

        store = open_state(warden_home(os.environ))  # its own connection: the main thread uses the other
        store.listen()
        try:
            while not self._stop.is_set():
                try:
                    hit = kill_matches(store.kills(), self.action)
                except Exception:
                    hit = None
                if hit is not None:
                    sys.stderr.write(f"warden: stopped by the kill switch for {hit.label}: {hit.reason}\n")
                    sys.stderr.flush()
                    os.kill(os.getpid(), signal.SIGTERM)
                    return
                store.wait_for_change(0.5)
        finally:
            store.close()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._store is not None:
            try:
                if self._run_id:
                    self._store.unregister_run(self._run_id)
            except Exception:
                pass
            self._store.close()
