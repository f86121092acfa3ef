"""Every entry of the credential catalogue (src/warden/core/credentials.json) is held by all four controls:
the policy denies reading it (Read tool and shell), the real bubblewrap sandbox hides it, and credential
variables naming files get the same treatment. Add a catalogue entry and these tests grow with it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sandbox_env import PY, needs_bwrap, out

from warden.core.credentials import (
    catalogue,
    credential_env_files,
    credential_locations_under,
    tree_holds_credentials,
)

CAT = catalogue()
HOME = CAT.home
SYSTEM = CAT.system
ENV_FILES = CAT.env_files


def _decoy(root: Path, rel: str, is_dir: bool) -> Path:
    path = root / rel
    return path / "decoy-secret" if is_dir else path


def _mark(i: int, kind: str = "H") -> str:
    return f"DECOY{kind}{i:03d}SECRET"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    # under /var/tmp, not /tmp: the sandbox's private /tmp would hide decoys for the wrong reason
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="warden-cat-", dir="/var/tmp"))
    ws, home, wh, elsewhere = base / "ws", base / "home", base / "wh", base / "elsewhere"
    for d in (ws, home, wh, elsewhere):
        d.mkdir()
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    for i, loc in enumerate(HOME):
        p = _decoy(home, loc.path, loc.is_dir)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(_mark(i) + "\n")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
           "WARDEN_HOME": str(wh)}
    for i, ef in enumerate(ENV_FILES):
        target = elsewhere / f"var{i}"
        if ef.within:
            target.mkdir()
            for name in ef.within:
                (target / name).write_text(_mark(i, "E") + "\n")
        else:
            target.write_text(_mark(i, "E") + "\n")
        env[ef.var] = str(target)
    (home / ".profile").write_text("PUBLIC_PROFILE\n")  # control: ordinary files stay readable
    yield {"base": base, "ws": ws, "home": home, "wh": wh, "elsewhere": elsewhere, "env": env}
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def gateway(world):
    from warden.gateway import Gateway

    return Gateway(cwd=str(world["ws"]), policy_file=None, home=world["wh"], environ=world["env"], audit=False)


def _decide(gateway, world, tool, tool_input):
    return gateway.decide_payload({"tool_name": tool, "tool_input": tool_input, "cwd": str(world["ws"])})


def _kinds(verdict) -> set[str]:
    return {f.kind for f in verdict.facts}


# -- the policy -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("i,loc", list(enumerate(HOME)), ids=[loc.path for loc in HOME])
def test_policy_denies_reading_each_home_location(gateway, world, i, loc):
    path = str(_decoy(world["home"], loc.path, loc.is_dir))
    read = _decide(gateway, world, "Read", {"file_path": path})
    assert read.decision.label == "deny" and "secret.read" in _kinds(read), read.reason
    shell = _decide(gateway, world, "Bash", {"command": f"cat '{path}'"})
    assert shell.decision.label == "deny" and "secret.read" in _kinds(shell), shell.reason


@pytest.mark.parametrize("loc", SYSTEM, ids=[loc.path for loc in SYSTEM])
def test_policy_denies_reading_each_system_location(gateway, world, loc):
    path = loc.path.replace("*", "rsa" if "ssh_host" in loc.path else "1")
    if loc.is_dir:
        path += "/x"
    read = _decide(gateway, world, "Read", {"file_path": path})
    assert "secret.read" in _kinds(read), read.reason
    assert read.decision.label == "deny"


@pytest.mark.parametrize("i,ef", list(enumerate(ENV_FILES)), ids=[ef.var for ef in ENV_FILES])
def test_policy_denies_reading_files_credential_variables_name(gateway, world, i, ef):
    target = world["elsewhere"] / f"var{i}"
    path = target / ef.within[0] if ef.within else target
    read = _decide(gateway, world, "Read", {"file_path": str(path)})
    assert read.decision.label == "deny" and "secret.read" in _kinds(read), read.reason


def test_variables_named_files_are_found_and_lists_split():
    env = {"KUBECONFIG": "/a/k1:/b/k2:relative", "DOCKER_CONFIG": "/d/", "PGPASSFILE": "/p/pass", "UNRELATED": "/x"}
    assert credential_env_files(env) == ["/a/k1", "/b/k2", "/p/pass", "/d/config.json"]


# -- recursive reads: the question the tree analysers ask ------------------------------------------------------

@pytest.mark.parametrize("tree,holds", [
    ("/", True), ("/home/dev", True), ("/home/dev/.config", True), ("/home", True), ("/home/bob", True),
    ("/root", True), ("/etc", True), ("/proc", True), ("/home/dev/.ssh/sub", True), ("/home/dev/project", False),
    ("/usr", False), ("/home/dev/src/app", False), ("/tmp", False),
])
def test_tree_holds_credentials(tree, holds):
    assert tree_holds_credentials(tree, "/home/dev") is holds, credential_locations_under(tree, "/home/dev")[:5]


def test_locations_under_the_home_name_the_stores():
    found = credential_locations_under("/home/dev/.config", "/home/dev")
    assert "/home/dev/.config/gh" in found and "/home/dev/.config/gcloud" in found
    assert "/home/dev/.ssh" not in found
    assert "/home/*/.ssh" in credential_locations_under("/", "/home/dev")
    assert credential_locations_under("/srv/data", "/home/dev", {"PGPASSFILE": "/srv/data/pgpass"}) == \
        ["/srv/data/pgpass"]


@pytest.mark.parametrize("path,asks", [("~", True), ("~/.config", True), ("/", True), (".", False)])
def test_grep_over_a_tree_with_credentials_is_a_bulk_read(gateway, world, path, asks):
    path = path.replace("~", str(world["home"]))
    v = _decide(gateway, world, "Grep", {"pattern": "password", "path": path})
    assert ("secret.bulk_read" in _kinds(v)) is asks, v.reason
    assert (v.decision.label != "allow") is asks


# -- the sandbox (real bubblewrap) -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sandbox_view(world):
    """One sandbox run reads every decoy; the per-entry tests look at what came back."""
    from warden.adapters.exec import Profile, run_sandboxed

    paths = [str(_decoy(world["home"], loc.path, loc.is_dir)) for loc in HOME]
    paths += credential_env_files(world["env"])
    paths += [str(world["home"] / ".profile"), "/etc/shadow"]
    code = ("import sys\nfor p in sys.argv[1:]:\n    try:\n        print(p, '=', open(p).read().strip())\n"
            "    except OSError as e:\n        print(p, '!', type(e).__name__)\n")
    r = run_sandboxed([PY, "-c", code, *paths], Profile(), str(world["ws"]), cwd=str(world["ws"]),
                      env=world["env"], warden_home=str(world["wh"]), capture=True)
    assert r.returncode == 0, out(r)
    return out(r)


@needs_bwrap
@pytest.mark.e2e
def test_sandbox_control_ordinary_home_files_stay_readable(sandbox_view):
    assert "PUBLIC_PROFILE" in sandbox_view


@needs_bwrap
@pytest.mark.e2e
@pytest.mark.parametrize("i,loc", list(enumerate(HOME)), ids=[loc.path for loc in HOME])
def test_sandbox_hides_each_home_location(sandbox_view, i, loc):
    assert _mark(i) not in sandbox_view


@needs_bwrap
@pytest.mark.e2e
@pytest.mark.parametrize("i,ef", list(enumerate(ENV_FILES)), ids=[ef.var for ef in ENV_FILES])
def test_sandbox_hides_files_credential_variables_name(sandbox_view, i, ef):
    assert _mark(i, "E") not in sandbox_view


@needs_bwrap
@pytest.mark.e2e
@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/etc/shadow"), reason="needs root and /etc/shadow")
def test_sandbox_hides_etc_shadow_from_root(sandbox_view):
    host = Path("/etc/shadow").read_text().strip()
    assert host and host.splitlines()[0] not in sandbox_view


def test_plan_masks_every_existing_system_location_and_home_entry(world):
    from warden.adapters.exec.mounts import plan_mounts

    plan = plan_mounts(workspace=str(world["ws"]), home=str(world["home"]), warden_home=str(world["wh"]),
                       writable=[], read_only=[], masked=[], env=world["env"])
    for loc in SYSTEM:
        if "*" not in loc.path and os.path.exists(loc.path) and not loc.path.startswith(("/dev/", "/proc/", "/run/")):
            assert os.path.realpath(loc.path) in plan.masked, loc.path
    for loc in HOME:
        assert os.path.realpath(world["home"] / loc.path) in plan.masked, loc.path
    for path in credential_env_files(world["env"]):
        assert path in plan.masked, path


# -- the environment scrub ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["DB_PASS", "PGPASSWORD", "PGPASSFILE", "MYSQL_PWD", "REDIS_PWD", "AWS_CRED_FILE",
                                  "APP_CREDENTIALS", "GOOGLE_APPLICATION_CREDENTIALS", "KUBECONFIG",
                                  "SENTRY_DSN", "MY_API_KEY", "SSH_AUTH_SOCK"])
def test_scrub_catches_catalogued_name_shapes(name):
    from warden.adapters.exec.env import is_credential_name

    assert is_credential_name(name)


@pytest.mark.parametrize("name", ["PATH", "PWD", "OLDPWD", "HOME", "LANG", "TERM", "EDITOR", "GITHUB_WORKSPACE"])
def test_scrub_keeps_ordinary_names(name):
    from warden.adapters.exec.env import is_credential_name

    assert not is_credential_name(name)
