"""The web server: a Flask app around pygeoapi's framework-free API functions."""

from geoportal.server.app import create_app

__all__ = ["create_app"]
