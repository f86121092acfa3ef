"""Fixtures of the MCP tests (helpers live in mcp_env.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp_env import Env


@pytest.fixture
def menv(tmp_path: Path) -> Env:
    return Env(tmp_path)
