"""The blueprints of the server-rendered pages."""
