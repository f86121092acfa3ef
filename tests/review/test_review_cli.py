"""`warden review` on real git repositories: labels, hunks, owners, secrets, exit codes, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from warden_cli import run_warden  # noqa: E402

from warden.core.review import diff

TOKEN = "ghp_" + "R8bQ2vX9kL4mN7pT1wZ5yC3dF6gH0jK2sA8e"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    git(r, "config", "user.email", "dev@example.com")
    git(r, "config", "user.name", "Dev")
    (r / "src" / "auth").mkdir(parents=True)
    (r / ".github").mkdir()
    (r / "src" / "util.py").write_text("def add(a, b):\n    return a + b\n")
    (r / "src" / "auth" / "login.py").write_text("def login(u, p):\n    return check(u, p)\n")
    (r / "src" / "views.py").write_text("@login_required\ndef admin(request):\n    if not request.user.is_admin:\n"
                                        "        raise Forbidden\n    return ok()\n")
    (r / ".github" / "CODEOWNERS").write_text("* @dev-team\n/src/auth/ @security-team\n")
    (r / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    git(r, "add", "-A")
    git(r, "commit", "-qm", "init")
    git(r, "checkout", "-qb", "feature")
    return r


def review(repo: Path, *args: str) -> subprocess.CompletedProcess:
    out = run_warden("review", "--repo", str(repo), *args, cwd=repo)
    return subprocess.CompletedProcess(out.args, out.returncode, out.stdout.decode(), out.stderr.decode())


def test_a_pr_touching_auth_authz_and_adding_a_secret(repo: Path):
    (repo / "src" / "auth" / "login.py").write_text("import jwt\ndef login(u, p):\n    return jwt.decode(p, KEY)\n")
    # removing the admin check is an authorization change
    (repo / "src" / "views.py").write_text("@login_required\ndef admin(request):\n    return ok()\n")
    (repo / "src" / "util.py").write_text(f"def add(a, b):\n    return a + b\nTOKEN = '{TOKEN}'\n")
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(255, -1, -1)))
    git(repo, "commit", "-qam", "change")
    out = review(repo, "--base", "main", "--format", "json")
    assert out.returncode == 0, out.stderr
    rep = json.loads(out.stdout)
    files = {f["path"]: f for f in rep["files"]}
    assert files["src/auth/login.py"]["labels"] == ["auth"]
    assert files["src/auth/login.py"]["owners"] == ["@security-team"]
    assert files["src/auth/login.py"]["hunks"][0]["labels"] == ["auth"]
    assert "authz" in files["src/views.py"]["labels"]
    assert files["src/util.py"]["secrets"][0]["rule"] == "github-pat" and files["src/util.py"]["secrets"][0]["line"] == 3
    assert files["logo.png"]["binary"] and files["logo.png"]["labels"] == []
    assert rep["summary"]["severity"] == "high" and rep["summary"]["sensitive_files"] == 3
    assert TOKEN not in out.stdout
    md = review(repo, "--base", "main").stdout
    assert "need a specialist review" in md and "@security-team" in md
    assert review(repo, "--base", "main", "--fail-on", "high").returncode == 1
    sarif = json.loads(review(repo, "--base", "main", "--format", "sarif").stdout)
    run = sarif["runs"][0]
    assert {r["ruleId"] for r in run["results"]} >= {"change.auth", "change.authz", "change.secret-added"}
    assert all("security-severity" in r["properties"] for r in run["tool"]["driver"]["rules"])


def test_an_ordinary_change_passes_the_gate(repo: Path):
    (repo / "src" / "util.py").write_text("def add(a, b):\n    return b + a\n")
    git(repo, "commit", "-qam", "swap")
    out = review(repo, "--base", "main", "--fail-on", "medium")
    assert out.returncode == 0 and "No security-sensitive changes" in out.stdout


def test_renaming_a_sensitive_file_away_is_still_sensitive(repo: Path):
    git(repo, "mv", "src/auth/login.py", "src/misc.py")
    git(repo, "commit", "-qm", "move")
    rep = json.loads(review(repo, "--base", "main", "--format", "json").stdout)
    (f,) = [f for f in rep["files"] if f["path"] == "src/misc.py"]
    assert f["status"] == "renamed" and f["old_path"] == "src/auth/login.py" and "auth" in f["labels"]


def test_non_utf8_paths_and_huge_changes_are_reported_not_fatal(repo: Path):
    import os

    (repo / os.fsdecode(b"src/auth_caf\xe9.py")).write_text("x = 1\n")  # latin-1 bytes: not UTF-8
    (repo / "src" / "big.py").write_text("x = 1\n" * 120_000)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "big")
    rep = json.loads(review(repo, "--base", "main", "--format", "json").stdout)
    big = next(f for f in rep["files"] if f["path"] == "src/big.py")
    assert big["added"] == 120_000 and any("very large" in p for p in big["problems"])
    assert any("auth" in f["labels"] for f in rep["files"] if "caf" in f["path"])


def test_bad_input():
    assert run_warden("review", "--diff", "-", input=b"\x00\x01\x02binary").returncode == 2
    out = run_warden("review", "--diff", "-", "--format", "json", input="diff --git a/x b/x\n@@ broken @@\n+hi\n")
    rep = json.loads(out.stdout)
    assert out.returncode == 0 and rep["files"][0]["problems"]
    # a secret on a line that also carries a content signal is not quoted in the reasons
    out = run_warden("review", "--diff", "-", "--format", "json",
                     input=f"diff --git a/a.py b/a.py\n@@ -0,0 +1 @@\n+x = jwt.decode(t, '{TOKEN}')\n")
    assert TOKEN.encode() not in out.stdout and b"jwt.decode" in out.stdout
    assert run_warden("review", "--repo", "/nonexistent", "--base", "main").returncode == 2


def test_diff_parser_reads_git_headers():
    text = ("diff --git a/old.py b/new.py\nsimilarity index 90%\nrename from old.py\nrename to new.py\n"
            "--- a/old.py\n+++ b/new.py\n@@ -1,2 +1,2 @@\n ctx\n-gone\n+here\n\\ No newline at end of file\n"
            "diff --git a/img.bin b/img.bin\nnew file mode 100644\nBinary files /dev/null and b/img.bin differ\n"
            "diff --git a/d.txt b/d.txt\ndeleted file mode 100644\n--- a/d.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n")
    files = diff.parse(text)
    assert [(f.display, f.status) for f in files] == [("new.py", "renamed"), ("img.bin", "added"), ("d.txt", "deleted")]
    assert files[0].hunks[0].added == [(2, "here")] and files[0].hunks[0].removed == [(2, "gone")]
    assert files[1].binary
