"""OIDC sign-in for people: the authorization-code flow with PKCE, the id token verified before anyone is let in.

Flow: ``/ui/oidc/start`` sends the browser to the provider's ``authorization_endpoint`` with a fresh
``state``, ``nonce`` and PKCE ``code_challenge`` (S256); the three secrets travel in a short-lived
HMAC-signed cookie, so any replica can finish the flow. ``/ui/oidc/callback`` checks ``state``, trades
the code (with the ``code_verifier``) at the ``token_endpoint`` and verifies the id token: signature
against the provider's JWKS, ``iss``, ``aud`` (our client id), ``exp``/``iat``, and the ``nonce`` we sent.
The person's role comes from one claim (``groups`` by default) through the role map; a person whose
claim maps to no Warden role is refused, never defaulted to something. A signed-in person gets a
server key (owner = their e-mail or subject, role = the mapped role, 12 hours) in the same cookie a
key sign-in uses, so every endpoint authorizes them exactly like any other principal.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

# the roles a person can hold; ``agent`` is for machines and is never granted through sign-in
PERSON_ROLES = ("admin", "approver", "auditor", "developer")
FLOW_TTL_S = 600  # how long a sign-in may take between /start and /callback
SESSION_TTL_S = 12 * 3600


class OIDCError(Exception):
    """Sign-in refused; the message says why (shown to the person, recorded in the audit log)."""


@dataclass
class OIDCConfig:
    issuer: str
    client_id: str
    client_secret: str
    role_claim: str = "groups"
    role_map: dict[str, str] = field(default_factory=dict)  # claim value -> Warden role
    public_url: str = ""  # how browsers reach this server; default: the request's own base URL
    scope: str = "openid email profile"

    def __post_init__(self) -> None:
        bad = {v for v in self.role_map.values() if v not in PERSON_ROLES}
        if bad:
            raise ValueError(f"--oidc-role-map: {', '.join(sorted(bad))} is not a person's role "
                             f"(one of {', '.join(PERSON_ROLES)})")

    def to_json(self) -> dict[str, Any]:  # for worker processes; the secret stays in the environment
        return {"issuer": self.issuer, "client_id": self.client_id, "role_claim": self.role_claim,
                "role_map": self.role_map, "public_url": self.public_url, "scope": self.scope}


def parse_role_map(text: str) -> dict[str, str]:
    """``approvers=approver,sec-team=auditor`` -> {"approvers": "approver", "sec-team": "auditor"}."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        claim, sep, role = part.partition("=")
        if not sep or not claim.strip() or not role.strip():
            raise ValueError(f"--oidc-role-map: {part!r} is not CLAIM_VALUE=ROLE")
        out[claim.strip()] = role.strip()
    return out


