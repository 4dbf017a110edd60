"""Duban's delivery layer: the Flask app (``web.app.create_app``) and the ``duban`` CLI."""
