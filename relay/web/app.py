"""Flask app: POST /hooks/<source>[/<name>], GET /healthz, GET /metrics."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from relay.intake.base import InboundRequest, Rejected, check_storable
from relay.intake.writer import GroupWriter
from relay.redact import REDACTOR
from relay.web.admin import register_admin
from relay.worker import live_workers

if TYPE_CHECKING:
    from relay.runtime import Runtime

log = logging.getLogger("relay.web")


def create_app(runtime: "Runtime") -> Flask:
    app = Flask("relay")
    app.config["MAX_CONTENT_LENGTH"] = runtime.config.settings.web.max_body_bytes
    app.extensions["relay"] = runtime
    writer = GroupWriter(runtime.store)
    register_admin(app, runtime)  # /admin: 404 unless `admin:` is configured
    for blueprint in runtime.blueprints():  # GET endpoints of connectors: calendar feeds, reports
        app.register_blueprint(blueprint)

    @app.post("/hooks/<source>")
    @app.post("/hooks/<source>/<path:sub>")
    def hook(source: str, sub: str = "") -> tuple[Response, int]:
        return _intake(runtime, writer, source, sub)

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        store_ok = runtime.store.ping()
        body: dict[str, Any] = {"store": "ok" if store_ok else "unreachable"}
        if store_ok:
            body["workers_alive"] = live_workers(runtime, within_seconds=max(15.0, runtime.config.settings.worker.lease_seconds))
            body["oldest_pending_seconds"] = runtime.inbox.oldest_pending_age()
            body["queue"] = runtime.inbox.depth()
        healthy = store_ok and body["workers_alive"] > 0
        body["status"] = "ok" if healthy else "degraded"
        return jsonify(body), 200 if healthy else 503

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(runtime.metrics.render(), mimetype="text/plain; version=0.0.4")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        code = exc.code or 500
        return jsonify({"error": exc.name, "reason": exc.description}), code

    return app


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    """Lower-cased header names, straight from the WSGI environ (cheaper than werkzeug's Headers view)."""
    headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return headers


def _intake(runtime: "Runtime", writer: GroupWriter, source_name: str, sub: str) -> tuple[Response, int]:
    metrics = runtime.metrics
    source = runtime.sources.get(source_name)
    if source is None:
        metrics.rejected.labels("unknown", "404").inc()
        return jsonify({"error": "unknown source", "reason": f"no source named {source_name!r} is configured"}), 404
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        metrics.rejected.labels(source_name, "413").inc()
        limit = runtime.config.settings.web.max_body_bytes
        return jsonify({"error": "too large", "reason": f"request body is larger than {limit} bytes"}), 413
    inbound = InboundRequest(source=source_name, subpath=sub, method=request.method,
                             headers=_headers(request.environ), body=body,
                             query=request.args.to_dict(), remote_addr=request.remote_addr or "")
    try:
        events = source.accept(inbound)
        check_storable(events)
    except Rejected as exc:
        metrics.rejected.labels(source_name, str(exc.status)).inc()
        reason = REDACTOR.text(exc.reason)
        log.info("rejected a request to /hooks/%s: %s", source_name, reason, extra={"status": exc.status})
        return jsonify({"error": "rejected", "reason": reason}), exc.status
    try:
        stored, duplicates = writer.add(source_name, events)
    except Exception as exc:
        metrics.rejected.labels(source_name, "503").inc()
        log.error("could not store events from /hooks/%s: %s", source_name, REDACTOR.text(str(exc)))
        return jsonify({"error": "unavailable", "reason": "the event store is unavailable; nothing was stored, send again later"}), 503
    if stored:
        metrics.received.labels(source_name).inc(stored)
    if duplicates:
        metrics.duplicates.labels(source_name).inc(duplicates)
    # Hand-formatted: this is the hot path, and two integers need no JSON encoder.
    return Response(f'{{"accepted":{stored},"duplicates":{duplicates}}}', mimetype="application/json"), 200
