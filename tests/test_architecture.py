"""House rules that can be checked mechanically."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "src" / "warden" / "core"
FORBIDDEN_IN_CORE = {"os", "subprocess", "socket", "sqlite3", "pathlib", "shutil", "tempfile", "time",
                     "datetime", "urllib.request", "http", "requests", "httpx", "io"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_never_imports_adapters_or_io_modules():
    offenders = []
    for path in CORE.rglob("*.py"):
        for name in _imports(path):
            if name.startswith("warden.adapters") or name.startswith("warden.cli") or name == "warden.gateway":
                offenders.append(f"{path.relative_to(CORE)} imports {name}")
            if name in FORBIDDEN_IN_CORE or name.split(".")[0] in {"subprocess", "socket", "sqlite3", "shutil"}:
                offenders.append(f"{path.relative_to(CORE)} imports {name} (I/O belongs in adapters)")
    assert not offenders, offenders


def test_import_warden_stays_lean():
    code = "import sys, warden; print(','.join(m for m in ('click','rich','pydantic','yaml','tree_sitter') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_public_api_is_pinned():
    import warden

    assert warden.__all__ == ["__version__"]
