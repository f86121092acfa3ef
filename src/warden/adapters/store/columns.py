"""The columns beside the hashed body are an index, never evidence: check them against the body.

``session``, ``decision``, ``kind``, ``ts``, ``tool_use_id``, ``subject``... are copies of fields of
the canonical body, kept so ``audit query``, ``warden evidence`` and outcome linking can select in
SQL. They are outside the hash chain, so an ``UPDATE events SET session = ...`` would silently move
an event out of a session's evidence while the chain still verifies. ``verify`` therefore
recomputes every column from the hashed body (:func:`column_problem`), and the readers re-check
what SQL selected against the body (:func:`matches`).

``segment`` is not derived from the body: it may only grow by one, right after a signed rotation
checkpoint (:class:`SegmentCheck`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from warden.core.audit import event_summary


def column_problem(seq: int, body: str, stored: Mapping[str, Any]) -> str:
    """Why the stored index columns disagree with the hashed body, or ''."""
    try:
        event = json.loads(body)
    except ValueError:
        return ""  # the chain check reports an unreadable body (it cannot hash-match an edit)
    if not isinstance(event, dict):
        return ""
    expected = event_summary(event)
    for col, value in stored.items():
        want = expected.get(col, "")
        if str(value if value is not None else "") != want:
            return (f"event {seq}: the {col} column says {str(value)[:40]!r} but the hashed event says "
                    f"{want[:40]!r}: the index was edited, so queries and evidence packs would select wrongly")
    return ""


class SegmentCheck:
    """Segments start at 1 (or right after the prune anchor's) and advance only at a rotation checkpoint."""

    def __init__(self, rotations: Sequence[int], anchor_segment: int | None) -> None:
        self._rotations = set(rotations)
        self._segment = anchor_segment  # the segment the anchor closed; None: the log starts at 1
        self._prev_seq = 0

    def problem(self, seq: int, segment: int) -> str:
        prev, prev_seq = self._segment, self._prev_seq
        self._segment, self._prev_seq = segment, seq
        if prev is None:
            return "" if segment == 1 else f"event {seq} is in segment {segment} but the log starts with segment 1"
        if segment == prev:
            return ""
        boundary = prev_seq if prev_seq else seq - 1
        if segment == prev + 1 and boundary in self._rotations:
            return ""
        return (f"event {seq} is in segment {segment} after segment {prev} without a signed rotation checkpoint at "
                f"seq {boundary}: the segment column was edited or the rotation checkpoint deleted")


def matches(event: Mapping[str, Any], wanted: Mapping[str, str]) -> bool:
    """Does the hashed event itself carry the values SQL selected it by (``rules`` as ``,id,`` substring)?"""
    summary = event_summary(event)
    for col, value in wanted.items():
        if col == "rules":
            if f",{value}," not in summary["rules"]:
                return False
        elif summary.get(col, "") != value:
            return False
    return True
