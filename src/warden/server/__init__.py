"""The team server (`warden server`): ASGI app, keys and roles, web interface (app.py, keys.py, web.py)."""
