"""Small facts about the calling environment, cheap enough for every hot path (imports only os)."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # the hook's hot path imports this module: no typing or collections at run time
if TYPE_CHECKING:
    from collections.abc import Mapping

_OFF = ("0", "off", "false", "no")
WORKSPACE_MARKERS = (".git", "warden.yaml", ".warden", ".claude")


def flag_on(environ: Mapping[str, str], name: str) -> bool:
    """A WARDEN_* switch that is on unless set to 0/off/false/no."""
    return environ.get(name, "1").strip().lower() not in _OFF


def find_workspace(cwd: str) -> str:
    """Nearest ancestor holding a repository or agent marker; ``cwd`` itself otherwise."""
    path = os.path.abspath(cwd)
    while True:
        if any(os.path.exists(os.path.join(path, m)) for m in WORKSPACE_MARKERS):
            return path
        parent = os.path.dirname(path)
        if parent == path:
            return os.path.abspath(cwd)
        path = parent
