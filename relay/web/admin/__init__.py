"""The admin web UI at /admin: server-rendered pages over the store, behind a password.

Mounted on the same Flask app as the intake so an admin needs no second process. When `admin:` is
absent from config.yaml every /admin URL answers 404: the UI never runs without a password.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

from relay.web.admin.auth import configure_session
from relay.web.admin.views import build_blueprint

if TYPE_CHECKING:
    from relay.runtime import Runtime


def register_admin(app: Flask, runtime: "Runtime") -> None:
    """Attach the admin blueprint; session settings only if the UI is configured."""
    if runtime.config.settings.admin is not None:
        configure_session(app, runtime.config.settings.admin)
    app.register_blueprint(build_blueprint(runtime))


__all__ = ["register_admin"]
