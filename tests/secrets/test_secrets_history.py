"""`warden scan --git`: history findings, attribution, selection, and every kind of bad repository.

Real git repositories built in tmp_path; the CLI runs as a subprocess like a user or CI would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from samplegen import fill

WARDEN = str(Path(sys.executable).parent / "warden")
GH = fill("ghp_{an36}", seed="history-1")
GH2 = fill("ghp_{an36}", seed="history-2")
SLACK = fill("xoxb-{d12}-{d13}-{an24}", seed="history")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("WARDEN_", "GIT_", "GITLEAKS_"))}
    e["WARDEN_HOME"] = str(tmp_path / "home")
    e["HOME"] = str(tmp_path)
    e["GIT_CONFIG_NOSYSTEM"] = "1"
    return e


class Repo:
    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root, self.env, self.n = root, env, 0
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        return subprocess.run(["git", "-C", str(self.root), *args], check=True, capture_output=True,
                              env=self.env).stdout.decode().strip()

    def commit(self, files: dict[str, str | bytes | None], message: str = "", author: str = "Ann Dev") -> str:
        self.n += 1
        for name, content in files.items():
            p = self.root / name
            if content is None:
                self.git("rm", "-q", name)
                continue
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(content if isinstance(content, bytes) else content.encode())
            self.git("add", name)
        date = f"2024-01-{self.n:02d}T12:00:00+00:00"
        e = dict(self.env, GIT_AUTHOR_NAME=author, GIT_AUTHOR_EMAIL=f"{author.split()[0].lower()}@example.org",
                 GIT_COMMITTER_NAME=author, GIT_COMMITTER_EMAIL="ci@example.org", GIT_AUTHOR_DATE=date,
                 GIT_COMMITTER_DATE=date)
        subprocess.run(["git", "-C", str(self.root), "commit", "-q", "--allow-empty", "-m", message or f"c{self.n}"],
                       check=True, env=e, capture_output=True)
        return self.git("rev-parse", "HEAD")


def scan(args: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[int, dict, str]:
    p = subprocess.run([WARDEN, "scan", "--format", "json", *args], capture_output=True, env=env, cwd=cwd,
                       timeout=120)
    return p.returncode, json.loads(p.stdout or b"{}"), p.stderr.decode()


def test_deleted_secret_is_found_with_commit_author_date_file_line(tmp_path: Path, env: dict[str, str]) -> None:
    r = Repo(tmp_path / "r", env)
    r.commit({"app.py": "print('hi')\n"})
    added = r.commit({"app.py": f"print('hi')\nx = 1\nGH_TOKEN = '{GH}'\n"}, "add token", author="Bob Builder")
    r.commit({"app.py": None}, "remove app")  # gone from the tree, still in history
    assert not (r.root / "app.py").exists()
    assert scan([str(r.root)], env)[0] == 0  # a tree scan cannot see it

    code, doc, err = scan(["--git", str(r.root)], env)
    assert code == 1, err
    [f] = doc["findings"]
    assert f["rule_id"] == "github-pat" and f["path"] == "app.py" and f["line"] == 3
    assert f["commit"] == added and f["introduced_in"] == added
    assert f["author"] == "Bob Builder" and f["email"] == "bob@example.org" and f["date"].startswith("2024-01-02")
    assert doc["summary"]["commits_scanned"] == 3
    assert GH not in json.dumps(doc) and GH not in err


def test_first_commit_that_introduced_a_secret(tmp_path: Path, env: dict[str, str]) -> None:
    r = Repo(tmp_path / "r", env)
    first = r.commit({"a.env": f"TOKEN={GH}\n"})
    r.commit({"b.py": "print(2)\n"})
    later = r.commit({"config/copy.env": f"# copied\nTOKEN={GH}\n"})  # the same secret again, elsewhere
    code, doc, _ = scan(["--git", str(r.root)], env)
    assert code == 1
    by_commit = {f["commit"]: f for f in doc["findings"]}
    assert set(by_commit) == {first, later}
    assert by_commit[later]["introduced_in"] == first and by_commit[later]["line"] == 2
    assert by_commit[first]["introduced_in"] == first


def test_range_since_all_refs_and_log_opts(tmp_path: Path, env: dict[str, str]) -> None:
    r = Repo(tmp_path / "r", env)
    old = r.commit({"old.env": f"TOKEN={GH}\n"})
    base = r.commit({"x.txt": "x\n"})
    new = r.commit({"new.env": f"SLACK={SLACK}\n"}, author="Carol Coder")
    r.git("checkout", "-q", "-b", "side", old)
    side = r.commit({"side.env": f"OTHER={GH2}\n"})
    r.git("checkout", "-q", "main")

    def commits(args: list[str]) -> set[str]:
        return {f["commit"] for f in scan(args, env)[1]["findings"]}

    assert commits(["--git", str(r.root)]) == {old, new}  # HEAD's history only
    assert commits(["--git", "--all-refs", str(r.root)]) == {old, new, side}
    assert commits(["--git", f"{base}..main", str(r.root)]) == {new}
    assert commits(["--git", "--since", "2024-01-03T00:00:00+00:00", str(r.root)]) == {new}
    assert commits(["--git", "--log-opts", "--author=Carol", str(r.root)]) == {new}
    assert commits(["--git", "--log-opts", "-- old.env", str(r.root)]) == {old}
    # from inside the repository, no path needed
    assert {f["commit"] for f in scan(["--git"], env, cwd=r.root)[1]["findings"]} == {old, new}
    code, _, err = scan(["--git", "--log-opts", "--format=%H", str(r.root)], env)
    assert code == 2 and "not a commit-selecting option" in err
    code, _, err = scan(["--git", "no-such-rev..main", str(r.root)], env)
    assert code == 2 and "git log failed" in err


def test_shallow_clone_is_reported(tmp_path: Path, env: dict[str, str]) -> None:
    r = Repo(tmp_path / "r", env)
    r.commit({"a.env": f"TOKEN={GH}\n"})
    r.commit({"b.txt": "b\n"})
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{r.root}", str(clone)], check=True, env=env,
                   capture_output=True)
    code, doc, err = scan(["--git", str(clone)], env)
    assert code == 1  # the secret is still in the tree of the one commit there
    assert any("shallow clone" in n["notice"] and "--unshallow" in n["notice"] for n in doc["notices"])
    assert "shallow clone" in err


def test_missing_object_is_skipped_with_an_error_and_the_rest_is_scanned(tmp_path: Path, env: dict[str, str]) -> None:
    r = Repo(tmp_path / "r", env)
    c1 = r.commit({"one.env": f"TOKEN={GH}\n"})
    c2 = r.commit({"two.env": "LOST=1\n"})
    c3 = r.commit({"three.env": f"SLACK={SLACK}\n"})
    blob = r.git("rev-parse", f"{c2}:two.env")
    (r.root / ".git" / "objects" / blob[:2] / blob[2:]).unlink()  # corrupt the repository
    code, doc, err = scan(["--git", str(r.root)], env)
    assert code == 2, err  # incomplete scan: an error, but the findings are still reported
    assert {f["commit"] for f in doc["findings"]} == {c1, c3}
    [bad] = [n for n in doc["notices"] if n["error"]]
    assert c2 in bad["notice"] and blob in bad["notice"] and "git fsck" in bad["notice"]


def test_binary_huge_submodule_vendored_and_non_utf8_paths(tmp_path: Path, env: dict[str, str]) -> None:
    sub = Repo(tmp_path / "sub", env)
    sub.commit({"s.txt": "sub\n"})
    r = Repo(tmp_path / "r", env)
    big = ("x = 1\n" * 400_000).encode()  # 2.4 MB of text
    r.commit({
        "img.png": b"\x89PNG\x00\x01" + GH.encode(),
        "blob.dat": b"\x00\x00" + GH.encode(),
        "big.txt": big + f"T={GH}\n".encode(),
        "node_modules/pkg/index.js": f"const t = '{GH2}';\n",
        "caf\xe9.txt".encode("latin-1").decode("latin-1"): f"SLACK={SLACK}\n",
    })
    weird = r.root / os.fsdecode(b"na\xefve-\xff.env")
    weird.write_bytes(f"TOKEN={GH}\n".encode())
    r.git("add", "-A")
    subprocess.run(["git", "-C", str(r.root), "-c", "protocol.file.allow=always", "submodule", "add", "-q",
                    str(sub.root), "vendor-sub"], check=True, env=env, capture_output=True)
    r.commit({})
    code, doc, err = scan(["--git", "--max-size", "1", str(r.root)], env)
    notices = {n["path"]: n["notice"] for n in doc["notices"]}
    assert code == 1, err
    assert "binary file" in notices["blob.dat"] and "binary file" in notices["img.png"]
    assert "over the 1 MB limit" in notices["big.txt"] and "2.4 MB" in notices["big.txt"]
    assert "submodule" in notices["vendor-sub"]
    [odd] = [p for p in notices if "\\x" in p]
    assert "not valid UTF-8" in notices[odd]
    paths = {f["path"] for f in doc["findings"]}
    assert odd in paths and "café.txt" in paths  # scanned, shown with escapes
    assert not any(p.startswith("node_modules/") for p in paths)  # vendored: skipped by rule
    _, doc2, _ = scan(["--git", "--include-vendored", "--max-size", "8", str(r.root)], env)
    paths2 = {f["path"] for f in doc2["findings"]}
    assert "node_modules/pkg/index.js" in paths2 and "big.txt" in paths2


def test_not_a_repository_and_bad_combinations(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "plain").mkdir()
    code, _, err = scan(["--git", str(tmp_path / "plain")], env)
    assert code == 2 and "not a git repository" in err
    code, _, err = scan(["--all-refs", "."], env)
    assert code == 2 and "go with --git" in err


def test_history_baseline_is_portable_and_sarif_tracks_commits(tmp_path: Path, env: dict[str, str]) -> None:
    r = Repo(tmp_path / "r", env)
    c1 = r.commit({"a.env": f"TOKEN={GH}\n"})
    baseline = tmp_path / "bl.json"
    assert subprocess.run([WARDEN, "scan", "--git", str(r.root), "--write-baseline", str(baseline)], env=env,
                          capture_output=True).returncode == 0
    text = baseline.read_text()
    assert GH not in text and c1 in text and '"version": 2' in text
    other = dict(env, WARDEN_HOME=str(tmp_path / "other-machine"))  # another key: a CI runner
    assert scan(["--git", str(r.root), "--baseline", str(baseline)], other)[0] == 0
    c2 = r.commit({"b.env": f"TOKEN={GH}\n"})  # the same secret committed again: a new finding
    code, doc, _ = scan(["--git", str(r.root), "--baseline", str(baseline)], other)
    assert code == 1 and [f["commit"] for f in doc["findings"]] == [c2]

    p = subprocess.run([WARDEN, "scan", "--git", str(r.root), "--format", "sarif"], env=env, capture_output=True)
    sarif = json.loads(p.stdout)["runs"][0]
    assert sarif["automationDetails"]["id"] == "warden-secrets/history/"
    prints = {res["properties"]["commit"]: res["partialFingerprints"]["wardenSecret/v2"] for res in sarif["results"]}
    assert set(prints) == {c1, c2} and prints[c1] != prints[c2]
    p2 = subprocess.run([WARDEN, "scan", "--git", str(r.root), "--format", "sarif"], env=other, capture_output=True)
    again = {res["properties"]["commit"]: res["partialFingerprints"]["wardenSecret/v2"]
             for res in json.loads(p2.stdout)["runs"][0]["results"]}
    assert again == prints  # same alerts from any machine


def test_repo_gitleaks_toml_and_commit_allowlists(tmp_path: Path, env: dict[str, str]) -> None:
    r = Repo(tmp_path / "r", env)
    acme = "acme_" + fill("{an32}", seed="acme")
    c1 = r.commit({"a.txt": f"key {acme}\n"})
    c2 = r.commit({"b.txt": f"key {acme} again\nTOKEN={GH}\n"})
    (r.root / ".gitleaks.toml").write_text(
        '[extend]\nuseDefault = true\n\n[[rules]]\nid = "acme-key"\nregex = \'\'\'acme_[A-Za-z0-9]{32}\'\'\'\n'
        f'keywords = ["acme_"]\n\n[allowlist]\ncommits = ["{c1}"]\n')
    code, doc, err = scan(["--git", str(r.root)], env)
    assert code == 1
    assert "using " in err and ".gitleaks.toml" in err
    found = {(f["rule_id"], f["commit"]) for f in doc["findings"]}
    assert found == {("acme-key", c2), ("github-pat", c2)}  # c1 is allowlisted by commit
    _, doc2, _ = scan(["--git", "--no-repo-config", str(r.root)], env)
    assert {f["rule_id"] for f in doc2["findings"]} == {"github-pat"}
    # a tree scan of the directory picks it up too (gitleaks reads ROOT/.gitleaks.toml)
    _, doc3, _ = scan([str(r.root)], env)
    assert {f["rule_id"] for f in doc3["findings"]} == {"acme-key", "github-pat"}


def test_memory_stays_bounded_on_a_huge_file_diff(tmp_path: Path, env: dict[str, str]) -> None:
    r = Repo(tmp_path / "r", env)
    rows = "".join(f"{i},{i * 7919 % 104729},name{i}\n" for i in range(1_000_000))  # ~24 MB of text
    r.commit({"data.csv": rows + f"API_TOKEN={GH}\n" + "tail\n"})
    code = (
        "import resource, sys\n"
        "from warden.adapters.scan.history import scan_history\n"
        "from warden.core.secrets import default_ruleset\n"
        "rs = default_ruleset().compile_all()\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "s = scan_history(sys.argv[1], rs)\n"
        "grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024\n"
        "print(grown, [(f.rule_id, f.line) for res in s.results for f in res.findings])\n"
    )
    p = subprocess.run([sys.executable, "-c", code, str(r.root)], capture_output=True, env=env, timeout=120,
                       check=True)
    grown, found = p.stdout.decode().split(" ", 1)
    assert found.strip() == "[('github-pat', 1000001)]"
    assert int(grown) < 80, f"the scanner grew by {grown} MB on a 24 MB file diff"  # it streams


def test_parallel_slices_give_the_same_findings_as_one_scan(tmp_path: Path, env: dict[str, str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from warden.adapters.scan import history
    from warden.core.secrets import default_ruleset

    r = Repo(tmp_path / "r", env)
    shas = [r.commit({f"f{i}.env": f"T{i}={fill('ghp_{an36}', seed=i)}\n"}) for i in range(9)]
    r.commit({"f0.env": None})
    blob = r.git("rev-parse", f"{shas[4]}:f4.env")
    (r.root / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    monkeypatch.setattr(history, "MIN_COMMITS_PER_WORKER", 1)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")

    def run(workers: int) -> tuple[list[tuple[str, str, int, str]], list[str]]:
        s = history.scan_history(str(r.root), default_ruleset(), workers=workers)
        found = [(res.commit.sha, f.rule_id, f.line, res.introduced[(f.start, f.end)])
                 for res in s.results if res.commit for f in res.findings]
        return found, [res.notice for res in s.results if res.error]

    one, errors1 = run(1)
    three, errors3 = run(3)
    assert one == three and len(one) == 8  # newest first, the corrupt commit's secret missing
    assert {c for c, *_ in one} == set(shas) - {shas[4]}
    assert errors1 == errors3 and len(errors1) == 1 and shas[4] in errors1[0]


def test_gitleaksignore_in_the_root_is_honoured(tmp_path: Path, env: dict[str, str]) -> None:
    r = Repo(tmp_path / "r", env)
    c1 = r.commit({"a.env": f"TOKEN={GH}\n"})
    c2 = r.commit({"b.env": f"x\nSLACK={SLACK}\n"})
    (r.root / ".gitleaksignore").write_text(f"# accepted after rotation\n{c1}:a.env:github-pat:1\n")
    code, doc, err = scan(["--git", str(r.root)], env)
    assert code == 1 and ".gitleaksignore (1 entries)" in err
    assert [(f["commit"], f["rule_id"]) for f in doc["findings"]] == [(c2, "slack-bot-token")]
    (r.root / ".gitleaksignore").write_text("b.env:slack-bot-token:2\na.env:github-pat:1\n")  # tree form
    assert scan([str(r.root)], env)[0] == 0
    assert scan([str(r.root), "--no-repo-config"], env)[0] == 1


def test_labelled_history_cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cases" / "secrets"))
    from history_cases import build_all

    from warden.adapters.scan.history import scan_history
    from warden.core.secrets import default_ruleset

    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    positives, negatives = build_all(tmp_path)
    wrong = []
    for label, names in (("positive", positives), ("negative", negatives)):
        for name in sorted(names):
            s = scan_history(str(tmp_path / label / name), default_ruleset())
            if bool(s.summary()["findings"]) != (label == "positive"):
                wrong.append(f"{label}/{name}")
    assert wrong == []


def test_a_repository_without_commits_is_clean_with_a_notice(tmp_path: Path, env: dict[str, str]) -> None:
    r = Repo(tmp_path / "r", env)
    (r.root / "a.env").write_text(f"TOKEN={GH}\n")  # in the work tree only: not history
    code, doc, err = scan(["--git", str(r.root)], env)
    assert code == 0 and doc["findings"] == [] and "no commits yet" in err
