"""A small, honest OIDC provider for the tests (no real one can run here): discovery, a JWKS with an RSA key,
``/authorize`` that signs the configured person in at once and redirects back with a code, ``/token`` that
checks the client secret, the redirect URI and the PKCE verifier and returns an RS256-signed id token.

``misbehave`` makes it issue a bad token on purpose: ``aud`` (for another client), ``expired``, ``bad_sig``
(signed by a key not in its JWKS), ``nonce`` (not the one sent), ``iss`` (another issuer)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey


class Provider:
    def __init__(self, client_id: str = "warden", client_secret: str = "s3cret-for-tests") -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
        self.rogue = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # same kid, not published
        self.person: dict[str, Any] = {"sub": "u-1", "email": "lead@example.com", "groups": ["approvers"]}
        self.misbehave = ""
        self.codes: dict[str, dict[str, Any]] = {}
        self.token_requests: list[dict[str, str]] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Provider:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {**self.person, "iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 300,
                  "nonce": nonce}
        if self.misbehave == "aud":
            claims["aud"] = "some-other-app"
        elif self.misbehave == "expired":
            claims.update(iat=now - 7200, exp=now - 3600)
        elif self.misbehave == "nonce":
            claims["nonce"] = "not-the-one-you-sent"
        elif self.misbehave == "iss":
            claims["iss"] = "http://127.0.0.1:1/evil"
        key = self.rogue if self.misbehave == "bad_sig" else self.key
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        prov = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _json(self, obj: Any, status: int = 200) -> None:
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                url = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    self._json({"issuer": prov.issuer, "authorization_endpoint": prov.issuer + "/authorize",
                                "token_endpoint": prov.issuer + "/token", "jwks_uri": prov.issuer + "/jwks",
                                "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"],
                                "id_token_signing_alg_values_supported": ["RS256"]})
                elif url.path == "/jwks":
                    self._json({"keys": [prov.key.as_dict(private=False)]})
                elif url.path == "/authorize":
                    if (q.get("client_id") != prov.client_id or q.get("response_type") != "code"
                            or q.get("code_challenge_method") != "S256" or not q.get("code_challenge")
                            or "openid" not in q.get("scope", "").split()):
                        self._json({"error": "invalid_request", "got": q}, 400)
                        return
                    code = secrets.token_urlsafe(16)
                    prov.codes[code] = q
                    self.send_response(302)
                    self.send_header("location", q["redirect_uri"] + "?" + urlencode(
                        {"code": code, "state": q.get("state", "")}))
                    self.end_headers()
                else:
                    self._json({"error": "not found"}, 404)

            def do_POST(self) -> None:  # noqa: N802
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["content-length"])).decode()).items()}
                prov.token_requests.append(form)
                sent = prov.codes.pop(form.get("code", ""), None)  # a code is good once
                if self.path != "/token" or sent is None:
                    self._json({"error": "invalid_grant"}, 400)
                    return
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
                if (form.get("client_id") != prov.client_id or form.get("client_secret") != prov.client_secret
                        or form.get("redirect_uri") != sent["redirect_uri"] or challenge != sent["code_challenge"]):
                    self._json({"error": "invalid_grant", "error_description": "client, redirect or PKCE mismatch"}, 400)
                    return
                self._json({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                            "id_token": prov.id_token(sent.get("nonce", ""))})

        return Handler
