"""Shared set-up for the sandbox tests: a throwaway world outside /tmp.

The sandbox gives every command a private /tmp, so a fake home under /tmp would be invisible
inside for the wrong reason and make the masking tests hollow. Everything lives under /var/tmp.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BWRAP = shutil.which("bwrap")
needs_bwrap = pytest.mark.skipif(BWRAP is None, reason="bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
PY = sys.executable


@dataclass
class World:
    base: Path
    ws: Path
    home: Path
    outside: Path
    warden_home: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(self, script: str, profile=None, **kw):
        """Run a shell script in the sandbox, capturing output."""
        from warden.adapters.exec import Profile, run_sandboxed

        return run_sandboxed(["/bin/sh", "-c", script], profile or Profile(), str(self.ws), cwd=str(self.ws),
                             env=self.env, warden_home=str(self.warden_home), capture=True, **kw)

    def py(self, code: str, profile=None, **kw):
        from warden.adapters.exec import Profile, run_sandboxed

        return run_sandboxed([PY, "-c", code], profile or Profile(), str(self.ws), cwd=str(self.ws),
                             env=self.env, warden_home=str(self.warden_home), capture=True, **kw)


def make_world() -> World:
    base = Path(tempfile.mkdtemp(prefix="warden-sbx-", dir="/var/tmp"))
    ws, home, outside, wh = base / "ws", base / "home", base / "outside", base / "warden-home"
    for d in (ws, home, outside, wh):
        d.mkdir()
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    # Secrets the sandbox must not see.
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nSECRETKEY\n")
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text("[default]\naws_secret_access_key=SECRETAWS\n")
    (home / ".config" / "gh").mkdir(parents=True)
    (home / ".config" / "gh" / "hosts.yml").write_text("github.com:\n  oauth_token: SECRETGH\n")
    (home / ".netrc").write_text("machine example.com login me password SECRETNETRC\n")
    (home / ".docker").mkdir()
    (home / ".docker" / "config.json").write_text('{"auths": {"x": {"auth": "SECRETDOCKER"}}}')
    (home / ".kube").mkdir()
    (home / ".kube" / "config").write_text("token: SECRETKUBE\n")
    (home / ".profile").write_text("PUBLIC_PROFILE\n")  # control: ordinary home files stay readable
    (wh / "audit.key").write_text("SECRETWARDEN\n")
    (ws / ".env").write_text("DB_PASSWORD=SECRETENV\n")
    (ws / "app").mkdir()
    (ws / "app" / ".env.local").write_text("TOKEN=SECRETENVLOCAL\n")
    (ws / ".env.example").write_text("DB_PASSWORD=changeme\n")  # template: left readable
    (outside / "data.txt").write_text("outside\n")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
           "WARDEN_HOME": str(wh)}
    return World(base=base, ws=ws, home=home, outside=outside, warden_home=wh, env=env)


def world_fixture():
    """Body of each test module's ``world`` fixture (pytest cannot share fixtures from a plain module)."""
    w = make_world()
    yield w
    shutil.rmtree(w.base, ignore_errors=True)


def out(r) -> str:
    return (r.stdout or b"").decode() + (r.stderr or b"").decode()
