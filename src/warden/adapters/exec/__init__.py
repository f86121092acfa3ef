"""Sandboxed execution with bubblewrap (``warden exec``).

Public API::

    from warden.adapters.exec import run_sandboxed, parse_sandbox_section, wrap_for_claude
    settings = parse_sandbox_section(gw.policy.sandbox)
    result = run_sandboxed(["make", "test"], settings.profile("default"), "/path/to/repo")
    result.returncode, result.env_removed, result.violations, result.egress

See docs/sandbox.md for the layout of the sandbox and the profile fields.
"""

from __future__ import annotations

from warden.adapters.exec.profile import Limits, Profile, ProfileError, SandboxSettings, parse_sandbox_section
from warden.adapters.exec.sandbox import (
    EXIT_NOT_FOUND,
    EXIT_REFUSED,
    EXIT_SETUP,
    EXIT_TIMEOUT,
    SandboxResult,
    SandboxUnavailable,
    diagnose,
    prepare,
    run_sandboxed,
    run_unsandboxed,
    wrap_for_claude,
)
from warden.adapters.exec.mounts import MountError

__all__ = [
    "EXIT_NOT_FOUND", "EXIT_REFUSED", "EXIT_SETUP", "EXIT_TIMEOUT", "Limits", "MountError", "Profile",
    "ProfileError", "SandboxResult", "SandboxSettings", "SandboxUnavailable", "diagnose", "parse_sandbox_section",
    "prepare", "run_sandboxed", "run_unsandboxed", "wrap_for_claude",
]