class OIDC:
    """One provider. Discovery and JWKS are fetched lazily and cached (the JWKS refetched once on an
    unknown ``kid``, so a provider's key rotation does not lock people out)."""

    def __init__(self, config: OIDCConfig) -> None:
        self.config = config
        self._meta: dict[str, Any] | None = None
        self._jwks: dict[str, Any] | None = None
        # the flow cookie's MAC key: derived from the client secret, so every replica shares it
        self._mac_key = hashlib.sha256(b"warden-oidc-flow\0" + config.client_secret.encode()).digest()

    # -- provider metadata ---------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        if self._meta is None:
            url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            meta = _get_json(url)
            if meta.get("issuer") != self.config.issuer:  # OIDC Discovery §4.3: must match exactly
                raise OIDCError(f"the provider's discovery document names issuer {meta.get('issuer')!r}, "
                                f"not {self.config.issuer!r}")
            for k in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(meta.get(k), str):
                    raise OIDCError(f"the provider's discovery document has no {k}")
            self._meta = meta
        return self._meta

    def jwks(self, refresh: bool = False) -> dict[str, Any]:
        if self._jwks is None or refresh:
            self._jwks = _get_json(self.metadata()["jwks_uri"])
        return self._jwks

    # -- the flow ------------------------------------------------------------------------------
    def start(self, redirect_uri: str) -> tuple[str, str]:
        """(the provider URL to send the browser to, the signed flow cookie)."""
        from authlib.common.security import generate_token
        from authlib.integrations.httpx_client import OAuth2Client

        verifier, nonce = generate_token(64), generate_token(32)
        client = OAuth2Client(self.config.client_id, self.config.client_secret, scope=self.config.scope,
                              redirect_uri=redirect_uri, code_challenge_method="S256")
        url, state = client.create_authorization_url(self.metadata()["authorization_endpoint"],
                                                     code_verifier=verifier, nonce=nonce)
        flow = {"state": state, "nonce": nonce, "verifier": verifier, "redirect_uri": redirect_uri,
                "until": time.time() + FLOW_TTL_S}
        return url, self._seal(flow)

    def finish(self, flow_cookie: str, state: str, code: str) -> dict[str, Any]:
        """Trade the code for tokens and return the verified id token's claims."""
        from authlib.integrations.httpx_client import OAuth2Client
        from authlib.integrations.base_client import OAuthError

        flow = self._open(flow_cookie)
        if not state or not hmac.compare_digest(str(flow["state"]), state):
            raise OIDCError("the sign-in's state does not match (a stale tab or a forged callback): sign in again")
        if not code:
            raise OIDCError("the provider sent no authorization code")
        client = OAuth2Client(self.config.client_id, self.config.client_secret,
                              redirect_uri=flow["redirect_uri"], timeout=10,
                              token_endpoint_auth_method="client_secret_post")
        try:
            token = client.fetch_token(self.metadata()["token_endpoint"], grant_type="authorization_code",
                                       code=code, code_verifier=flow["verifier"])
        except (OAuthError, httpx.HTTPError, ValueError) as exc:
            raise OIDCError(f"the provider refused the code: {exc}") from None
        finally:
            client.close()
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise OIDCError("the provider's token response has no id_token (is 'openid' in the scope?)")
        return self.verify(id_token, nonce=str(flow["nonce"]))

    def verify(self, id_token: str, *, nonce: str, now: float | None = None) -> dict[str, Any]:
        from joserfc import jwt
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        try:
            header = json.loads(_b64(id_token.split(".")[0]))
        except (ValueError, IndexError):
            raise OIDCError("the id token is not a JWT") from None
        alg = header.get("alg")
        if alg not in ("RS256", "RS384", "RS512", "PS256", "ES256", "EdDSA"):  # never "none" nor HMAC
            raise OIDCError(f"the id token's algorithm {alg!r} is not accepted")
        try:
            keys = KeySet.import_key_set(self.jwks())  # type: ignore[arg-type]
            if header.get("kid") and not any(k.kid == header["kid"] for k in keys.keys):
                keys = KeySet.import_key_set(self.jwks(refresh=True))  # type: ignore[arg-type]
            tok = jwt.decode(id_token, keys, algorithms=[alg])
        except JoseError as exc:
            raise OIDCError(f"the id token's signature does not verify against the provider's keys ({exc.error})") \
                from None
        except ValueError as exc:
            raise OIDCError(f"the id token could not be read: {exc}") from None
        claims = dict(tok.claims)
        registry = jwt.JWTClaimsRegistry(
            now=int(now if now is not None else time.time()), leeway=30,
            iss={"essential": True, "value": self.config.issuer},
            aud={"essential": True, "value": self.config.client_id},
            exp={"essential": True}, iat={"essential": True}, sub={"essential": True},
            nonce={"essential": True, "value": nonce})
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise OIDCError(f"the id token is not valid for this server: {exc.description or exc.error}") from None
        azp = claims.get("azp")
        if isinstance(claims.get("aud"), list) and len(claims["aud"]) > 1 and azp != self.config.client_id:
            raise OIDCError("the id token names several audiences and was not issued to this server (azp)")
        return claims

    def person(self, claims: dict[str, Any]) -> tuple[str, str]:
        """(who — e-mail, else subject — and their Warden role); refused when no claim value maps to a role."""
        who = str(claims.get("email") or claims.get("preferred_username") or claims["sub"])
        raw = claims.get(self.config.role_claim)
        values = [str(v) for v in raw] if isinstance(raw, list) else ([str(raw)] if raw is not None else [])
        mapping = self.config.role_map or {r: r for r in PERSON_ROLES}  # no map: the claim names the role
        roles = {mapping[v] for v in values if v in mapping}
        for role in PERSON_ROLES:  # the strongest role the person holds
            if role in roles:
                return who, role
        raise OIDCError(f"{who} holds no Warden role: their {self.config.role_claim!r} claim "
                        f"({', '.join(values) or 'absent'}) maps to none; ask an admin to map one")

    # -- the flow cookie -----------------------------------------------------------------------
    def _seal(self, flow: dict[str, Any]) -> str:
        body = base64.urlsafe_b64encode(json.dumps(flow).encode()).decode().rstrip("=")
        mac = hmac.new(self._mac_key, body.encode(), hashlib.sha256).hexdigest()
        return f"{body}.{mac}"

    def _open(self, cookie: str) -> dict[str, Any]:
        body, _, mac = cookie.rpartition(".")
        good = hmac.new(self._mac_key, body.encode(), hashlib.sha256).hexdigest()
        if not body or not hmac.compare_digest(mac, good):
            raise OIDCError("no sign-in in progress in this browser (cookies blocked, or it was started elsewhere): "
                            "sign in again")
        flow = json.loads(_b64(body))
        if float(flow.get("until", 0)) < time.time():
            raise OIDCError("the sign-in took too long: sign in again")
        return dict(flow)


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _get_json(url: str) -> dict[str, Any]:
    try:
        r = httpx.get(url, timeout=10)
        r.raise_for_status()
        data = r.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise OIDCError(f"cannot read {url}: {exc}") from None
    if not isinstance(data, dict):
        raise OIDCError(f"{url} did not return a JSON object")
    return data
