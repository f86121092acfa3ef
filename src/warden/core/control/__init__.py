"""The control loop, as pure state machines over the :class:`~warden.ports.StateStore` port.

* :mod:`.digest`    what an approval is bound to: the normalized action and its command shape
* :mod:`.approvals` requests, votes (separation of duties, quorum), grants and what they cover
* :mod:`.kill`      kill-switch scopes and which actions they stop
* :mod:`.limits`    ``N/window`` budgets keyed by actor, agent, session, rule or tool
* :mod:`.taint`     untrusted content entering a session, and prompt-injection patterns
* :mod:`.gate`      the stateful step of a decision: kill, taint, limits, loop breaker, grants

Nothing here reads a clock: every function that needs the time takes ``now`` (epoch seconds).
"""

from warden.core.control.approvals import (
    ApprovalError,
    ApprovalRequest,
    Grant,
    Principal,
    Vote,
    apply_vote,
    grant_covers,
    parse_grant,
)
from warden.core.control.digest import action_digest, command_shape
from warden.core.control.kill import KillSwitch, kill_matches, parse_scope
from warden.core.control.limits import LimitSpec, counter_key, parse_limit

__all__ = [
    "ApprovalError", "ApprovalRequest", "Grant", "KillSwitch", "LimitSpec", "Principal", "Vote",
    "action_digest", "apply_vote", "command_shape", "counter_key", "grant_covers", "kill_matches",
    "parse_grant", "parse_limit", "parse_scope",
]
