"""GET /calendar/<token>.ics: the secret address calendar apps subscribe to.

Calendar apps cannot send credentials, so the token in the path is the credential: an unknown token
answers exactly like any unknown URL (404), and the token never appears in logs (it is a secret the
redactor knows). ETag and If-None-Match spare unchanged downloads.
"""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from flask import Blueprint, Response, abort, request

if TYPE_CHECKING:
    from connectors.calendar.connector import CalendarConnector


def build_blueprint(connector: "CalendarConnector") -> Blueprint:
    bp = Blueprint("calendar", __name__)

    @bp.get("/calendar/<token>.ics")
    def feed(token: str) -> Response:
        found = connector.feed_for(token)
        if found is None:
            abort(404)
        name, settings = found
        body = connector.render(settings)
        response = Response(body, mimetype="text/calendar")
        response.headers["Content-Type"] = "text/calendar; charset=utf-8"
        response.headers["Content-Disposition"] = f'inline; filename="{name}.ics"'
        response.headers["Cache-Control"] = "private, max-age=300"
        response.set_etag(hashlib.sha256(body).hexdigest()[:32])
        return response.make_conditional(request)

    return bp
