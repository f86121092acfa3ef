"""What the published OpenAPI says about the routes that read their JSON bodies by hand (to answer 413/415
themselves): request bodies, error answers, the bearer key, and response models for the policy routes.

The schemas describe exactly what the routes accept and refuse, because tests/server/test_server_fuzz.py
holds the server to them with schemathesis: a body the schema allows must be taken, one it forbids must
get a 4xx, and every answer must match its documented status and shape.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal, TypeVar

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_EVENTS = 5000
# "has a character that is not white space", written so that JSON Schema (ECMA regex) and the server's
# validator (Unicode White_Space) agree: they differ on U+0085 and U+FEFF
NOT_BLANK = r"[^\s\u0085\ufeff]"
B = TypeVar("B", bound=BaseModel)


class Error(BaseModel):
    error: Any = Field(description="What went wrong and what to do next")


class PolicyBundleBody(BaseModel):
    format: int
    policy: str = Field(description="The central policy (YAML text); empty when the server has none")
    source: str
    version: str = Field(description="First 16 hex digits of SHA-256 of the policy text")
    issued_at: int = Field(description="When this server first served this text (Unix seconds)")


class PolicyBundle(BaseModel):
    bundle: PolicyBundleBody
    signature: str = Field(description="Ed25519 over the bundle's canonical JSON (sorted keys, no spaces), base64")
    key_id: str


class RotationBody(BaseModel):
    format: int
    kind: str
    from_key_id: str
    from_public_key: str
    to_key_id: str
    to_public_key: str
    at: int


class RotationStatement(BaseModel):
    statement: RotationBody
    signature: str = Field(description="Ed25519 by the OLD key over the statement's canonical JSON, base64")


class PolicyKey(BaseModel):
    alg: str
    key_id: str
    public_key: str = Field(description="The current Ed25519 public key, raw, base64")
    chain: list[RotationStatement] = Field(description="Every hand-over, oldest first")


class PolicyKeyRotated(PolicyKey):
    statement: RotationStatement


_WHY = {400: "The body or a parameter is not what this route takes", 401: "No key, or the key was refused",
        403: "The key's role may not do this", 404: "No such thing (or not yours to see)",
        409: "Refused: the state does not allow it (own request, expired, already decided, another key's id)",
        413: "The body is larger than 4 MiB", 415: "The body is not application/json",
        422: "The body has the right shape but cannot be taken (a policy that does not load, a request that is "
             "not one)",
        503: "The server cannot read its central policy"}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": Error, "description": _WHY[code]} for code in codes}


def json_body(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """``openapi_extra`` for a route that parses its own JSON body."""
    return {"requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}}


BODY_ERRORS = errors(400, 413, 415)

ACTION = {"type": "object", "description": "An action in the Claude Code hook payload shape (tool_name, tool_input, "
          "cwd, session_id, hook_event_name, optional actor and context). Anything that is not a valid action gets "
          "a deny verdict that says why, never an error."}
EVENTS = {"type": "object", "required": ["events"], "properties": {
    "machine": {"description": "This machine's name (as text; default: the key's owner)"},
    "events": {"type": "array", "maxItems": MAX_EVENTS, "description": "Audit events as the local chain holds "
               "them; each one that does not validate is listed under `refused` in the answer"}}}


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class VoteBody(_Body):
    reason: str = ""
    grant: Annotated[str, Field(pattern=r"^\s*(once|session|0*[1-9][0-9]*\s*[smhd]|duration:0*[1-9][0-9]{0,8})\s*$")] | None = Field(
        None, description="Narrow what the approval covers: once, session or a duration such as 30m (never wider "
                          "than the rule's grant)")


class KillBody(_Body):
    scope: Literal["all", "agent", "session", "actor"] = "all"
    value: str = ""
    reason: str = Field(pattern=NOT_BLANK, description="Why (shown to every agent it stops)")


class ResumeBody(_Body):
    scope: Literal["all", "agent", "session", "actor"] = "all"
    value: str = ""


class NewKeyBody(_Body):
    owner: str = ""
    role: Literal["agent", "developer", "approver", "auditor", "admin"] = "agent"
    ttl_s: float | None = Field(None, gt=0, le=10 * 365 * 86400, description="Seconds until the key expires; "
                                "none: never")
    label: str = ""
    team: str = Field("", pattern=r"^[A-Za-z0-9 ._-]{0,100}$",
                      description="The team the key's owner belongs to (approvals can be scoped to it)")


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def refuse_lone_surrogates(raw: bytes, parsed: Any) -> None:
    """JSON may spell a lone UTF-16 surrogate (\\ud800); Python keeps it, and it fails later wherever the text is
    encoded (a database, a log) with a 500. Refuse it up front; the scan is a byte search unless the body
    has such an escape at all (emoji spelled as surrogate pairs pass)."""
    if not _SURROGATE_ESCAPE.search(raw):
        return
    try:
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise HTTPException(400, "the body holds a lone UTF-16 surrogate escape (\\ud800-\\udfff), which is "
                                 "not text; send valid UTF-8") from None


class PolicyBody(_Body):
    policy: str = Field(description="The central policy (YAML); it must load over the built-in layer, else 422")
    reason: str = Field(pattern=NOT_BLANK, description="Why it changes (kept with the version)")


class ReasonBody(_Body):
    reason: str = Field(pattern=NOT_BLANK, description="Why (it is recorded)")


PUSHED_REQUEST = {"type": "object", "required": ["request"], "properties": {
    "machine": {"description": "This machine's name (as text; default: the key's owner)"},
    "request": {"type": "object", "description": "An approval request as the local state store holds it (id ap..., "
                "action_digest, policy_digest, rule_id, created_at, expires_at, grant, ...); one that is not is "
                "refused with 422"}}}
REPORT = {"type": "object", "properties": {
    "machine": {"description": "This machine's name (as text; default: the key's owner)"},
    "version": {"description": "Its Warden version (as text)"},
    "doctor": {"description": "Its `warden doctor` summary (an object; anything else is recorded as none)"}}}


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def parse(model: type[B], body: Any) -> B:
    """The body as ``model``, or a 400 that says which field is wrong."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(str(x) for x in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors())
        raise HTTPException(400, f"the body does not fit this route ({detail})") from None


