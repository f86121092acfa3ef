"""Warden: policy gateway, sandbox and audit trail for AI agents.

Kept tiny on purpose: hooks start a process per agent action, so importing
``warden`` must not pull in the CLI, pydantic, YAML or tree-sitter.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
