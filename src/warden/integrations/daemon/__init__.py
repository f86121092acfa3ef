"""The warm per-user daemon (``server``) and its lean client (``client``), agent-neutral.

Kept empty: the hook's hot path imports this package.
"""
