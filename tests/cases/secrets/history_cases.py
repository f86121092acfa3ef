"""Labelled git-history cases: small repositories whose history does (positive) or does not
(negative) hold a real-looking credential. One case = one repository; a tool "flags" a case
when its history scan reports anything.

    from history_cases import build_all
    build_all(dest)   # dest/positive/<name>/, dest/negative/<name>/ (real git repositories)

Secrets are templates filled by samplegen (seeded), like the file corpora. The tree at HEAD of
most positive cases is clean: the point is what history still holds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "secrets"))
from samplegen import fill  # noqa: E402

Commit = dict[str, str | None]  # path -> content template (None deletes the file)

POSITIVE: dict[str, list[Commit]] = {
    "added-then-deleted": [
        {"app.py": "print('hi')\n"},
        {"settings.py": "GITHUB_TOKEN = 'ghp_{an36}'\n"},
        {"settings.py": None},
    ],
    "overwritten-by-placeholder": [
        {".env": "STRIPE_KEY=sk_live_{an24}\n"},
        {".env": "STRIPE_KEY=sk_live_your_key_here\n"},
    ],
    "env-password-removed": [
        {"deploy/.env": "DB_HOST=db\nDB_PASSWORD=Falcon-Ridge-2291\n"},
        {"deploy/.env": "DB_HOST=db\nDB_PASSWORD=${DB_PASSWORD}\n"},
    ],
    "moved-then-deleted": [
        {"keys/id_rsa": "{pem:RSA PRIVATE KEY}\n"},
        {"keys/id_rsa": None, "old/id_rsa": "{pem:RSA PRIVATE KEY}\n"},
        {"old/id_rsa": None},
    ],
    "deep-in-history": [
        {"README.md": "# tool\n"},
        {"ci.yml": "env:\n  SLACK_BOT_TOKEN: xoxb-{d12}-{d13}-{an24}\n"},
        *[{f"src/m{i}.py": f"def f{i}():\n    return {i}\n"} for i in range(12)],
        {"ci.yml": "env:\n  SLACK_BOT_TOKEN: ${{ secrets.SLACK }}\n"},
    ],
    "log-file-committed": [
        {"logs/app.log": "2024-02-01 INFO auth ok user=dave password=Walnut7Harbor ip=10.1.2.3\n"},
        {"logs/app.log": None, ".gitignore": "logs/\n"},
    ],
    "edit-inside-large-file": [
        {"config.yaml": "".join(f"key{i}: value{i}\n" for i in range(300))},
        {"config.yaml": "".join(f"key{i}: value{i}\n" for i in range(150)) + "aws_secret_access_key: {b6440}\n"
         + "".join(f"key{i}: value{i}\n" for i in range(150, 300))},
        {"config.yaml": "".join(f"key{i}: value{i}\n" for i in range(300))},
    ],
    "openai-key-in-notebook": [
        {"nb.ipynb": '{"cells": [{"source": ["import openai\\n", "openai.api_key = \\"sk-proj-{url40}T3BlbkFJ{url40}\\"\\n"]}]}\n'},
        {"nb.ipynb": '{"cells": [{"source": ["import openai\\n"]}]}\n'},
    ],
}

NEGATIVE: dict[str, list[Commit]] = {
    "placeholders-only": [
        {".env.example": "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nDB_PASSWORD=changeme\n"},
        {".env.example": "GITHUB_TOKEN=\nDB_PASSWORD=\n"},
    ],
    "documented-examples": [
        {"docs/aws.md": "Use `AKIAIOSFODNN7EXAMPLE` and `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`.\n"},
        {"docs/aws.md": None},
    ],
    "references-to-secrets": [
        {"deploy.yml": "env:\n  TOKEN: ${{ secrets.DEPLOY_TOKEN }}\n  PASSWORD: ${DB_PASSWORD}\n"},
        {"app.py": "import os\npassword = os.environ['DB_PASSWORD']\ntoken = get_token()\n"},
    ],
    "hashes-and-ids": [
        {"requirements.txt": "requests==2.31.0 --hash=sha256:{hex64}\n"},
        {"lock.json": '{"integrity": "sha512-{b6486}==", "commit": "{hex40}"}\n'},
    ],
    "password-settings": [
        {"settings.py": "PASSWORD_MIN_LENGTH = 12\nAUTH_PASSWORD_VALIDATORS = []\n"},
        {"settings.ini": "[password]\nmin_length = 12\npassword_expiry_days = 90\n"},
    ],
    "masked-logs": [
        {"logs/app.log": "2024-02-01 INFO login user=dave password=******** ok\n"},
        {"logs/app.log": "2024-02-02 INFO login user=erin password=[FILTERED] ok\n"},
    ],
}


def _run(root: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env=env)


def build(root: Path, commits: list[Commit], seed: str) -> Path:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    root.mkdir(parents=True)
    _run(root, "init", "-q", "-b", "main", env=env)
    for n, files in enumerate(commits, 1):
        for name, template in files.items():
            p = root / name
            if template is None:
                _run(root, "rm", "-q", name, env=env)
                continue
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(fill(template, seed=f"{seed}-{name}"), encoding="utf-8")
            _run(root, "add", name, env=env)
        date = f"2024-03-{n:02d}T09:00:00+00:00" if n <= 28 else f"2024-04-{n - 28:02d}T09:00:00+00:00"
        e = dict(env, GIT_AUTHOR_NAME="Dev", GIT_AUTHOR_EMAIL="dev@example.org", GIT_COMMITTER_NAME="Dev",
                 GIT_COMMITTER_EMAIL="dev@example.org", GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
        _run(root, "commit", "-q", "--allow-empty", "-m", f"commit {n}", env=e)
    return root


def build_all(dest: Path) -> tuple[set[str], set[str]]:
    for label, cases in (("positive", POSITIVE), ("negative", NEGATIVE)):
        for name, commits in cases.items():
            build(dest / label / name, commits, seed=f"history-{label}-{name}")
    return set(POSITIVE), set(NEGATIVE)
