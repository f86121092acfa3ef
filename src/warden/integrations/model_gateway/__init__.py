"""The model gateway (`warden model-gateway`): see app.py and docs/model-gateway.md."""
