"""`POST /token`: Google's OAuth 2.0 token endpoint for service accounts (RFC 7523 JWT bearer grant).

The client signs a JWT with the service account's private key (RS256): `iss` = client_email,
`scope`, `aud` = the token endpoint's URL, `iat`, `exp` at most an hour later. The emulator checks
it against the account's public key and answers `{"access_token", "expires_in", "token_type"}`, or
Google's `{"error": "invalid_grant", "error_description": …}` texts.
"""
from __future__ import annotations

from typing import Any

import jwt
from flask import Flask, Response, jsonify, request

from emulators.google_forms.state import FormsState

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FORMS_SCOPES = {"https://www.googleapis.com/auth/forms.responses.readonly", "https://www.googleapis.com/auth/forms.body.readonly",
                "https://www.googleapis.com/auth/forms.body", "https://www.googleapis.com/auth/drive",
                "https://www.googleapis.com/auth/drive.readonly"}
TTL = 3599
BAD_TIME = ("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
            "Check your iat and exp values in the JWT claim.")


def _error(error: str, description: str, status: int = 400) -> Response:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    return response


def check_assertion(state: FormsState, assertion: str, audience: str) -> tuple[str, str] | Response:
    """(client_email, scope) of a valid assertion, else the error answer."""
    try:
        claims: dict[str, Any] = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return _error("invalid_grant", "Invalid JWT: could not be decoded.")
    email = str(claims.get("iss") or "")
    account = state.accounts.get(email)
    if account is None:
        return _error("invalid_grant", "Invalid grant: account not found")
    if not account["public_key"]:
        return _error("invalid_grant", "Invalid JWT Signature.")
    try:
        jwt.decode(assertion, account["public_key"], algorithms=["RS256"], audience=audience,
                   options={"verify_exp": False, "verify_iat": False, "require": ["iss", "aud", "iat", "exp"]})
    except jwt.InvalidAudienceError:
        return _error("invalid_grant", f"Invalid JWT: audience must be {audience}")
    except jwt.MissingRequiredClaimError as exc:
        return _error("invalid_grant", f"Invalid JWT: {exc}")
    except jwt.PyJWTError:
        return _error("invalid_grant", "Invalid JWT Signature.")
    now = state.clock.now()
    iat, exp = int(claims["iat"]), int(claims["exp"])
    if exp - iat > 3600 or exp <= now or iat > now + 300:
        return _error("invalid_grant", BAD_TIME)
    scope = str(claims.get("scope") or "")
    if not set(scope.split()) & FORMS_SCOPES:
        return _error("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
    return email, scope


def install_oauth(app: Flask, state: FormsState) -> None:
    @app.post("/token")
    def token() -> Response:
        form = request.form.to_dict()
        if form.get("grant_type") != GRANT:
            return _error("unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type', '')}")
        checked = check_assertion(state, form.get("assertion", ""), request.base_url)
        if isinstance(checked, Response):
            return checked
        email, _ = checked
        return jsonify({"access_token": state.mint(email, TTL), "expires_in": TTL, "token_type": "Bearer"})
