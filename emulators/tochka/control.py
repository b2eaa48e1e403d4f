"""Tochka-specific `/_emulator/` routes: "a payment happens", webhook registration, token minting,
OAuth consent simulation; the ledger views (payments, delivery log, 1C export) come from `payment_control`.

These are the knobs a relay test turns to make the bank do something; none of them exist on the
real Tochka, so they are kept out of the API module.
"""
from __future__ import annotations

from flask import Flask, Response, jsonify, request
from pydantic import ValidationError

from emulators.common.payment_control import control_error, describe, install_ledger_routes, split_control_body
from emulators.tochka import shapes
from emulators.tochka.signing import public_jwk
from emulators.tochka.state import ALL_PERMISSIONS, TochkaState


def install_tochka_control(app: Flask, state: TochkaState) -> None:
    """Register the Tochka control endpoints on `app`."""
    install_ledger_routes(app, state)

    @app.post("/_emulator/payments")
    def payment_happens() -> Response:
        """Book a payment and fire its webhook. Extra keys: webhookType (default by direction), sync."""
        try:
            spec, options = split_control_body(request.get_json(silent=True, force=True), ("webhookType", "sync"))
        except ValidationError as exc:
            return control_error(exc.errors(include_url=False, include_context=False))
        except ValueError as exc:
            return control_error(str(exc))
        kind = options.get("webhookType")
        if kind is not None and kind not in shapes.WEBHOOK_TYPES:
            return control_error(f"webhookType must be one of {list(shapes.WEBHOOK_TYPES)}")
        try:
            payment, deliveries = state.add_payment(spec, webhook_type=kind, sync=options.get("sync"))
        except KeyError as exc:
            return control_error(f"unknown account {exc.args[0]}", 404)
        except ValueError as exc:
            return control_error(str(exc))
        view = describe(payment) | {"accountId": shapes.account_id(payment.owner)}
        return jsonify({"payment": view, "deliveries": [d.id for d in deliveries]})

    @app.post("/_emulator/webhooks")
    def register_hook() -> Response:
        """Register a webhook URL directly (no test webhook), for the first client unless client_id is given."""
        body = request.get_json(silent=True, force=True) or {}
        client_id = str(body.get("client_id") or next(iter(state.clients), "relay"))
        events = body.get("webhooksList") or list(shapes.WEBHOOK_TYPES)
        if not body.get("url") or any(e not in shapes.WEBHOOK_TYPES for e in events):
            return control_error("url and a valid webhooksList are required")
        with state.lock:
            state.clients.setdefault(client_id, "")
            state.webhooks[client_id] = {"webhooksList": list(events), "url": body["url"]}
        return jsonify({"client_id": client_id, **state.webhooks[client_id]})

    @app.post("/_emulator/tokens")
    def mint_token() -> Response:
        """A "JWT key" as the internet bank would issue it: permissions and lifetime of your choice."""
        body = request.get_json(silent=True, force=True) or {}
        client_id = str(body.get("client_id") or next(iter(state.clients), "relay"))
        token = state.mint(client_id, list(body.get("permissions") or ALL_PERMISSIONS), body.get("ttl"))
        return jsonify({"token": token, "client_id": client_id})

    @app.post("/_emulator/oauth/code")
    def oauth_code() -> Response:
        """The user approved a consent: an authorization code for `/connect/token`."""
        body = request.get_json(silent=True, force=True) or {}
        client_id = str(body.get("client_id") or next(iter(state.clients), ""))
        if client_id not in state.clients:
            return control_error(f"unknown client {client_id}", 404)
        return jsonify({"code": state.issue_code(client_id, list(body.get("permissions") or ALL_PERMISSIONS))})

    @app.get("/_emulator/jwk")
    def jwk() -> Response:
        return jsonify(public_jwk(state.key))
