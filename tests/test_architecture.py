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


SRC = CORE.parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _warden_graph(skip: tuple[str, ...] = ()) -> dict[str, set[str]]:
    """module -> the warden modules it imports (lazy, function-level imports included)."""
    modules = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        if name.startswith(skip):
            continue
        targets = set()
        for imported in _imports(path):
            # `from warden.x import y` may name a module y or an attribute of warden.x
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported.startswith("warden.") and imported != name and not imported.startswith(skip):
                targets.add(imported)
        graph[name] = targets
    return graph


def test_adapters_never_import_the_gateway_or_the_driving_side():
    """Dependencies point down: cli/server/sdk/integrations -> gateway -> core; adapters are handed in."""
    offenders = [f"{name} imports {target}" for name, targets in _warden_graph().items()
                 if name.startswith("warden.adapters") for target in targets
                 if target == "warden.gateway" or target.startswith(("warden.integrations", "warden.cli"))]
    assert not offenders, offenders


def test_no_two_modules_import_each_other():
    # core.analyze's handler table is a known circle (the declarative specs of issue 12 remove it).
    graph = _warden_graph(skip=("warden.core.analyze",))
    seen: set[str] = set()
    on_stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        if node in on_stack:
            cycles.append([*on_stack[on_stack.index(node):], node])
            return
        if node in seen:
            return
        seen.add(node)
        on_stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            # a package's __init__ importing its own submodules is a facade, not a circle
            if not nxt.startswith(node + "."):
                visit(nxt)
        on_stack.pop()

    for start in sorted(graph):
        visit(start)
    assert not cycles, cycles


def test_stores_declare_the_ports_they_implement():
    from warden.adapters.keys import FileKeyStore, MemoryKeyStore
    from warden.adapters.store.postgres import PostgresAuditStore
    from warden.adapters.store.sqlite import SQLiteAuditStore
    from warden.ports import AuditStore, KeyStore

    assert issubclass(SQLiteAuditStore, AuditStore) and AuditStore in SQLiteAuditStore.__mro__
    assert AuditStore in PostgresAuditStore.__mro__
    assert KeyStore in FileKeyStore.__mro__ and KeyStore in MemoryKeyStore.__mro__
