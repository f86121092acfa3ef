"""Data classes: classification, clearance and destinations over actions (classes.py)."""
