"""The reviewer model's client: any OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp, hosted).

One POST to ``{url}/chat/completions`` with the card, asking for strict JSON (``response_format``
json_schema); the API key comes from the environment variable the policy names. Every failure — no
answer in time, an HTTP error, a refusal, malformed output — is an escalation to a human.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from warden.core.review.autoreview import ANSWER_SCHEMA, ReviewerSettings, ReviewOutcome, judge, prompt


def review(card: Mapping[str, Any], settings: ReviewerSettings, environ: Mapping[str, str] | None = None) -> ReviewOutcome:
    import httpx

    env = os.environ if environ is None else environ
    messages, digest = prompt(card, settings.model)
    headers = {"content-type": "application/json"}
    key = env.get(settings.api_key_env, "") if settings.api_key_env else ""
    if key:
        headers["authorization"] = f"Bearer {key}"
    body = {"model": settings.model, "messages": messages, "temperature": 0, "max_tokens": 300,
            "response_format": {"type": "json_schema",
                                "json_schema": {"name": "warden_review", "strict": True, "schema": ANSWER_SCHEMA}}}
    t0 = time.perf_counter()

    def escalate(why: str, error: str, answer: Any = None) -> ReviewOutcome:
        return ReviewOutcome(False, why, settings.model, "", (time.perf_counter() - t0) * 1000, digest, answer, error)

    try:
        resp = httpx.post(settings.url + "/chat/completions", json=body, headers=headers, timeout=settings.timeout_s)
    except httpx.TimeoutException:
        return escalate(f"the reviewer did not answer within {settings.timeout_s:g} s; a person decides", "timeout")
    except httpx.HTTPError as exc:
        return escalate(f"the reviewer could not be reached ({type(exc).__name__}); a person decides", str(exc))
    if resp.status_code != 200:
        return escalate(f"the reviewer answered HTTP {resp.status_code}; a person decides", resp.text[:300])
    try:
        data = resp.json()
        msg = data["choices"][0]["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        return escalate("the reviewer's reply was not a chat completion; a person decides", "malformed reply",
                        resp.text[:600])
    if msg.get("refusal"):
        return escalate("the reviewer refused to judge it; a person decides", "refusal", msg.get("refusal"))
    approved, reason, risk, answer, error = judge(str(msg.get("content") or ""), settings.max_risk)
    return ReviewOutcome(approved, reason, str(data.get("model") or settings.model), risk,
                         (time.perf_counter() - t0) * 1000, digest, answer, error)
