"""`POST /connect/token`: the OAuth2 token endpoint of enter.tochka.com, reduced to what a relay uses.

Real third-party apps get a client_credentials token (good only for creating consents), send the
user to approve a consent, then trade the code for a 24 h access token and a 30 d refresh token.
The emulator keeps that shape; the user's approval is simulated by `POST /_emulator/oauth/code`.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request

from emulators.tochka.state import TochkaState


def _oauth_error(error: str, status: int, description: str) -> Response:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    return response


def install_oauth(app: Flask, state: TochkaState) -> None:
    """Register `/connect/token` (form-encoded, as OAuth2 requires)."""

    @app.post("/connect/token")
    def token() -> Response:
        form: dict[str, Any] = request.form.to_dict()
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if request.authorization and request.authorization.type == "basic":
            client_id = request.authorization.username or client_id
            secret = request.authorization.password or secret
        if state.clients.get(client_id) != secret or not client_id:
            return _oauth_error("invalid_client", 401, "unknown client or wrong secret")
        grant = form.get("grant_type")
        if grant == "client_credentials":
            # Only enough to create consents: API calls with it answer 403 Forbidden by consent.
            access = state.mint(client_id, [], kind="client-credentials")
            return jsonify({"token_type": "bearer", "access_token": access,
                            "expires_in": int(state.knobs.access_token_ttl)})
        if grant == "authorization_code":
            with state.lock:
                grant_data = state.codes.pop(form.get("code", ""), None)
            if grant_data is None or grant_data["client_id"] != client_id:
                return _oauth_error("invalid_grant", 400, "unknown or used authorization code")
            return jsonify(state.token_pair(client_id, grant_data["permissions"]))
        if grant == "refresh_token":
            with state.lock:
                old = state.refresh_tokens.pop(form.get("refresh_token", ""), None)
            if old is None or old["client_id"] != client_id or old["exp"] <= state.clock.now():
                return _oauth_error("invalid_grant", 400, "unknown, used or expired refresh token")
            return jsonify(state.token_pair(client_id, old["permissions"]))
        return _oauth_error("unsupported_grant_type", 400, f"grant_type {grant!r} is not supported")