def document_bearer_keys(app: FastAPI) -> None:
    """Every route needs a key (Authorization: Bearer wk_..., or the web sign-in cookie): say so once. And
    errors are JSON everywhere, also on routes whose success is plain text (FastAPI would file them under
    the route's own media type)."""
    default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = default()
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearerKey": {"type": "http", "scheme": "bearer", "description": "A Warden server key (wk_...)"},
                "signInCookie": {"type": "apiKey", "in": "cookie", "name": "warden_token"}}
            schema["security"] = [{"bearerKey": []}, {"signInCookie": []}]
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    for code, answer in operation.get("responses", {}).items():
                        content = answer.get("content") or {}
                        if code[:1] in "45" and content and "application/json" not in content:
                            answer["content"] = {"application/json": next(iter(content.values()))}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def answer_router_errors(app: FastAPI) -> None:
    """The router's own 404/405 in the API's error shape; a 405 lists every method the path takes (Starlette
    names only those of the first route that matched the path, and GET and POST /v1/events are two routes)."""
    from starlette.exceptions import HTTPException as RouterError
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Match

    async def router_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RouterError)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            methods: set[str] = set()
            for route in app.router.routes:
                match, _ = route.matches({**request.scope, "method": "\0"})
                if match != Match.NONE:
                    methods |= set(getattr(route, "methods", None) or ())
            headers["Allow"] = ", ".join(sorted(methods))
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=headers)

    app.add_exception_handler(RouterError, router_error)


class RefuseRepeatedQuery:
    """ASGI: every query parameter of the API is a single value, and FastAPI would silently take the last of
    ``?timeout=1&timeout=99``; answer 400 instead, as the published schema says. One byte search per request."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        query = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if b"&" in query:
            from urllib.parse import parse_qsl

            names = [k for k, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True)]
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                from starlette.responses import JSONResponse

                answer = JSONResponse({"error": f"query parameter {', '.join(repeated)} given more than once; "
                                                "send each once"}, status_code=400)
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)
