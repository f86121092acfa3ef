"""Engine behaviour: streaming, huge lines, allowlists, markers, public API, corpus accuracy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from samplegen import fill

import warden.core.secrets as secrets
from warden.core.secrets import (
    MARKER_PATTERN,
    Allowlist,
    Rule,
    Ruleset,
    default_ruleset,
    redact,
    redact_stream,
    scan_stream,
    scan_text,
)
from warden.core.secrets.engine import CHUNK, OVERLAP

CORPUS = Path(__file__).resolve().parents[1] / "cases" / "secrets" / "corpus"
GH = fill("ghp_{an36}", seed="engine")
PEM = fill("{pem:RSA PRIVATE KEY}", seed="engine")
KEY = b"test-key"


def test_public_api_is_pinned() -> None:
    assert sorted(secrets.__all__) == sorted([
        "ALLOW_MARKERS", "Allowlist", "Finding", "GitleaksConfigError", "MARKER_PATTERN", "Redaction", "Rule",
        "RuleError", "Ruleset", "default_ruleset", "load_gitleaks_toml", "redact", "redact_data", "redact_stream",
        "scan_stream", "scan_text",
    ])


def test_finding_never_shows_the_secret() -> None:
    (f,) = scan_text(f"token: {GH}\n")
    assert GH not in repr(f) and GH not in json.dumps(f.to_json(KEY))
    assert f.fingerprint(KEY) == f.fingerprint(KEY) and f.fingerprint(KEY) != f.fingerprint(b"other")
    assert re.fullmatch(r"[0-9a-f]{16}", f.fingerprint(KEY))


def test_redaction_markers_are_stable_and_keyed() -> None:
    text = f"a={GH}\nb={GH}\nc=1\n"
    red = redact(text, KEY)
    assert GH not in red.text
    markers = re.findall(MARKER_PATTERN, red.text)
    assert len(markers) == 2 and markers[0] == markers[1]
    assert markers[0].startswith("[REDACTED:github-pat:")
    assert markers[0][-7:-1] == red.findings[0].fingerprint(KEY)[:6]
    assert redact(text, b"other-key").text != red.text
    assert red.text.endswith("c=1\n")


def test_redaction_leaves_clean_text_untouched() -> None:
    text = "nothing to see here\nsha256 = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
    red = redact(text, KEY)
    assert red.text == text and red.findings == () and not red.changed


def test_multiline_private_key_redacted_whole() -> None:
    red = redact(f"key:\n{PEM}\nend\n", KEY)
    assert "BEGIN RSA" not in red.text and "MIIE" not in red.text
    assert red.text.startswith("key:\n[REDACTED:private-key-rsa:") and red.text.endswith("]\nend\n")
    assert red.findings[0].line == 2 and red.findings[0].end_line == 2 + PEM.count("\n")


def _chunks(text: str, size: int):
    for i in range(0, len(text), size):
        yield text[i : i + size]


@pytest.mark.parametrize("piece", [1000, 65_536, CHUNK])
def test_stream_equals_whole_text_across_chunk_boundaries(piece: int) -> None:
    filler = "x = 1\n" * (CHUNK // 6)
    text = filler + f"t={GH}\n" + filler[: OVERLAP + 17] + PEM + "\n" + filler + f"u={GH}"
    whole = [(f.rule_id, f.start, f.end, f.line) for f in scan_text(text)]
    streamed = [(f.rule_id, f.start, f.end, f.line) for f in scan_stream(_chunks(text, piece))]
    assert streamed == whole and len(whole) == 3
    assert "".join(redact_stream(_chunks(text, piece), KEY)) == redact(text, KEY).text


def test_secret_straddling_a_chunk_cut_is_found() -> None:
    # Place the token so that it crosses the first chunk boundary, on one huge line.
    text = "a" * (CHUNK - 10) + " " + GH + " " + "b" * 100
    assert [f.rule_id for f in scan_stream(_chunks(text, CHUNK))] == ["github-pat"]


def test_minified_multi_megabyte_single_line() -> None:
    bundle = "var a=function(){return 1};" * 150_000  # ~4 MB, one line
    text = bundle + f'var k="{fill("AIza{url35}", seed="min")}";' + bundle
    found = list(scan_stream(_chunks(text, 1 << 20)))
    assert [f.rule_id for f in found] == ["gcp-api-key"] and found[0].line == 1


def test_invalid_characters_and_nul_do_not_crash() -> None:
    text = "\ufffd\ufffd\x00\udcff" + f" {GH} " + "\U0001F600" * 10 + "İ" * 50 + f" {GH}"
    assert [f.rule_id for f in scan_text(text)] == ["github-pat", "github-pat"]


def test_pathological_input_is_linear() -> None:
    # Inputs that make backtracking engines explode: long runs next to every keyword.
    evil = ("password=" + "a" * 5000 + "\n") * 50 + ("ghp_" * 20000) + ("-----BEGIN RSA PRIVATE KEY-----" * 2000)
    scan_text(evil)  # RE2 is linear; this returns (a hang would fail the suite's timeout)


@pytest.mark.parametrize("marker", ["warden:allow-secret", "gitleaks:allow"])
def test_inline_allow_marker(marker: str) -> None:
    assert scan_text(f"token = '{GH}'  # {marker}\n") == []
    assert len(scan_text(f"token = '{GH}'\n# {marker}\n")) == 1  # only the same line


def test_specific_rule_beats_generic_on_same_span() -> None:
    (f,) = scan_text(f'api_key = "{GH}"\n')
    assert f.rule_id == "github-pat"


def test_decoys_are_not_findings() -> None:
    decoys = [
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
        "password: ${DB_PASSWORD}",
        "token = os.environ['TOKEN']",
        'integrity="sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC"',
        "request_id = 3f2b8c1e-9d4a-4b6e-8f1a-2c3d4e5f6a7b",
        "sha256 = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "postgres://user:password@localhost/db",
        "api_key: <YOUR_API_KEY>",
    ]
    for line in decoys:
        assert scan_text(line + "\n") == [], line


def test_custom_rule_and_allowlists() -> None:
    rule = Rule(id="acme", description="ACME key", regex=r"acme_([a-z0-9]{16})", keywords=("acme_",), checks=())
    rs = Ruleset(rules=(rule,), allowlists=(Allowlist(stopwords=("0000",)),))
    assert [f.rule_id for f in rs.scan("k=acme_a1b2c3d4e5f6a7b8")] == ["acme"]
    assert rs.scan("k=acme_a1b2c3d40000a7b8") == []
    path_al = Ruleset(rules=(rule,), allowlists=(Allowlist(paths=(r"fixtures/",)),))
    assert path_al.scan("k=acme_a1b2c3d4e5f6a7b8", "tests/fixtures/a.txt") == []
    assert len(path_al.scan("k=acme_a1b2c3d4e5f6a7b8", "src/a.txt")) == 1


def test_default_ruleset_compiles() -> None:
    rs = Ruleset(rules=default_ruleset().rules).compile_all()
    assert len(rs.rules) >= 100


def _corpus_scores() -> tuple[float, float, list[str]]:
    tp = fn = fp = 0
    wrong: list[str] = []
    for label in ("positive", "negative"):
        for path in sorted((CORPUS / label).iterdir()):
            hit = bool(scan_text(path.read_text(encoding="utf-8"), path=path.name))
            if label == "positive":
                tp, fn = tp + hit, fn + (not hit)
            else:
                fp += hit
            if hit != (label == "positive"):
                wrong.append(f"{label}/{path.name}")
    return tp / (tp + fn), tp / max(1, tp + fp), wrong


def test_corpus_accuracy_meets_targets() -> None:
    recall, precision, wrong = _corpus_scores()
    assert recall >= 0.97 and precision >= 0.95, wrong


def test_package_functions_are_not_shadowed_by_submodules() -> None:
    secrets.redact("x", KEY)
    secrets.load_gitleaks_toml("")
    assert callable(secrets.redact) and callable(secrets.scan_text) and callable(secrets.load_gitleaks_toml)


def test_redact_data_walks_json_and_reports_masked_fields() -> None:
    event = {"tool_input": {"command": f"export T={GH}", "n": 3}, "edits": [{"new_string": "ok"}, {"new_string": GH}],
             GH: "key-position"}
    red, masked, found = secrets.redact_data(event, KEY)
    assert GH not in json.dumps(red)
    assert sorted(masked) == ["<key>", "edits[1].new_string", "tool_input.command"]
    assert red["tool_input"]["n"] == 3 and red["edits"][0]["new_string"] == "ok" and len(found) == 3
    assert event["tool_input"]["command"].endswith(GH)  # the input is not modified
    deep: object = GH
    for _ in range(100):
        deep = [deep]
    red, masked, _ = secrets.redact_data(deep, KEY)
    assert GH not in json.dumps(red) and masked
