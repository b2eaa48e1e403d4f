"""The web side: intake endpoints, health and metrics (the admin UI mounts here too)."""
from relay.web.app import create_app

__all__ = ["create_app"]
