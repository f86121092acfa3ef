"""What re-verifying the cached server bundle costs on every policy load (warden.adapters.server_bundle).

A client home is laid out as `warden login` leaves it (server.json with the pin, the signed
server-bundle.json, server-managed.yaml), signed by a real BundleSigner; the managed policy is the
size of the shipped recommended policy. Then, medians over many loads:

  in-process   uncached      memory and disk caches emptied before each load: JSON, Ed25519, compare
               disk cache    memory emptied, disk cache present: what a fresh hook process pays
               memory cache  the warm daemon's case
               no login      no server.json at all: the floor the check adds to
  process      a fresh interpreter that imports the check and runs it once, with and without the disk
               cache: the uncached one also imports `cryptography` (the cost the disk cache exists for)

Usage: python bench/bench_bundle.py [--runs N]
Target: a cached load adds <= 100 µs in-process (file opens dominate: three small files are opened and
the managed one read, which discovery did anyway); the disk cache saves a hook process the ~20 ms
cryptography import and the signature check.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _stats import fmt_ms, fmt_us, time_calls, time_process  # noqa: E402


def lay_out(root: Path) -> Path:
    from warden.adapters import server_bundle
    from warden.integrations.server_client.config import ServerLink, save, write_private
    from warden.server.bundle import BundleSigner

    server_home, home = root / "server", root / "client"
    server_home.mkdir()
    home.mkdir(mode=0o700)
    policy = root / "central.yaml"
    policy.write_text((Path(server_bundle.__file__).parents[1] / "policies" / "recommended.yaml").read_text())
    signer = BundleSigner(server_home)
    signed = signer.bundle(str(policy))
    write_private(home / server_bundle.MANAGED, signed["bundle"]["policy"])
    write_private(home / server_bundle.BUNDLE, json.dumps(signed))
    save(home, ServerLink(url="http://127.0.0.1:9", key="wk_x_y", bundle_key=signer.public()["public_key"],
                          machine="bench", bundle_version=signed["bundle"]["version"],
                          bundle_issued_at=signed["bundle"]["issued_at"]))
    return home


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=2000)
    args = ap.parse_args()
    from warden.adapters import server_bundle as sb

    with tempfile.TemporaryDirectory() as tmp:
        home = lay_out(Path(tmp))
        size = (home / sb.MANAGED).stat().st_size
        cache = home / "cache" / sb.CHECK_CACHE
        assert sb.checked_managed(home) is not None  # it verifies (and warms the imports)

        def uncached() -> None:
            sb._MEMORY.clear()
            cache.unlink(missing_ok=True)
            sb.checked_managed(home)

        def disk() -> None:
            sb._MEMORY.clear()
            sb.checked_managed(home)

        rows = {"uncached (JSON + Ed25519 + compare)": time_calls(uncached, args.runs // 4)}
        sb.checked_managed(home)
        rows["disk cache (fresh hook process)"] = time_calls(disk, args.runs)
        rows["memory cache (warm daemon)"] = time_calls(lambda: sb.checked_managed(home), args.runs)
        bare = Path(tmp) / "bare"
        bare.mkdir(mode=0o700)
        rows["no login (nothing to check)"] = time_calls(lambda: sb.checked_managed(bare), args.runs)
        print(f"managed policy {size} bytes; medians of {args.runs // 4}..{args.runs} loads, in-process")
        for name, samples in rows.items():
            print(f"  {name:<40} {fmt_us(statistics.median(samples))}")

        code = ("import sys; from pathlib import Path; from warden.adapters.server_bundle import checked_managed; "
                "assert checked_managed(Path(sys.argv[1]))")
        argv = [sys.executable, "-c", code, str(home)]
        n = max(9, args.runs // 100)
        warm = time_process(argv, n)
        cold = []
        for _ in range(n):
            cache.unlink(missing_ok=True)
            cold += time_process(argv, 1)
        plain = time_process([sys.executable, "-c", "import warden.adapters.server_bundle"], n)
        print(f"a fresh process that imports the check and runs it once (median of {n}):")
        print(f"  {'import only':<40} {fmt_ms(statistics.median(plain))}")
        print(f"  {'+ check, disk cache present':<40} {fmt_ms(statistics.median(warm))}")
        print(f"  {'+ check, no cache (imports cryptography)':<40} {fmt_ms(statistics.median(cold))}")


if __name__ == "__main__":
    main()
