"""Change-risk labels: what kind of code a change touches, from its path and its content.

A change to authentication, authorization, cryptography, payments, secrets handling, data exports,
database schemas, infrastructure, CI or dependencies needs a reviewer who knows that area. Each label
comes from two kinds of signal, each with a reason a reviewer can check:

* **path conventions** — directory and file names projects use for that area (``auth/``,
  ``migrations/``, ``*.tf``, ``.github/workflows/``, lockfiles);
* **content signals** — lines added *or removed* that call that area's APIs (``jwt.decode``,
  ``bcrypt``, ``ALTER TABLE``, ``stripe.``, ``verify=False``). Removed lines count: deleting a
  permission check is an authorization change.

Test code and documentation about an area are labelled but marked ``test``/``docs``: they get a
lower severity and do not raise policy facts (an agent fixing ``tests/test_login.py`` is not
changing authentication).

Pure and bounded: content signals run on at most ``MAX_SCAN`` characters per change, with
linear-time patterns (RE2 when available, otherwise short, non-nested Python patterns).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from warden.core.audit.redact import basic_redact

MAX_SCAN = 256 * 1024

SEVERITY = {"auth": "high", "authz": "high", "crypto": "high", "payments": "high", "secrets": "high",
            "migration": "high", "iac": "high", "ci": "high", "data_export": "medium", "dependencies": "medium"}
REVIEWERS = {"auth": "security", "authz": "security", "crypto": "security", "secrets": "security",
             "payments": "payments/security", "migration": "database owner", "iac": "platform",
             "ci": "platform/security", "data_export": "data protection", "dependencies": "supply chain"}
DESCRIPTION = {
    "auth": "authentication (login, sessions, tokens, passwords)",
    "authz": "authorization (permissions, roles, access checks)",
    "crypto": "cryptography or TLS verification",
    "payments": "payments and billing",
    "secrets": "secrets handling (credentials, keys, vaults)",
    "data_export": "data export (dumps, reports, uploads of records)",
    "migration": "database schema or migrations",
    "iac": "infrastructure as code",
    "ci": "CI/CD pipelines",
    "dependencies": "dependency manifests and lockfiles",
}
LABELS = tuple(SEVERITY)

_SEG = r"(?:^|/)"
_END = r"(?:/|[._-]|$)"

# (label, pattern on the lower-cased path, why)
_PATHS: list[tuple[str, str, str]] = [
    ("ci", r"(?:^|/)\.github/workflows/|(?:^|/)\.github/actions/|(?:^|/)\.gitlab-ci\.ya?ml$|(?:^|/)\.circleci/|"
           r"(?:^|/)jenkinsfile$|(?:^|/)azure-pipelines\.ya?ml$|(?:^|/)\.buildkite/|(?:^|/)bitbucket-pipelines\.yml$|"
           r"(?:^|/)\.drone\.yml$|(?:^|/)\.travis\.yml$", "a CI/CD pipeline definition"),
    ("iac", r"\.tf$|\.tfvars$|\.hcl$|(?:^|/)terraform/|(?:^|/)(?:k8s|kubernetes|helm|charts|kustomize|manifests)/|"
            r"(?:^|/)kustomization\.ya?ml$|(?:^|/)pulumi\.[a-z]+$|(?:^|/)(?:cdk|cloudformation|cfn)/|\.bicep$|"
            r"(?:^|/)ansible/|(?:^|/)playbooks?/|(?:^|/)serverless\.ya?ml$|(?:^|/)template\.ya?ml$|"
            r"(?:^|/)docker-compose[^/]*\.ya?ml$|(?:^|/)fly\.toml$|(?:^|/)app\.yaml$",
     "an infrastructure definition"),
    ("migration", r"(?:^|/)migrations?/|(?:^|/)alembic/|(?:^|/)db/migrate/|(?:^|/)schema\.(?:sql|rb|prisma)$|"
                  r"(?:^|/)flyway/|(?:^|/)liquibase/|(?:^|/)db/schema/",
     "a database schema or migration"),
    ("dependencies", r"(?:^|/)(?:package\.json|package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|"
                     r"bun\.lockb?|requirements[^/]*\.(?:txt|in)|constraints[^/]*\.txt|pyproject\.toml|poetry\.lock|"
                     r"uv\.lock|pipfile|pipfile\.lock|setup\.py|setup\.cfg|go\.mod|go\.sum|cargo\.toml|"
                     r"cargo\.lock|gemfile|gemfile\.lock|pom\.xml|build\.gradle(?:\.kts)?|gradle\.lockfile|"
                     r"composer\.json|composer\.lock|mix\.exs|mix\.lock|packages\.lock\.json|[^/]+\.csproj)$",
     "a dependency manifest or lockfile"),
    ("secrets", r"(?:^|/)\.env(?:\.[^/]*)?$|(?:^|/)secrets?(?:/|[._-])|(?:^|/)credentials?(?:/|[._-]|$)|"
                r"(?:^|/)vault/|\.pem$|\.key$|\.p12$|\.pfx$|\.jks$|\.keystore$|(?:^|/)\.sops\.ya?ml$|"
                r"(?:^|/)sealed-?secrets?/", "a secrets or credentials file"),
    ("auth", _SEG + r"(?:auth|authn|authentication|login|logout|signin|sign_in|signup|sign_up|sessions?|oauth2?|"
             r"oidc|saml|sso|jwt|passwords?|passport|mfa|2fa|totp|webauthn|identity)" + _END,
     "an authentication module"),
    ("authz", _SEG + r"(?:authz|authorization|authorisation|permissions?|rbac|abac|acls?|roles?|policies|"
              r"access[_-]?control|guards?|casbin|opa|rego)" + _END + r"|\.rego$",
     "an authorization module"),
    ("crypto", _SEG + r"(?:crypto|cryptography|encrypt(?:ion)?|decrypt(?:ion)?|cipher|kms|hsm|tls|ssl|certs?|"
               r"signing|signatures?|hashing)" + _END, "a cryptography module"),
    ("payments", _SEG + r"(?:payments?|billing|checkout|invoic(?:e|es|ing)|stripe|paypal|braintree|adyen|"
                 r"subscriptions?|pricing|refunds?|payouts?|wallet)" + _END, "a payments module"),
    ("data_export", _SEG + r"(?:exports?|exporters?|dumps?|backups?|etl|reports?|extracts?|data[_-]?exports?)"
                    r"(?:/|\.|$)",
     "a data export module"),
]

# (label, pattern on a line, why) — applied to added and removed lines
_CONTENT: list[tuple[str, str, str]] = [
    ("auth", r"\bjwt\.(?:encode|decode|sign|verify)\b|\bjsonwebtoken\b|\bverify_password\b|\bcheck_password(?:_hash)?\b|"
             r"\bset_password\b|\bgenerate_password_hash\b|\bbcrypt\b|\bargon2\b|\bpassport\.(?:authenticate|use)\b|"
             r"@login_required\b|\blogin_user\b|\blogout_user\b|\bauthenticate\(|\bsession\.regenerate\b|"
             r"\bOAuth2PasswordBearer\b|\bget_current_user\b|\bAuthenticationMiddleware\b|\bSESSION_COOKIE_\w+|"
             r"\bpassword_hash\b|\bcreate_access_token\b|\bnext-auth\b|\bdevise\b|\bhas_secure_password\b",
     "calls authentication APIs"),
    ("authz", r"@permission_required\b|\bhas_perm(?:ission)?s?\(|\bis_admin\b|\bis_superuser\b|\bauthorize\(|"
              r"@PreAuthorize\b|@Secured\b|@RolesAllowed\b|\bcan\?\(|\bauthorize\s+@|\bcancan\b|\bpundit\b|\bcheck_permission\b|"
              r"\brequire_role\b|\bpermission_classes\b|\bIsAuthenticated\b|\bIsAdminUser\b|\brole\s*[!=]=|"
              r"\bcasbin\b|\benforcer\.enforce\b", "checks permissions or roles"),
    ("crypto", r"\bhashlib\.(?:md5|sha1)\b|\bCipher\(|\bAES\b|\bRSA\b|\bcryptography\.hazmat\b|\bcrypto\.create(?:Cipher|Hash|Hmac|Sign)\b|"
               r"\bverify\s*=\s*False\b|\b_create_unverified_context\b|\bInsecureSkipVerify\b|"
               r"\bCERT_NONE\b|\brejectUnauthorized\s*:\s*false\b|\bNODE_TLS_REJECT_UNAUTHORIZED\b|\bFernet\b|"
               r"\bnacl\.\b|\bhmac\.new\b|\bsecrets\.token_\w+|\bos\.urandom\b|\bPBKDF2\b|\bscrypt\b",
     "uses cryptography or changes TLS verification"),
    ("payments", r"\bstripe\.\w+|\bPaymentIntent\b|\bbraintree\.\b|\bpaypal\w*\b|\badyen\b|\bcharge\.create\b|"
                 r"\bamount_cents\b|\bcreate_refund\b|\bcheckout\.session\b", "calls payment APIs"),
    ("secrets", r"\b(?:os\.environ|os\.getenv|process\.env|ENV)\b[^\n]{0,40}(?:SECRET|TOKEN|PASSWORD|API_KEY|PRIVATE_KEY)|"
                r"\bhvac\b|\bsecretsmanager\b|\bget_secret_value\b|\bkeyring\.\w+|\bvault\.read\b",
     "reads or handles secrets"),
    ("data_export", r"\.to_csv\(|\.to_excel\(|\.to_parquet\(|\bcsv\.writer\b|\bCOPY\s+\S+\s+TO\b|\bpg_dump\b|"
                    r"\bmysqldump\b|\bs3\.put_object\b|\bupload_file\(|\bSELECT\s+\*\s+FROM\s+(?:users|customers|"
                    r"accounts|orders|payments|patients)\b|\bsend_file\(|\bStreamingResponse\(|\bbulk_export\b",
     "writes or sends records out"),
    ("migration", r"\b(?:CREATE|ALTER|DROP)\s+(?:TABLE|INDEX|COLUMN|SCHEMA|DATABASE)\b|\bop\.(?:add|drop|alter)_\w+|"
                  r"\bmigrations\.(?:AddField|RemoveField|AlterField|CreateModel|DeleteModel|RunSQL)\b|"
                  r"\bcreate_table\b|\badd_column\b|\bremove_column\b|\bdrop_table\b",
     "changes a database schema"),
    ("iac", r"^\s*resource\s+\"(?:aws|google|azurerm|kubernetes|helm)_\w+\"|\bkind:\s*(?:Deployment|Role|ClusterRole|"
            r"RoleBinding|ClusterRoleBinding|Secret|Ingress|NetworkPolicy|ServiceAccount)\b|\bAWSTemplateFormatVersion\b|"
            r"\bnew\s+(?:s3|ec2|iam|lambda)\.\w+\(", "defines infrastructure"),
]

_TEST = re.compile(r"(?:^|/)(?:tests?|spec|specs|__tests__|testing|fixtures?|testdata)/|(?:^|/)test_[^/]*$|"
                   r"_test\.[a-z]+$|\.test\.[a-z]+$|\.spec\.[a-z]+$|(?:^|/)conftest\.py$")
_DOCS = re.compile(r"\.(?:md|rst|adoc)$|(?:^|/)docs?/")
_TEST_AFFIX = re.compile(r"(^|/)tests?_|[._](?:test|spec)(?=\.[a-z]+$)")
_LOCKFILE = re.compile(r"(?:lock|\.sum)$|\.lock\.json$|shrinkwrap\.json$|\.lockb$")


def _compile(table: list[tuple[str, str, str]], flags: int) -> list[tuple[str, re.Pattern[str], str]]:
    return [(label, re.compile(rx, flags), why) for label, rx, why in table]


_PATH_RX = _compile(_PATHS, 0)
_CONTENT_RX = _compile(_CONTENT, re.MULTILINE)
_CONTENT_IC = {"migration", "data_export"}  # SQL keywords are written in any case


@dataclass(frozen=True, slots=True)
class Signal:
    label: str
    kind: str  # "path" | "content"
    why: str
    line: str = ""  # the matching line (clipped), for content signals


@dataclass(slots=True)
class ChangeRisk:
    path: str
    labels: list[str] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    scope: str = "code"  # code | test | docs

    @property
    def severity(self) -> str:
        if not self.labels:
            return "none"
        top = "high" if any(SEVERITY[label] == "high" for label in self.labels) else "medium"
        if self.scope != "code":
            return "low"
        return top

    @property
    def sensitive(self) -> bool:
        return self.scope == "code" and bool(self.labels)

    def reasons(self) -> list[str]:
        out = []
        for s in self.signals:
            where = f": `{s.line}`" if s.line else ""
            out.append(f"{DESCRIPTION[s.label]} — {s.why}{where}")
        return out


def _scope(path: str) -> str:
    if _TEST.search(path):
        return "test"
    if _DOCS.search(path) and not _PATH_RX[0][1].search(path):
        return "docs"
    return "code"


def classify(path: str, lines: Iterable[str] = ()) -> ChangeRisk:
    """Labels for one changed file: its path, and the lines the change adds or removes."""
    norm = path.replace("\\", "/").lower()
    while norm.startswith("./"):
        norm = norm[2:]
    risk = ChangeRisk(path=path, scope=_scope(norm))
    # tests name the area they test: tests/test_login.py is about login
    subject = _TEST_AFFIX.sub(lambda m: "." if m.group(1) is None else m.group(1), norm) if risk.scope == "test" else norm
    seen: set[str] = set()
    for label, rx, why in _PATH_RX:
        if label not in seen and rx.search(subject):
            seen.add(label)
            risk.signals.append(Signal(label, "path", f"the path is {why}"))
    by_content: set[str] = set()  # one path and one content signal per label, each a reason
    if not _LOCKFILE.search(norm) and risk.scope != "docs":  # lockfiles and prose are data: their contents say nothing about the code
        budget = MAX_SCAN
        for line in lines:
            if budget <= 0:
                break
            chunk = line[:2000]
            budget -= len(chunk)
            for label, rx, why in _CONTENT_RX:
                if label in by_content:
                    continue
                m = rx.search(chunk) or (label in _CONTENT_IC and re.search(rx.pattern, chunk, re.IGNORECASE))
                if m:
                    by_content.add(label)
                    risk.signals.append(Signal(label, "content", why, basic_redact(chunk.strip())[:160]))
    seen |= by_content
    risk.labels = [label for label in LABELS if label in seen]
    return risk


def fact_kinds(risk: ChangeRisk) -> list[str]:
    """Policy facts for a change (``change.auth`` ...): only for code, not tests or docs."""
    return [f"change.{label}" for label in risk.labels] if risk.sensitive else []
