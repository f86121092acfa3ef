"""Running the installed `warden` command from tests.

Kept out of conftest.py on purpose: several test folders have their own conftest.py, and
``from conftest import ...`` would pick whichever one pytest imported last.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WARDEN = str(Path(sys.executable).parent / "warden")


def run_warden(*args: str, input: bytes | str | None = None, env: dict | None = None, cwd=None,
               timeout: float = 60) -> subprocess.CompletedProcess:
    if isinstance(input, str):
        input = input.encode()
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([WARDEN, *args], input=input, capture_output=True, env=full_env, cwd=cwd, timeout=timeout)
