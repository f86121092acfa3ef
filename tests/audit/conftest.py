"""Fixtures for the audit trail tests: a fresh $WARDEN_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "wardenhome"
    h.mkdir()
    return h
