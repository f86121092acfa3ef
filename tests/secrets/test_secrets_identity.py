"""Keyless finding identity (baselines, SARIF) and the env-style password rule."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from samplegen import fill

from warden.core.secrets import redact, scan_text

WARDEN = str(Path(sys.executable).parent / "warden")


def test_identity_is_keyless_stable_and_reveals_nothing_about_the_secret() -> None:
    a, b = fill("ghp_{an36}", seed="id-a"), fill("ghp_{an36}", seed="id-b")
    fa = scan_text(f"x = 1\n    GH_TOKEN = '{a}'\n")[0]
    fb = scan_text(f"GH_TOKEN = '{b}'")[0]
    # same words around it, same file: same identity whatever the secret and the indentation
    assert fa.identity("app.py") == fb.identity("app.py")
    # the hash is not of the line with the secret in it (no dictionary oracle)
    assert fa.line_hash != hashlib.sha256(f"GH_TOKEN = '{a}'".encode()).hexdigest()[: len(fa.line_hash)]
    assert a not in fa.identity("app.py")
    # file, rule context and commit change it
    assert fa.identity("other.py") != fa.identity("app.py")
    assert fa.identity("app.py", "c1") != fa.identity("app.py", "c2") != fa.identity("app.py")
    fc = scan_text(f"OTHER_NAME = '{a}'")[0]
    assert fc.identity("app.py") != fa.identity("app.py")


def test_every_secret_on_the_line_is_masked() -> None:
    token = fill("ghp_{an36}", seed="m")
    found = scan_text(f"user=dave password=Walnut7Harbor token={token}")
    assert len(found) == 2 and found[0].line_hash == found[1].line_hash
    # the hash does not depend on either secret: no guess can be confirmed against it
    other = scan_text(f"user=dave password=Pelican9Harbour token={fill('ghp_{an36}', seed='n')}")
    assert [f.line_hash for f in other] == [f.line_hash for f in found]


def test_baseline_matches_under_another_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDEN_")}
    (tmp_path / "a.env").write_text(f"GH_TOKEN={fill('ghp_{an36}', seed='bl')}\nDB_PASSWORD=hunter2hunter2\n")
    bl = tmp_path / "bl.json"
    laptop = dict(env, WARDEN_HOME=str(tmp_path / "laptop"))
    ci = dict(env, WARDEN_HOME=str(tmp_path / "ci"))
    assert subprocess.run([WARDEN, "scan", str(tmp_path / "a.env"), "--write-baseline", str(bl)], env=laptop,
                          capture_output=True).returncode == 0
    doc = json.loads(bl.read_text())
    assert doc["version"] == 2 and len(doc["findings"]) == 2 and "hunter2" not in bl.read_text()
    assert all(set(e) == {"identity", "rule_id", "path"} for e in doc["findings"])
    p = subprocess.run([WARDEN, "scan", str(tmp_path / "a.env"), "--baseline", str(bl)], env=ci, capture_output=True)
    assert p.returncode == 0, p.stdout
    # keyed fingerprints differ between the machines: the old scheme could not have matched
    fp = [json.loads(subprocess.run([WARDEN, "scan", str(tmp_path / "a.env"), "--format", "json"], env=e,
                                    capture_output=True).stdout)["findings"][0]["fingerprint"] for e in (laptop, ci)]
    assert fp[0] != fp[1]
    # a version 1 (keyed) baseline still works under its own key
    v1 = tmp_path / "v1.json"
    v1.write_text(json.dumps({"version": 1, "fingerprints": [{"fingerprint": fp[0]}]}))
    p = subprocess.run([WARDEN, "scan", str(tmp_path / "a.env"), "--baseline", str(v1), "--format", "json"],
                       env=laptop, capture_output=True)
    assert [f["rule_id"] for f in json.loads(p.stdout)["findings"]] == ["generic-password"]


@pytest.mark.parametrize("text", [
    "DB_PASSWORD=hunter2hunter2",
    "password=CorrectHorseBatteryStaple",
    "2024-01-01 12:00:00 INFO login user=bob password=CorrectHorse42 ip=10.0.0.1",
    "export SMTP_PASSWORD=Sunflower!Field42",
    "  - POSTGRES_PASSWORD=Gr33nTea-Kettle",
    "default_pass = Marmalade2023x",
    "spring.datasource.password=Ch4ngedIt2Prod",
    "Environment=REDIS_PASSWORD=qk7Pz2LmW9",
])
def test_env_style_passwords_are_found(text: str) -> None:
    assert [f.rule_id for f in scan_text(text)] == ["generic-password"], text


@pytest.mark.parametrize("text", [
    "DB_PASSWORD=",
    "DB_PASSWORD=changeme",
    "DB_PASSWORD=${DB_PASSWORD}",
    "REDIS_PASSWORD=$(cat /run/secrets/redis)",
    "user=carol password=******** ok",
    "user=dan password=[FILTERED] ok",
    "PASSWORD_MIN_LENGTH=12",
    "PASSWORD_HASHERS=django.contrib.auth.hashers.Argon2PasswordHasher",
    "password_file = /etc/app/db.pass",
    "password: FilterOrBool = False,",  # type annotations in code (seen in site-packages)
    "    password: ReadableBuffer, salt: ReadableBuffer, iterations: int",
    "global___PassengerUnit = PassengerUnit",
    "f(user=u, password=pw12345678)",
    "  --password PASSWORD   the account password (default: prompt)",
])
def test_env_style_look_alikes_are_not(text: str) -> None:
    assert scan_text(text) == [], text


def test_redacted_slack_webhook_keeps_its_host() -> None:
    url = "https://hooks.slack.com/services/" + fill("T{up8}/B{up8}/{an24}", seed="hook")
    red = redact(f"notify: {url}", b"k")
    assert [f.rule_id for f in red.findings] == ["slack-webhook-url"]
    assert red.text.startswith("notify: https://hooks.slack.com/[REDACTED:slack-webhook-url:")
    assert url.split("/services/")[1] not in red.text


def test_sarif_information_uri_comes_from_package_metadata() -> None:
    from importlib.metadata import metadata

    from warden.adapters.scan.report import information_uri

    urls = dict(e.split(", ", 1) for e in metadata("warden").get_all("Project-URL") or [])
    assert information_uri() == urls["Homepage"] and information_uri().startswith("https://")
