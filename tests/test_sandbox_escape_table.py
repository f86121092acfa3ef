"""The data-driven escape suite (tests/cases/sandbox/escapes.yaml): real bubblewrap, real git.

Each case is run once without the sandbox (the control: the attack must work, or the case proves
nothing) and once inside it (the attack must fail). See the YAML file for the fields.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from sandbox_env import make_world, needs_bwrap, out

pytestmark = [needs_bwrap, pytest.mark.e2e]

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "sandbox" / "escapes.yaml").read_text())


def _host_env(world) -> dict[str, str]:
    return {**world.env, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.test",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.test"}


def _sh(world, script: str) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/sh", "-c", script], cwd=world.ws, env=_host_env(world), capture_output=True,
                          text=True, timeout=60)


def _play(case: dict, sandboxed: bool) -> dict:
    world = make_world()
    try:
        mark = world.base / "MARK"

        def fill(text: str) -> str:
            return text.replace("{mark}", str(mark))

        if case.get("setup"):
            r = _sh(world, fill(case["setup"]))
            assert r.returncode == 0, r.stderr
        expect = case.get("expect", "no-code")
        watched = expect.get("unchanged", []) if isinstance(expect, dict) else []
        before = {p: (world.ws / p).read_bytes() for p in watched}
        inside = fill(case["inside"])
        if sandboxed:
            result = world.run(inside)
            detail = out(result) + f"\nviolations: {result.violations}"
        else:
            r = _sh(world, inside)
            detail = r.stdout + r.stderr
        host = _sh(world, fill(case.get("host", "git status")))
        return {
            "ran_code": mark.exists(),
            "present": {p for p in (expect.get("absent", []) if isinstance(expect, dict) else [])
                        if os.path.lexists(world.ws / p)},
            "changed": {p for p in watched if not (world.ws / p).is_file() or (world.ws / p).read_bytes() != before[p]
                        or os.path.islink(world.ws / p.split("/")[0])},
            "detail": detail + "\nhost: " + host.stdout + host.stderr,
        }
    finally:
        shutil.rmtree(world.base, ignore_errors=True)


def _breached(case: dict, r: dict) -> bool:
    if case.get("expect", "no-code") == "no-code":
        return r["ran_code"]
    return bool(r["present"] or r["changed"])


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_escape_works_without_the_sandbox(case):
    r = _play(case, sandboxed=False)
    assert _breached(case, r), f"control did not reproduce the attack, the case proves nothing:\n{r['detail']}"


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_escape_fails_inside_the_sandbox(case):
    r = _play(case, sandboxed=True)
    assert not _breached(case, r), f"escaped: {r}"
