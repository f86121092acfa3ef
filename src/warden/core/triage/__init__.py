"""Triage over the evidence: alerts from patterns across events (detect), synthetic logs (synth)."""
