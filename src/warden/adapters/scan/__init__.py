"""Scanning files, directories, git diffs and streams for secrets (the I/O side of
:mod:`warden.core.secrets`): walking, reading with bounded memory, reporting, baselines."""

from warden.adapters.scan.sources import (
    FileResult,
    ScanOptions,
    iter_paths,
    scan_file,
    scan_git_diff,
    scan_stream_text,
)

__all__ = ["FileResult", "ScanOptions", "iter_paths", "scan_file", "scan_git_diff", "scan_stream_text"]
