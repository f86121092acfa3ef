"""Draw the graph with Graphviz's `dot` (Debian package graphviz), bounded in time."""

from __future__ import annotations

import shutil
import subprocess

DOT_SECONDS = 60


def render_svg(source: str, *, binary: str = "dot", timeout: float = DOT_SECONDS) -> tuple[str, str]:
    """(svg, "") or ("", why not): the report is still written, and says why the picture is missing."""
    exe = shutil.which(binary)
    if exe is None:
        return "", f"Graphviz `{binary}` is not installed (apt-get install graphviz)"
    try:
        proc = subprocess.run([exe, "-Tsvg"], input=source.encode(), capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return "", f"Graphviz took longer than {timeout:.0f} s; inventory fewer repositories per report"
    except OSError as exc:
        return "", f"cannot run Graphviz: {exc}"
    if proc.returncode != 0:
        return "", f"Graphviz failed: {proc.stderr.decode(errors='replace')[:300]}"
    svg = proc.stdout.decode("utf-8", errors="replace")
    start = svg.find("<svg")
    return (svg[start:] if start >= 0 else svg), ""
