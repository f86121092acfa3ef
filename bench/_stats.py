"""Small timing helpers shared by the benchmarks."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Sequence


def percentile(samples: Sequence[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def time_calls(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def time_process(argv: list[str], n: int, input: bytes | None = None, env: dict | None = None) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(argv, input=input, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        out.append(time.perf_counter() - t)
    return out


def fmt_us(seconds: float) -> str:
    return f"{seconds * 1e6:8.1f} µs"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1e3:7.2f} ms"


def summary(samples: Sequence[float]) -> tuple[float, float]:
    return statistics.median(samples), percentile(samples, 99)
