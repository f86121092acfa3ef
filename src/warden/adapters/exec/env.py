"""Environment scrubbing: credential-looking variables never reach the sandboxed command.

A variable is removed when its *name* looks like a credential (TOKEN, SECRET, PASSWORD, API_KEY,
AWS_*, ...), when it points at an agent or credential socket (SSH_AUTH_SOCK, GPG_AGENT_INFO), or
when its *value* looks like one (known token prefixes, PEM blocks, URLs with a password, or a hit of
the secrets engine ``warden.core.secrets`` when that module is installed). Names matching the
profile's ``env_allow`` globs are kept whatever they look like: that is the explicit escape hatch.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping

# Matched against the upper-cased name. Bounded, linear patterns on short strings (names <= 4 KiB).
_NAME_PATTERNS = re.compile(
    r"(TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|AUTH|COOKIE"
    r"|SESSION_?KEY|SIGNING_?KEY|CLIENT_?KEY|_KEY$|^KEY$|_PAT$|_DSN$|CONNECTION_?STRING|DATABASE_URL)"
)
_NAME_PREFIXES = ("AWS_", "AZURE_", "GOOGLE_APPLICATION_CREDENTIALS", "GCP_", "VAULT_", "NPM_CONFIG__AUTH",
                  "DOCKER_AUTH", "KUBECONFIG", "OP_SESSION", "HF_", "HUGGING_FACE", "OPENAI_", "ANTHROPIC_",
                  "GH_", "GITHUB_", "GITLAB_", "SLACK_", "STRIPE_", "TWILIO_", "SENTRY_", "CLOUDFLARE_")
_SOCKET_NAMES = frozenset({"SSH_AUTH_SOCK", "SSH_AGENT_PID", "GPG_AGENT_INFO", "DBUS_SESSION_BUS_ADDRESS",
                           "DOCKER_HOST", "KRB5CCNAME", "XDG_RUNTIME_DIR"})
# Harmless names that the patterns above would catch.
_NAME_OK = frozenset({"GITHUB_WORKSPACE", "GITHUB_ACTIONS", "GITHUB_REF", "GITHUB_SHA", "GITHUB_REPOSITORY",
                      "GITHUB_RUN_ID", "GITHUB_EVENT_NAME", "GITHUB_WORKFLOW", "GITHUB_JOB", "AWS_REGION",
                      "AWS_DEFAULT_REGION", "AUTHOR", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL"})
_VALUE_PATTERNS = re.compile(
    r"(-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}"
    r"|\bglpat-[A-Za-z0-9_-]{20,}"
    r"|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"
    r"|\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}"
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}"
    r"|\bAIza[0-9A-Za-z_-]{35}"
    r"|\bnpm_[A-Za-z0-9]{36}"
    r"|\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\."
    r"|[a-z][a-z0-9+.-]{0,20}://[^/\s:@]{1,256}:[^/\s@]{1,256}@)"
)
_MAX_VALUE_SCAN = 64 * 1024


def _engine_detector() -> Callable[[str], bool] | None:
    """The secrets engine, when the installed Warden has one.

    Interface assumption: ``warden.core.secrets.scan(text)`` returns an iterable of findings (empty
    when clean). Anything else, or an exception, makes us fall back to the built-in patterns.
    """
    try:
        from warden.core import secrets as engine  # type: ignore[attr-defined]
    except Exception:
        return None
    scan = getattr(engine, "scan", None)
    if not callable(scan):
        return None

    def detect(value: str) -> bool:
        try:
            return bool(list(scan(value)))
        except Exception:
            return False  # the built-in patterns still apply

    return detect


def is_credential_name(name: str) -> bool:
    upper = name.upper()
    if upper in _NAME_OK:
        return False
    if upper in _SOCKET_NAMES or upper.startswith(_NAME_PREFIXES):
        return True
    return bool(_NAME_PATTERNS.search(upper))


def is_credential_value(value: str, detector: Callable[[str], bool] | None = None) -> bool:
    sample = value[:_MAX_VALUE_SCAN]
    if _VALUE_PATTERNS.search(sample):
        return True
    return bool(detector and detector(sample))


def scrub_env(
    env: Mapping[str, str],
    allow: Iterable[str] = (),
    *,
    use_engine: bool = True,
) -> tuple[dict[str, str], list[str]]:
    """Return ``(kept, removed_names)``. Values are never returned for removed variables."""
    allow = tuple(allow)
    detector = _engine_detector() if use_engine else None
    kept: dict[str, str] = {}
    removed: list[str] = []
    for name, value in env.items():
        if any(fnmatch.fnmatchcase(name, pat) for pat in allow):
            kept[name] = value
        elif is_credential_name(name) or is_credential_value(value, detector):
            removed.append(name)
        else:
            kept[name] = value
    return kept, sorted(removed)
