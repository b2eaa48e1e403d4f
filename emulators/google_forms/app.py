"""Google Forms API emulator: the OAuth token endpoint for service accounts, `forms.get`,
`forms.responses.list` (pagination, `timestamp >`/`>=` filter), `forms.responses.get`, and a fake
Apps Script trigger that pushes submissions to the relay. See docs/emulators/google_forms.md.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request
from pydantic import BaseModel, Field

from emulators.common.clock import Clock, SystemClock
from emulators.common.control import RequestCounter, install_control, is_control_path, json_app, read_seed
from emulators.google_forms.oauth import install_oauth
from emulators.google_forms.state import EmulatorError, FormsState, page_token, read_page_token, rfc3339

DEFAULT_SEED = Path(__file__).parent / "seeds" / "demo.yaml"
_FILTER = re.compile(r"^\s*timestamp\s*(>=|>)\s*(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z)\s*$")
UNAUTHENTICATED = ("Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
                   "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")


class Knobs(BaseModel):
    max_page_size: int = Field(5000, ge=1, description="the API's largest page")
    fail_next: int = Field(0, ge=0, description="answer the next N API requests with 503 UNAVAILABLE")


class Emulator:
    def __init__(self, seed: dict[str, Any], clock: Clock) -> None:
        self.state = FormsState(seed, clock)
        self.knobs = Knobs()
        self.counter = RequestCounter()

    def set_knobs(self, knobs: BaseModel) -> None:
        assert isinstance(knobs, Knobs)
        self.knobs = knobs

    def reset(self) -> None:
        self.state.load()
        self.knobs = Knobs()
        self.counter.reset()


def _google_error(status: int, reason: str, message: str) -> Response:
    response = jsonify({"error": {"code": status, "message": message, "status": reason}})
    response.status_code = status
    return response


def _caller(emu: Emulator) -> str:
    header = request.headers.get("Authorization", "")
    email = emu.state.who(header[7:]) if header.startswith("Bearer ") else None
    if email is None:
        raise EmulatorError(401, "UNAUTHENTICATED", UNAUTHENTICATED)
    return email


def _filtered(responses: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    if not text:
        return responses
    m = _FILTER.match(text)
    if not m:
        raise EmulatorError(400, "INVALID_ARGUMENT", f"Invalid filter: {text!r}. Only 'timestamp > N' and 'timestamp >= N' are supported.")
    op, stamp = m.groups()
    head, _, frac = stamp.rstrip("Z").partition(".")
    bound = f"{head}.{(frac + '000000')[:6]}Z"  # compare as fixed-width strings (all UTC)
    return [r for r in responses if (r["lastSubmittedTime"] > bound if op == ">" else r["lastSubmittedTime"] >= bound)]


def _install_api(app: Flask, emu: Emulator) -> None:
    @app.before_request
    def _faults() -> Response | None:
        if not is_control_path(request.path) and request.path != "/token" and emu.knobs.fail_next > 0:
            emu.knobs.fail_next -= 1
            return _google_error(503, "UNAVAILABLE", "The service is currently unavailable.")
        return None

    @app.errorhandler(EmulatorError)
    def _error(exc: EmulatorError) -> Response:
        return _google_error(exc.status, exc.reason, exc.message)

    @app.get("/v1/forms/<form_id>")
    def get_form(form_id: str) -> Response:
        return jsonify(emu.state.form(form_id, _caller(emu)).as_api())

    @app.get("/v1/forms/<form_id>/responses")
    def list_responses(form_id: str) -> Response:
        form = emu.state.form(form_id, _caller(emu))
        text = request.args.get("filter", "")
        size = min(int(request.args.get("pageSize") or emu.knobs.max_page_size), emu.knobs.max_page_size)
        if size < 1:
            raise EmulatorError(400, "INVALID_ARGUMENT", "page_size must be positive")
        rows = sorted(_filtered(list(form.responses), text), key=lambda r: (r["lastSubmittedTime"], r["responseId"]))
        token = request.args.get("pageToken", "")
        query = f"{form_id}|{text}|{size}"
        offset = read_page_token(token, query) if token else 0
        page: dict[str, Any] = {}
        if rows[offset:offset + size]:
            page["responses"] = rows[offset:offset + size]
        if offset + size < len(rows):
            page["nextPageToken"] = page_token(offset + size, query)
        return jsonify(page)

    @app.get("/v1/forms/<form_id>/responses/<response_id>")
    def get_response(form_id: str, response_id: str) -> Response:
        form = emu.state.form(form_id, _caller(emu))
        for row in form.responses:
            if row["responseId"] == response_id:
                return jsonify(row)
        raise EmulatorError(404, "NOT_FOUND", "Requested entity was not found.")


def _install_control(app: Flask, emu: Emulator) -> None:
    state = emu.state
    install_control(app, counter=emu.counter, clock=state.clock, get_knobs=lambda: emu.knobs, set_knobs=emu.set_knobs,
                    reset=emu.reset, dump=state.dump)

    @app.post("/_emulator/service-accounts")
    def add_account() -> Response:
        body = request.get_json(force=True)
        state.add_account(body["client_email"], body.get("public_key", ""), body.get("forms") or [])
        return jsonify({"added": body["client_email"]})

    @app.post("/_emulator/forms/<form_id>/trigger")
    def install_trigger(form_id: str) -> Response:
        body = request.get_json(force=True)
        state.form(form_id).trigger = {"url": str(body["url"]), "secret": str(body["secret"])}
        return jsonify({"installed": form_id})

    @app.post("/_emulator/forms/<form_id>/submit")
    def submit(form_id: str) -> Response:
        """A respondent submits; with `push` (default true) the installed trigger posts it to the relay."""
        body = request.get_json(force=True)
        response = state.submit(form_id, body.get("answers") or {}, str(body.get("email") or ""))
        out: dict[str, Any] = {"response": response}
        if body.get("push", True):
            out["push"] = state.push(state.form(form_id), response)
        return jsonify(out)

    @app.get("/_emulator/now")
    def now() -> Response:
        return jsonify({"now": rfc3339(state.clock.now())})


def create_app(seed: dict[str, Any] | str | Path | None = None, clock: Clock | None = None) -> Flask:
    emu = Emulator(read_seed(seed, DEFAULT_SEED), clock or SystemClock())
    app = json_app("google_forms", emu)
    install_oauth(app, emu.state)
    _install_api(app, emu)
    _install_control(app, emu)
    return app
