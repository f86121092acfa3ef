"""Audit trail core: event model, canonical JSON, hash chain, MAC, checkpoints, verifier.

Pure: no I/O, no clock. Stores (``warden.adapters.store``) seal events with :func:`seal` inside
their write transaction and verify with :class:`ChainVerifier`.
"""

from warden.core.audit.canonical import CanonicalError, canonical_bytes, canonical_json
from warden.core.audit.chain import (
    GENESIS,
    Break,
    ChainVerifier,
    Checkpoint,
    Head,
    Record,
    VerifyReport,
    chain_hash,
    checkpoint_payload,
    event_mac,
    key_id,
    make_checkpoint,
    seal,
    verify_records,
)
from warden.core.audit.events import (
    KINDS,
    SCHEMA_VERSION,
    approval_event,
    control_event,
    decision_event,
    error_event,
    model_event,
    event_summary,
    mcp_event,
    new_id,
    outcome_event,
    rfc3339,
    session_event,
    validate_event,
)
from warden.core.audit.redact import basic_redact

__all__ = [
    "GENESIS",
    "KINDS",
    "SCHEMA_VERSION",
    "Break",
    "CanonicalError",
    "ChainVerifier",
    "Checkpoint",
    "Head",
    "Record",
    "VerifyReport",
    "approval_event",
    "basic_redact",
    "canonical_bytes",
    "canonical_json",
    "chain_hash",
    "checkpoint_payload",
    "control_event",
    "decision_event",
    "error_event",
    "event_mac",
    "event_summary",
    "key_id",
    "make_checkpoint",
    "mcp_event",
    "model_event",
    "new_id",
    "outcome_event",
    "rfc3339",
    "seal",
    "session_event",
    "validate_event",
    "verify_records",
]
