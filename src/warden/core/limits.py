"""Bounds on untrusted input (house rule 7), importable without any other Warden module.

A larger payload is denied, never truncated.
"""

MAX_PAYLOAD_BYTES = 16 * 1024 * 1024  # one action's JSON
MAX_STRING = 4 * 1024 * 1024  # any one string inside it
MAX_DEPTH = 32  # nesting of tool_input
