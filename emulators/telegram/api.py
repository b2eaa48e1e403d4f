"""The Bot API transport: /bot<token>/<method> and /file/bot<token>/<file_path>.

Path and token checks follow the official server (HttpConnection.cpp, ClientManager.cpp): a path
without /bot is 404 "Not Found", a malformed token 401 "Unauthorized: invalid token specified",
a well-formed unknown token 401 "Unauthorized", an unknown method 404 "Not Found: method not found".
Every answer is the JSON envelope with HTTP status = error_code, and 429s carry Retry-After.
"""
from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, request

from . import errors as E
from .methods_misc import HANDLERS as MISC
from .methods_send import HANDLERS as SEND
from .models import BotAccount
from .params import Params

if TYPE_CHECKING:
    from .state import TelegramState

HANDLERS = {**SEND, **MISC}
_NUMBER = re.compile(r"-?\d+")
_NOT_FROM_WEBHOOK_REPLY = {"setwebhook", "deletewebhook", "close", "logout"}

bp = Blueprint("telegram_api", __name__)


def _state() -> "TelegramState":
    return current_app.extensions["telegram"]


def json_response(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, headers=headers,
                    content_type="application/json")


def error_response(err: E.ApiError) -> Response:
    headers = {"Retry-After": str(err.retry_after)} if err.code == 429 and err.retry_after else None
    return json_response(err.payload(), err.code, headers)


def check_token(state: "TelegramState", token: str) -> BotAccount:
    if not token or token[0] == "0" or len(token) > 80 or "/" in token or ":" not in token:
        raise E.INVALID_TOKEN
    prefix = token.split(":", 1)[0]
    if not _NUMBER.fullmatch(prefix):
        raise E.UNALLOWED_TOKEN
    if not 0 < int(prefix) < 2**54:
        raise E.INVALID_TOKEN
    with state.lock:
        bot = state.bots.get(token)
    if bot is None:
        raise E.UNAUTHORIZED
    return bot


def _scenario(state: "TelegramState", method: str, params: Params) -> None:
    """Fail this call if a scripted error (POST /_emulator/scenarios) matches it."""
    with state.lock:
        for rule in state.scenarios:
            if rule["method"].lower() not in ("*", method):
                continue
            if rule.get("chat_id") is not None and str(params.values.get("chat_id")) != str(rule["chat_id"]):
                continue
            if rule["times"] > 0:
                rule["times"] -= 1
                if rule["times"] == 0:
                    state.scenarios.remove(rule)
            raise E.ApiError(rule["error_code"], rule["description"], rule.get("parameters"))


def call_method(state: "TelegramState", bot: BotAccount, method: str, params: Params) -> Any:
    """Run one Bot API method for `bot`; raises ApiError, records the call either way."""
    name = method.lower()
    error: E.ApiError | None = None
    try:
        handler = HANDLERS.get(name)
        if handler is None:
            raise E.METHOD_NOT_FOUND
        _scenario(state, name, params)
        return handler(state, bot, params)
    except E.ApiError as exc:
        error = exc
        if exc.code == 429:
            with state.lock:
                state.too_many_requests[bot.id] = state.too_many_requests.get(bot.id, 0) + 1
        raise
    finally:
        state.record_call(bot, method, params.summary(), error)


def run_webhook_reply(state: "TelegramState", bot: BotAccount, body: dict[str, Any]) -> None:
    """A method call returned in a webhook response: run it, result discarded (as Telegram does)."""
    values = dict(body)
    method = str(values.pop("method"))
    if method.lower().startswith("get") or method.lower() in _NOT_FROM_WEBHOOK_REPLY:
        return
    try:
        call_method(state, bot, method, Params.from_dict(values))
    except E.ApiError:
        pass


@bp.route("/bot<path:rest>", methods=["GET", "POST"])
def bot_api(rest: str) -> Response:
    state = _state()
    token, slash, tail = rest.partition("/")
    try:
        if not slash:
            raise E.NOT_FOUND
        if tail.startswith("test/"):
            check_token(state, token)
            raise E.UNAUTHORIZED  # no test-environment bots here
        bot = check_token(state, token)
        params = Params.from_request(request)
        result = call_method(state, bot, tail, params)
    except E.ApiError as err:
        return error_response(err)
    if isinstance(result, E.Described):
        return json_response({"ok": True, "result": result.result, "description": result.description})
    return json_response({"ok": True, "result": result})


@bp.route("/file/bot<path:rest>", methods=["GET"])
def download(rest: str) -> Response:
    state = _state()
    token, _, path = rest.partition("/")
    try:
        check_token(state, token)
    except E.ApiError as err:
        return error_response(err)
    with state.lock:
        record = state.files_by_path.get(path)
    if record is None:
        return error_response(E.NOT_FOUND)
    return Response(record.data, content_type=record.mime_type or "application/octet-stream")
