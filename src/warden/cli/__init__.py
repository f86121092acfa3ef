"""The ``warden`` command.

``main`` dispatches the per-action hot paths (``warden hook ...``) before importing click,
rich or pydantic: a hook runs once per agent tool call, so start-up time is product
behaviour. Everything else goes through the click app in :mod:`warden.cli.app`.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) >= 2 and args[0] == "hook" and not args[1].startswith("-"):
        try:
            from warden.integrations.hook import main as hook_main
        except Exception as exc:  # fail closed: exit 2 blocks the tool in every agent that has hooks
            print(f"warden: hook unavailable ({exc}); blocking to stay safe", file=sys.stderr)
            return 2
        return hook_main(args[1], args[2:])
    if args and args[0] == "decide":
        from warden.cli.decide_stream import fast_main

        code = fast_main(args[1:])
        if code is not None:
            return code
    if args and args[0] == "exec":
        from warden.cli.exec_run import fast_main as exec_fast_main

        code = exec_fast_main(args[1:])
        if code is not None:
            return code
    from warden.cli.app import run

    return run(args)
