"""GET /reports/<name>.csv|.json for BI tools (a bearer token) and /admin/reports/<name>.csv|.json for a
logged-in admin (the admin session cookie lives under /admin, so the admin's URL is there too).

Query parameters are the report's parameters (`?sold_from=2026-05-01`); `token` is the credential
for tools that cannot send an Authorization header (a spreadsheet's IMPORTDATA).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, abort, jsonify, request

from relay.config.errors import ConfigError
from relay.reports.engine import ReportParamError
from relay.web.admin.auth import login_required

if TYPE_CHECKING:
    from connectors.reports.connector import ReportsConnector

TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json; charset=utf-8"}


def build_blueprint(connector: "ReportsConnector") -> Blueprint:
    bp = Blueprint("reports", __name__)

    def answer(name: str, fmt: str) -> Response | tuple[Response, int]:
        if fmt not in TYPES:
            abort(404)
        params = {k: v for k, v in request.args.items() if k != "token"}
        try:
            result = connector.run(name, params)
        except ConfigError as exc:
            return jsonify({"error": "report definitions have problems", "problems": [str(p) for p in exc.problems]}), 500
        except ReportParamError as exc:
            return jsonify({"error": "bad parameter", "reason": str(exc)}), 400
        if result is None:
            abort(404, description=f"no report named {name!r}")
        body = result.as_csv() if fmt == "csv" else result.as_json()
        response = Response(body, content_type=TYPES[fmt])
        response.headers["Content-Disposition"] = f'inline; filename="{name}.{fmt}"'
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @bp.get("/reports/<name>.<fmt>")
    def with_token(name: str, fmt: str) -> Response | tuple[Response, int]:
        header = request.headers.get("Authorization", "")
        given = header[7:].strip() if header[:7].lower() == "bearer " else request.args.get("token", "")
        if not connector.token_ok(given):
            response = jsonify({"error": "unauthorized", "reason": "send the report token: `Authorization: Bearer <token>` or ?token="})
            response.headers["WWW-Authenticate"] = 'Bearer realm="reports"'
            return response, 401
        return answer(name, fmt)

    @bp.get("/admin/reports/<name>.<fmt>")
    @login_required(connector.admin)
    def for_admin(name: str, fmt: str) -> Response | tuple[Response, int]:
        return answer(name, fmt)

    return bp
