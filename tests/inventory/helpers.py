"""Build small repositories on disk and inventory them with the real gateway and policy engine."""

from __future__ import annotations

from pathlib import Path

from warden.adapters.inventory.scan import inventory
from warden.core.inventory.model import Inventory
from warden.gateway import Gateway

FIXTURES = Path(__file__).resolve().parent / "fixtures"
_SHARED_HOME: list[Path] = []


def shared_warden_home() -> Path:
    """One Warden home per test process, so the compiled-policy cache is built once, not per test."""
    if not _SHARED_HOME:
        import atexit
        import shutil
        import tempfile

        _SHARED_HOME.append(Path(tempfile.mkdtemp(prefix="warden-inventory-home-")))
        atexit.register(shutil.rmtree, _SHARED_HOME[0], True)
    return _SHARED_HOME[0]


def make_repo(root: Path, files: dict[str, str | bytes], *, git: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if git:
        (root / ".git").mkdir(exist_ok=True)
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)
    return root


def scan(*paths: Path, user_home: Path | None = None, warden_home: Path | None = None, recursive: bool = False) -> Inventory:
    home = warden_home or shared_warden_home()
    environ = {"HOME": str(user_home or home), "WARDEN_MANAGED_POLICY": ""}
    gw = Gateway(cwd=str(paths[0] if paths else user_home), policy_file=None, home=home, environ=environ, audit=False)
    try:
        return inventory([str(p) for p in paths], recursive=recursive, user_home=str(user_home) if user_home else None,
                         gateway=gw, managed_roots={})
    finally:
        gw.close()


def triples(inv: Inventory) -> set[str]:
    """'SOURCE -action-> TARGET' by node names: readable and stable across runs."""
    return {f"{inv.nodes[e.source].name} -{e.action}-> {inv.nodes[e.target].name}" for e in inv.edges.values()}


def edge(inv: Inventory, source: str, action: str, target: str | None = None):
    found = [e for e in inv.edges.values() if inv.nodes[e.source].name == source and e.action == action
             and (target is None or inv.nodes[e.target].name == target)]
    assert found, f"no edge {source} -{action}-> {target}; have {sorted(triples(inv))}"
    return found[0]


def rules(inv: Inventory) -> set[str]:
    return {f.rule for f in inv.findings}


def severity_of(inv: Inventory, rule: str) -> str:
    found = [f.severity for f in inv.findings if f.rule == rule]
    assert found, f"no finding {rule}; have {sorted(rules(inv))}"
    return found[0]
