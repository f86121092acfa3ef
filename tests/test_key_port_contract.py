"""One contract, every KeyStore: the file store under $WARDEN_HOME/keys and the in-memory one."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from warden.adapters.keys import FileKeyStore, MemoryKeyStore
from warden.ports import KeyStore, KeyStoreError


@pytest.fixture(params=["file", "memory"])
def make_store(request, tmp_path: Path):
    """A factory: calling it again gives the same store *as its users see it* (a reopened file store)."""
    if request.param == "file":
        return lambda: FileKeyStore(tmp_path / "home")
    store = MemoryKeyStore()
    return lambda: store


def test_key_store_contract(make_store):
    store = make_store()
    assert isinstance(store, KeyStore)
    first = store.get_key("fingerprint")
    assert isinstance(first, bytes) and len(first) == 32
    assert store.get_key("fingerprint") == first
    assert make_store().get_key("fingerprint") == first  # stable for the store's lifetime
    assert store.get_key("audit-mac") not in (first, b"\0" * 32)
    for bad in ("", "../escape", "UPPER", "a/b", "x" * 80):
        with pytest.raises(KeyStoreError):
            store.get_key(bad)


def test_file_store_refuses_keys_others_can_read(tmp_path: Path):
    store = FileKeyStore(tmp_path / "home")
    store.get_key("fingerprint")
    path = tmp_path / "home" / "keys" / "fingerprint.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    os.chmod(path, 0o644)
    with pytest.raises(KeyStoreError, match="chmod 600"):
        store.get_key("fingerprint")


def test_file_store_fails_closed_on_a_truncated_key(tmp_path: Path):
    store = FileKeyStore(tmp_path / "home")
    store.get_key("fingerprint")
    (tmp_path / "home" / "keys" / "fingerprint.key").write_bytes(b"short")
    with pytest.raises(KeyStoreError, match="expected 32"):
        store.get_key("fingerprint")


def test_redaction_takes_its_key_from_the_port():
    from warden.adapters.redaction import redactor_for

    token = "ghp_" + "R8bQ2vX9kL4mN7pT1wZ5yC3dF6gH0jK2sA8e"
    a, b = MemoryKeyStore(), MemoryKeyStore()
    marked_a, marked_b = redactor_for(a)(f"t={token}"), redactor_for(b)(f"t={token}")
    assert token not in marked_a and "[REDACTED:" in marked_a
    assert marked_a == redactor_for(a)(f"t={token}")  # the same key, the same marker
    assert marked_a != marked_b  # fingerprints are keyed: another store, another marker
