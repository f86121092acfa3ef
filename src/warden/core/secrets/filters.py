"""Post-match checks: entropy, placeholders, documentation examples and look-alikes.

The regexes find candidates; these checks reject what is shaped like a secret but is not
one (``AKIAIOSFODNN7EXAMPLE``, ``${DB_PASSWORD}``, ``sha384-...`` integrity strings, UUIDs,
hashes). Each check is a plain function ``(secret, match, line, name) -> bool`` (True =
keep) registered by name so rules stay declarative data.
"""

from __future__ import annotations

import base64
import binascii
import math
import re  # only for small bounded patterns on short strings; never on untrusted bulk text
from collections import Counter
from typing import Any
from collections.abc import Callable

# Substrings (lower-case) that mark a value as a placeholder or documentation example.
PLACEHOLDER_WORDS = (
    "example", "sample", "placeholder", "dummy", "changeme", "change_me", "change-me", "redacted",
    "your_", "your-", "yourkey", "yourtoken", "yourpassword", "<your", "insert", "replace_me",
    "replaceme", "xxxxx", "*****", ".....", "-----", "_____", "fake", "mock", "todo", "fixme",
    "...", "abcd1234", "notreal", "not_real", "not-real", "lorem", "ipsum", "secret_here", "key_here", "token_here",
    "password_here", "abcdefghij", "0123456789", "123456789", "1234567890", "9876543210", "qwerty",
    "deadbeef", "foobar",
)
# Values that are references to a secret, not a secret: env vars, templates, lookups.
_REFERENCE = re.compile(
    r"^(?:\$\{?[A-Za-z_]|\$\(|%\([A-Za-z_]|%[sd]$|%[A-Za-z_]+%$|\{\{|\{%|<%|@@|\#\{|env\(|ENV\[|process\.env|os\.environ"
    r"|os\.getenv|getenv\(|secrets\.|vault:|ref\+|arn:aws:secretsmanager|\*\*\*|<[^<>]+>$)"
)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_HASH_LENGTHS = {32, 40, 56, 64, 96, 128}
_SRI = re.compile(r"^(?:sha(?:1|256|384|512))[-:]", re.I)
_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*(?:(?:\.|->|::)[A-Za-z_$][A-Za-z0-9_$]*)*(?:\(\)?)?$")
_WORDY = re.compile(r"^[a-z]+(?:[_\-. ][a-z]+)*$")
_CAMEL = re.compile(r"^[A-Z]*[A-Za-z][a-z]+(?:[A-Z]+[a-z]+)*[A-Z]*$")
_PATHLIKE = re.compile(r"^(?:~|\.{1,2})?/[\w./-]*$|^[A-Za-z]:\\")
_NUMBER = re.compile(r"^[0-9._:-]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_REPEAT = re.compile(r"(.)\1{5,}")
_NAME_NOT_SECRET = re.compile(
    r"(?:hash|sha\d*|md5|digest|checksum|fingerprint|etag|integrity|commit|version|_?len(?:gth)?$|size"
    r"|count|file|path|dir|url|uri|endpoint|_type|type$|name$|field|label|prompt|placeholder|policy"
    r"|expir|ttl|timeout|header|param|format|regex|pattern|_id$|id$|ids$|_ids|index|idx|prefix|suffix"
    r"|mode|method|length|min|max|enabled|required|rotation|nonce|iv$|public|pubkey|publishable"
    r"|cache|reset|forgot|confirm|hint|policy|strength|question|field|column|input|validator|_env$"
    r"|hasher|algorithm|scheme|encoder|backend|provider|helper|command|_cmd$|_file$|expiry|_days$|_age$"
    r")",
    re.I,
)
# Names that are never credentials, whatever they end with (NextContinuationToken).
_NAME_NEVER = re.compile(
    r"next_?token|page_?token|continuation|pagination|cursor|marker|csrf|xsrf|output_?token|client_?token"
    r"|change_?token|idempotency|verification_?token|forward_?token|backward_?token|update_?token|secretsmanager",
    re.I,
)


def shannon_entropy(value: str) -> float:
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def char_classes(value: str) -> int:
    lower = upper = digit = other = 0
    for ch in value:
        if "a" <= ch <= "z":
            lower = 1
        elif "A" <= ch <= "Z":
            upper = 1
        elif "0" <= ch <= "9":
            digit = 1
        else:
            other = 1
    return lower + upper + digit + other


def _has_word(secret: str, word: str) -> bool:
    # Random tokens contain short words by chance ("...FAKe..."); a placeholder spells them
    # in one case, and short ones stand apart ("my-fake-key", "FAKE_TOKEN").
    for variant in {word, word.upper(), word.capitalize()}:
        i = secret.find(variant)
        while i != -1:
            if len(word) > 5 or not word.isalpha():
                return True
            before = secret[i - 1] if i else ""
            after = secret[i + len(word) : i + len(word) + 1]
            if (not before.isalnum() and not after.isalnum()) or (before == "" and after in ("_", "-", "")):
                return True
            i = secret.find(variant, i + 1)
    return False


_ALPHABET = "abcdefghijklmnopqrstuvwxyz"
_SEQUENCES = tuple(_ALPHABET[i : i + 6] for i in range(21)) + tuple("0123456789"[i : i + 6] for i in range(5))


def is_placeholder(secret: str) -> bool:
    if any(_has_word(secret, w) for w in PLACEHOLDER_WORDS):
        return True
    low = secret.lower()
    if any(seq in low for seq in _SEQUENCES):
        return True  # "abCDeFGhiJ...", "123456": typed by a person writing an example
    if _REFERENCE.match(secret):
        return True
    if _REPEAT.search(secret) and len(set(secret)) < max(8, len(secret) // 4):
        return True
    return False


def is_known_example(secret: str) -> bool:
    return secret in KNOWN_EXAMPLES or any(secret.startswith(p) for p in KNOWN_EXAMPLE_PREFIXES)


# Published documentation/test credentials: shaped like secrets, safe by definition.
KNOWN_EXAMPLES = frozenset(
    {
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        "pk_test_TYooMQauvdEDq54NiTphI7jx",
        "sk_test_BQokikJOvBiI2HlWgH4olfQ2",
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    }
)
NOT_SECRET_PREFIXES = ("sk_test_", "rk_test_", "pk_test_", "pk_live_")
KNOWN_EXAMPLE_PREFIXES = (
    # jwt.io's example token ({"sub": "1234567890", "name": "John Doe", ...})
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwi",
)


# ---- checks -------------------------------------------------------------------------------

Check = Callable[[str, Any, str], bool]  # (secret, re2 match, line) -> keep?


def _placeholder(secret: str, m: Any, line: str) -> bool:
    return not is_placeholder(secret) and not is_known_example(secret) and not is_known_example(m.group(0))


def _pem(secret: str, m: Any, line: str) -> bool:
    # A real key body has hundreds of base64 characters; docs show "..." or a few words.
    header_end = secret.find("-----", 11)
    body = secret[header_end + 5 :] if header_end != -1 else secret
    end = body.find("-----END")
    body = body[:end] if end != -1 else body
    b64 = sum(1 for ch in body if ch.isalnum() or ch in "+/=")
    if b64 < 64:
        return False
    low = body.lower()
    return "..." not in body and "xxxx" not in low and "example" not in low and "redacted" not in low


def _b64_userpass(secret: str, m: Any, line: str) -> bool:
    try:
        raw = base64.b64decode(secret + "=" * (-len(secret) % 4), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    user, sep, password = text.partition(":")
    return bool(sep and user and password) and not is_placeholder(password) and password.lower() not in {
        "password", "pass", "secret", "pwd"
    }


_DEFAULT_PASSWORDS = frozenset({"guest", "admin", "root", "test", "user", "pass", "postgres", "changeit", "default"})


def _npmrc_auth(secret: str, m: Any, line: str) -> bool:
    # _auth is base64("user:password"); _password is base64("password").
    if "_auth" in m.group(0):
        return _b64_userpass(secret, m, line)
    try:
        value = base64.b64decode(secret + "=" * (-len(secret) % 4), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    return len(value) >= 6 and not is_placeholder(value) and value.lower() not in _STOP_VALUES


def _uri_password(secret: str, m: Any, line: str) -> bool:
    low = secret.lower()
    whole = m.group(0)
    user = whole.split("://", 1)[1].split(":", 1)[0] if "://" in whole else ""
    if low in _DEFAULT_PASSWORDS or (user and user.lower() == low):
        return False  # guest:guest, postgres:postgres: well-known defaults, not secrets
    if low in {"password", "pass", "passwd", "pwd", "secret", "pw", "p", "x", "***"} or "password" in low:
        return False
    if secret.startswith(("$", "%", "{", "<", "[")) or is_placeholder(secret):
        return False
    return True


def _token(secret: str, m: Any, line: str) -> bool:
    """Generic opaque tokens (bearer, keyword-anchored): must look random."""
    if not _placeholder(secret, m, line):
        return False
    if _UUID.match(secret) or _NUMBER.match(secret) or _WORDY.match(secret):
        return False
    return shannon_entropy(secret) >= 3.0 and char_classes(secret) >= 2


def _wordlike(letters: str) -> bool:
    """CamelCase or snake_case made of pronounceable words (vowel-rich), unlike random text."""
    if not (_CAMEL.match(letters) or _WORDY.match(letters)):
        return False
    alpha = [c for c in letters.lower() if c.isalpha()]
    return bool(alpha) and sum(c in "aeiouy" for c in alpha) / len(alpha) >= 0.3


def generic_value_ok(secret: str, name: str, quoted: bool, kind: str, env_style: bool = False,
                     human_ok: bool = False) -> bool:
    """The heart of generic-rule precision: is ``secret`` a literal credential value?

    ``kind`` is ``password`` (human-chosen, may be low entropy) or ``key`` (machine-made:
    tokens, API keys, secrets: must look random). ``env_style`` marks ``NAME=value`` /
    ``name: value`` lines (.env, YAML, INI), where a bare value is a literal; in code a
    bare value is a variable.
    """
    n = len(secret)
    if n < 8 or n > 300:
        return False
    human = kind == "password" and human_ok and not quoted  # a person's password on a .env/INI/log line
    lname = name.lower().replace("-", "_")
    if _NAME_NEVER.search(lname):
        return False
    if _NAME_NOT_SECRET.search(lname) and not lname.rstrip("_\"' ").endswith(
        ("password", "passwd", "secret", "token", "key", "pwd", "passphrase")
    ):
        return False
    if is_placeholder(secret) or is_known_example(secret) or _REFERENCE.match(secret):
        return False
    if _SRI.match(secret) or _UUID.match(secret) or _PATHLIKE.match(secret) or _DATE.match(secret):
        return False
    if _NUMBER.match(secret) or secret.startswith(("http://", "https://", "file:")):
        return False
    if secret.startswith(("arn:", "eyJ")) and "." not in secret:
        return False  # an ARN, or base64 JSON (pagination cursors); real JWTs have dots
    if "{" in secret and "}" in secret:
        return False  # a template ("{api_key}", "GOCSPX-{url28}"), filled in elsewhere
    if secret.startswith(NOT_SECRET_PREFIXES):
        return False  # test-mode and publishable keys: shaped like secrets, meant to be shared
    low = secret.lower()
    if low in _STOP_VALUES or any(w in low for w in ("password", "passwd", "secret")) or "**" in secret:
        return False
    if _WORDY.match(secret):
        return False
    if not human and sum(c.isdigit() for c in secret) <= 2 and _wordlike("".join(c for c in secret if not c.isdigit())):
        return False  # words with a digit or two: identifiers and type names (Ec2InstanceMetadata)
    # In a .env/INI/log line a password is whatever follows the "=": people pick words and
    # digits (hunter2hunter2, CorrectHorse7Battery). In code, the same shape is a variable.
    if quoted and "." in secret and _IDENT.match(secret):
        return False  # "Module.Attribute" names in strings
    if not quoted and any(c in secret for c in "()[]{}"):
        return False  # code, not a literal: password = get_pw(user)
    if _IDENT.match(secret) and not quoted:
        # A bare identifier in code is a variable (password = get_password()); dotted names
        # are attribute lookups. In env/INI/YAML lines a bare value is the literal itself.
        passphrase = human and n >= 12 and char_classes(secret) >= 2
        if not env_style or "." in secret or secret.endswith(")") or not (
            passphrase or any(c.isdigit() for c in secret)
        ):
            return False
    if _HEX.match(secret) and n in _HASH_LENGTHS and re.search(r"(?:hash|sum|sha|md5|digest)", lname):
        return False
    ent = shannon_entropy(secret)
    classes = char_classes(secret)
    has_digit = any(c.isdigit() for c in secret)
    if kind == "password":
        if human and secret.isalpha() and n >= 12 and char_classes(secret) >= 2:
            return ent >= 3.0  # a passphrase (CorrectHorseBatteryStaple) on an env or log line
        if secret.isalpha() and (n < 16 or _CAMEL.match(secret)):
            return False  # a word or identifier ("Incorrect", "BasicAuthHandler"), not a password
        return classes >= 2 and ent >= 2.5
    if _HEX.match(secret) and n < 20:
        return False  # short hex: ids and truncated hashes; real hex keys are 32+ digits
    # Machine-made keys of 10+ random characters nearly always contain a digit.
    return classes >= 2 and n >= 10 and ((has_digit and ent >= 3.0) or (n >= 24 and ent >= 4.0))


_STOP_VALUES = frozenset(
    {
        "password", "passwd", "secret", "token", "none", "null", "nil", "true", "false", "undefined",
        "required", "optional", "string", "str", "bytes", "int", "bool", "object", "empty", "default",
        "unknown", "hidden", "masked", "private", "public", "localhost", "bearer", "basic", "admin",
        "root", "guest", "anonymous",
    }
)


_ENV_LINE = re.compile(r"^\s*(?:export\s+|set\s+|ENV\s+|ARG\s+|-\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*[=:]")


_LOGFMT_PAIR = re.compile(r"(?:^|\s)[A-Za-z_][\w.\-]*=[^\s=(]")


def _logfmt(m: Any, gap: str) -> bool:
    """``user=bob password=hunter2 ip=...``: a log or logfmt line, where bare values are literals.

    Needs ``name=value`` with nothing between, a space (or the line start) before the name,
    no call parenthesis before it (``f(password=pw)`` is code) and a second such pair.
    """
    if gap != "=":
        return False
    text = m.string
    head = text[: m.start(1)]
    if head and not head[-1].isspace():
        return False
    if "(" in head or "," in text[m.end(3): m.end(3) + 1]:
        return False
    return len(_LOGFMT_PAIR.findall(text[max(0, m.start(1) - 400): m.end(3) + 400])) >= 2


def _generic(kind: str) -> Check:
    # Generic rules capture (1) the variable name, (2) an opening quote if any, (3) the value.
    def check(secret: str, m: Any, line: str) -> bool:
        quoted = bool(m.group(2))
        text = m.string
        before = text[m.start(1) - 1] if m.start(1) > 0 else ""
        gap = text[m.end(1) : m.start(3)]
        if (before and before in ":/") or (not quoted and gap.rstrip("\"'").endswith(":")):
            # arn:aws:secretsmanager:...:secret:name, vault:secret/x, ns:token/y: identifiers,
            # not assignments (a YAML/JSON value has a space or a quote after the colon)
            return False
        env_line = not quoted and bool(_ENV_LINE.match(line))
        logfmt = not quoted and _logfmt(m, gap)
        name = m.group(1) or ""
        rest = text[m.end(3): m.end(3) + 200].split("\n", 1)[0].strip()
        # "password: ReadableBuffer, salt: ..." or "Pass = PassengerUnit" in code: not a value
        human = (logfmt or (env_line and (not rest or rest.startswith("#")))) and secret.lower() not in name.lower()
        return generic_value_ok(secret, name, quoted, kind, env_line or logfmt, human)

    return check


def _cli_flag(secret: str, m: Any, line: str) -> bool:
    # "-p" is a password only for tools that mean it so (docker/podman login, mysql is its own rule).
    if m.group(1).lower() == "-p" and not re.search(r"\b(?:docker|podman|helm|nerdctl|buildah|skopeo)\b.*\blogin\b",
                                                   line):
        return False
    return generic_value_ok(secret, m.group(1).lstrip("-"), bool(m.group(2)), "password", env_style=True)


CHECKS: dict[str, Check] = {
    "cli_flag": _cli_flag,
    "generic_password": _generic("password"),
    "generic_key": _generic("key"),
    "placeholder": _placeholder,
    "pem": _pem,
    "b64_userpass": _b64_userpass,
    "uri_password": _uri_password,
    "npmrc_auth": _npmrc_auth,
    "token": _token,
}
