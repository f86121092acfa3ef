"""Fixtures: a real `warden model-gateway` process in front of scripted upstream servers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "e2e"))

from gateway_proc import GatewayProcess  # noqa: E402


@pytest.fixture
def start_gateway(tmp_path: Path) -> Iterator:
    started: list[GatewayProcess] = []

    def start(upstreams: list[str], policy: str = "", run: bool = True, **kw) -> GatewayProcess:
        gw = GatewayProcess(tmp_path / f"gw{len(started)}", upstreams, policy, **kw)
        started.append(gw)
        return gw.start() if run else gw

    yield start
    for gw in started:
        gw.stop()
