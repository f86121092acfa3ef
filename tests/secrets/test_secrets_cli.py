"""`warden scan` / `warden redact` end to end: exit codes, formats, bad input, git, baseline."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from samplegen import fill

from warden.adapters.keys import KeyStoreError, load_or_create_key

WARDEN = str(Path(sys.executable).parent / "warden")
GH = fill("ghp_{an36}", seed="cli")
SLACK = fill("xoxb-{d12}-{d13}-{an24}", seed="cli")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("WARDEN_")}
    e["WARDEN_HOME"] = str(tmp_path / "home")
    return e


def run(args: list[str], env: dict[str, str], cwd: Path | None = None, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([WARDEN, *args], input=stdin, capture_output=True, env=env, cwd=cwd, timeout=120)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "clean.py").write_text("print('hello')\n")
    (root / "app.env").write_text(f"A=1\nGH_TOKEN={GH}\n")
    (root / "blob.bin").write_bytes(b"\x00\x01\x02" + GH.encode())
    (root / "latin1.txt").write_bytes(b"caf\xe9 \xff\xfe token " + SLACK.encode() + b"\n")
    return root


def test_scan_text_exit_codes_and_no_secret_in_output(tree: Path, env: dict[str, str]) -> None:
    p = run(["scan", str(tree)], env)
    assert p.returncode == 1, p.stderr
    out = p.stdout.decode()
    assert "app.env:2:10: github-pat" in out and "latin1.txt:1:" in out and "slack-bot-token" in out
    assert GH not in out and SLACK not in out and GH not in p.stderr.decode()
    assert "blob.bin: skipped: binary file" in p.stderr.decode()
    assert run(["scan", str(tree / "clean.py")], env).returncode == 0


def test_scan_json_and_sarif(tree: Path, env: dict[str, str], tmp_path: Path) -> None:
    doc = json.loads(run(["scan", str(tree), "--format", "json"], env).stdout)
    assert {f["rule_id"] for f in doc["findings"]} == {"github-pat", "slack-bot-token"}
    assert all(re.fullmatch(r"[0-9a-f]{16}", f["fingerprint"]) for f in doc["findings"])
    assert doc["summary"]["findings"] == 2 and doc["notices"][0]["notice"] == "skipped: binary file"
    out = tmp_path / "r.sarif"
    assert run(["scan", str(tree), "--format", "sarif", "--output", str(out)], env).returncode == 1
    sarif = json.loads(out.read_text())
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    run_ = sarif["runs"][0]
    rule_ids = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    for res in run_["results"]:
        assert rule_ids[res["ruleIndex"]] == res["ruleId"]
        region = res["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["endColumn"] > region["startColumn"]
        assert re.fullmatch(r"[0-9a-f]{32}", res["partialFingerprints"]["wardenSecret/v2"])
        assert float(run_["tool"]["driver"]["rules"][res["ruleIndex"]]["properties"]["security-severity"]) >= 7
    assert run_["automationDetails"]["id"] == "warden-secrets/files/"
    assert GH not in out.read_text()


def test_fingerprints_stable_across_runs_same_key(tree: Path, env: dict[str, str]) -> None:
    a = json.loads(run(["scan", str(tree), "--format", "json"], env).stdout)["findings"]
    b = json.loads(run(["scan", str(tree), "--format", "json"], env).stdout)["findings"]
    assert [f["fingerprint"] for f in a] == [f["fingerprint"] for f in b]
    key = Path(env["WARDEN_HOME"]) / "keys" / "fingerprint.key"
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_bytes()) == 32


def test_baseline_accepts_known_findings(tree: Path, env: dict[str, str], tmp_path: Path) -> None:
    base = tmp_path / "baseline.json"
    assert run(["scan", str(tree), "--write-baseline", str(base)], env).returncode == 0
    assert GH not in base.read_text()
    assert run(["scan", str(tree), "--baseline", str(base)], env).returncode == 0
    (tree / "new.env").write_text(f"T={fill('glpat-{url20}', seed='new')}\n")
    p = run(["scan", str(tree), "--baseline", str(base), "--format", "json"], env)
    assert p.returncode == 1 and [f["rule_id"] for f in json.loads(p.stdout)["findings"]] == ["gitlab-pat"]
    base.write_text("{not json")
    p = run(["scan", str(tree), "--baseline", str(base)], env)
    assert p.returncode == 2 and b"not valid JSON" in p.stderr


def test_allow_marker(tmp_path: Path, env: dict[str, str]) -> None:
    f = tmp_path / "x.py"
    f.write_text(f"TOKEN = '{GH}'  # warden:allow-secret (test fixture)\n")
    assert run(["scan", str(f)], env).returncode == 0


def test_stdin_and_errors(env: dict[str, str], tmp_path: Path) -> None:
    assert run(["scan", "-"], env, stdin=f"x={GH}".encode()).returncode == 1
    assert run(["scan", "-"], env, stdin=b"nothing").returncode == 0
    p = run(["scan", str(tmp_path / "missing")], env)
    assert p.returncode == 2 and b"unreadable" in p.stderr
    p = run(["scan"], env)
    assert p.returncode == 2 and b"exactly one" in p.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[[rules]\n")
    p = run(["scan", "--config", str(bad), str(tmp_path)], env)
    assert p.returncode == 2 and b"not valid TOML" in p.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads everything; permission errors cannot be provoked")
def test_unreadable_file(tmp_path: Path, env: dict[str, str]) -> None:
    f = tmp_path / "secret.txt"
    f.write_text("x")
    f.chmod(0)
    p = run(["scan", str(tmp_path)], env)
    assert p.returncode == 2 and b"unreadable" in p.stderr


def test_unreadable_file_as_root_via_fifo_dir(tmp_path: Path, env: dict[str, str]) -> None:
    # Even as root, a path that is not a regular readable file is reported, not crashed on.
    target = tmp_path / "dangling"
    target.symlink_to(tmp_path / "nowhere")
    p = run(["scan", str(target)], env)
    assert p.returncode == 2 and b"unreadable: No such file" in p.stderr


def test_huge_file_skipped_with_notice_and_large_file_scanned(tmp_path: Path, env: dict[str, str]) -> None:
    big = tmp_path / "big.log"
    with big.open("w") as fh:
        line = "2024-01-01 INFO request ok id=42 path=/api/v1/items\n"
        fh.write(line * (3 * 1024 * 1024 // len(line)))
        fh.write(f"token={GH}\n")
        fh.write(line * 1000)
    p = run(["scan", str(big), "--format", "json"], env)
    assert p.returncode == 1 and json.loads(p.stdout)["findings"][0]["line"] == 3 * 1024 * 1024 // len(line) + 1
    p = run(["scan", str(big), "--max-size", "1"], env)
    assert p.returncode == 0 and b"over the 1 MB limit" in p.stderr


def test_minified_bundle(tmp_path: Path, env: dict[str, str]) -> None:
    js = tmp_path / "bundle.min.js"
    js.write_text("var a=function(){return 1};" * 200_000 + f'var k="{GH}";' + "x=1;" * 1000)
    p = run(["scan", str(js), "--format", "json"], env)
    assert p.returncode == 1 and json.loads(p.stdout)["findings"][0]["line"] == 1


def test_gitignore_and_git_diff(tmp_path: Path, env: dict[str, str]) -> None:
    repo = tmp_path / "g"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / ".gitignore").write_text("ignored/\n")
    (repo / "ignored").mkdir()
    (repo / "ignored" / "x.env").write_text(f"T={GH}\n")
    (repo / "a.py").write_text("x = 1\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    assert run(["scan", str(repo)], env).returncode == 1
    assert run(["scan", "--gitignore", str(repo)], env).returncode == 0
    (repo / "a.py").write_text(f"x = 1\ny = 2\ntoken = '{SLACK}'\n")
    assert run(["scan", "--staged"], env, cwd=repo).returncode == 0  # not staged yet
    subprocess.run([*git, "add", "a.py"], check=True)
    p = run(["scan", "--staged", "--format", "json"], env, cwd=repo)
    assert p.returncode == 1
    (f,) = json.loads(p.stdout)["findings"]
    assert f["rule_id"] == "slack-bot-token" and f["path"] == "a.py" and f["line"] == 3
    subprocess.run([*git, "commit", "-qm", "add"], check=True)
    assert run(["scan", "--git-diff", "HEAD~1"], env, cwd=repo).returncode == 1
    assert run(["scan", "--git-diff", "HEAD"], env, cwd=repo).returncode == 0
    p = run(["scan", "--git-diff", "no-such-rev"], env, cwd=repo)
    assert p.returncode == 2 and b"git diff failed" in p.stderr


def test_redact_filter(env: dict[str, str]) -> None:
    text = f"log line\nAuthorization: token {GH}\nslack {SLACK}\n" + "filler line\n" * 200_000
    p = run(["redact"], env, stdin=text.encode())
    out = p.stdout.decode()
    assert p.returncode == 0 and GH not in out and SLACK not in out
    assert re.search(r"\[REDACTED:github-pat:[0-9a-f]{6}\]", out) and out.count("\n") == text.count("\n")
    assert b"redacted 2 secret(s)" in p.stderr
    assert run(["redact", "--check"], env, stdin=text.encode()).returncode == 1
    assert run(["redact", "--check"], env, stdin=b"clean").stdout == b"clean"


def test_key_store(tmp_path: Path) -> None:
    k1 = load_or_create_key(tmp_path, "fingerprint")
    assert k1 == load_or_create_key(tmp_path, "fingerprint") and len(k1) == 32
    assert load_or_create_key(tmp_path, "audit-mac") != k1
    assert (tmp_path / "keys").stat().st_mode & 0o777 == 0o700
    with pytest.raises(KeyStoreError, match="invalid key name"):
        load_or_create_key(tmp_path, "../escape")
    (tmp_path / "keys" / "fingerprint.key").chmod(0o644)
    with pytest.raises(KeyStoreError, match="chmod 600"):
        load_or_create_key(tmp_path, "fingerprint")
    (tmp_path / "keys" / "short.key").write_bytes(b"abc")
    (tmp_path / "keys" / "short.key").chmod(0o600)
    with pytest.raises(KeyStoreError, match="expected 32"):
        load_or_create_key(tmp_path, "short")


def test_fifo_in_tree_is_skipped_not_hung(tmp_path: Path, env: dict[str, str]) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "a.env").write_text(f"T={GH}\n")
    p = run(["scan", str(tmp_path)], env)
    assert p.returncode == 1 and b"pipe: skipped: not a regular file" in p.stderr


def test_pre_commit_hooks_file_is_valid() -> None:
    import yaml

    hooks = yaml.safe_load((Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml").read_text())
    by_id = {h["id"]: h for h in hooks}
    assert by_id["warden-secrets"]["entry"] == "warden scan --staged" and not by_id["warden-secrets"]["pass_filenames"]
    assert all(h["language"] == "python" and h["name"] for h in hooks)


def test_diff_parser_maps_lines_across_hunks_and_files() -> None:
    from warden.adapters.scan.sources import _scan_diff
    from warden.core.secrets import default_ruleset

    diff = (
        "diff --git a/a.py b/a.py\nindex 1..2 100644\n--- a/a.py\n+++ b/a.py\n"
        "@@ -1,0 +2,2 @@\n+x = 1\n+y = 2\n@@ -10 +40,2 @@\n-old\n+z = 3\n+t = '" + GH + "'\n"
        "diff --git a/img.png b/img.png\nBinary files a/img.png and b/img.png differ\n"
        "diff --git a/gone.txt b/gone.txt\ndeleted file mode 100644\n--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-" + GH
        + "\ndiff --git a/b.env b/b.env\nnew file mode 100644\n--- /dev/null\n+++ b/b.env\n@@ -0,0 +1,3 @@\n+A=1\n+B=2\n"
        "+S=" + SLACK + "\n"
    )
    results = _scan_diff(iter(diff.encode().splitlines(keepends=True)), default_ruleset())
    by_path = {r.path: r for r in results}
    assert [(f.rule_id, f.line) for f in by_path["a.py"].findings] == [("github-pat", 41)]
    assert [(f.rule_id, f.line) for f in by_path["b.env"].findings] == [("slack-bot-token", 3)]
    assert by_path["img.png"].notice == "skipped: binary file" and "gone.txt" not in by_path


def test_progress_bar_goes_to_stderr_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from warden.adapters.scan.sources import ScanOptions, iter_paths, scan_file
    from warden.cli.scan import _scan_files
    from warden.core.secrets import default_ruleset

    for i in range(250):
        (tmp_path / f"f{i}.txt").write_text("x = 1\n")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    results = _scan_files([str(tmp_path)], default_ruleset(), ScanOptions(), iter_paths, scan_file, [])
    out = capsys.readouterr()
    assert len(results) == 250 and out.out == ""
