"""The admin web UI at /admin: server-rendered pages over the store, behind a password.

Mounted on the same Flask app as the intake so an admin needs no second process. When `admin:` is
absent from config.yaml every /admin URL answers 404: the UI never runs without a password.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from relay.web.admin.auth import configure_session
from relay.web.admin.views import build_blueprint

if TYPE_CHECKING:
    from relay.runtime import Runtime


class StoreId(IntegerConverter):
    """`<int:...>` in admin URLs: ids are 64-bit in the store, so a longer number is no page (404)
    rather than a database overflow (500)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2 ** 63 - 1)
        super().__init__(map, *args, **kwargs)


def register_admin(app: Flask, runtime: "Runtime") -> None:
    """Attach the admin blueprint; session settings only if the UI is configured."""
    if runtime.config.settings.admin is not None:
        configure_session(app, runtime.config.settings.admin)
    app.url_map.converters["int"] = StoreId
    app.register_blueprint(build_blueprint(runtime))


__all__ = ["register_admin"]
