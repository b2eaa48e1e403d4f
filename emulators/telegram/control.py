"""Test-facing endpoints under /_emulator/: build the world, act as users, read what chats received.

These are not Telegram's API — they are how a test plays the other side of the conversation and
checks the result. Answers are plain JSON; mistakes in a control request come back as
{"error": "..."} with 400/404/409 so a broken test says what it got wrong.
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable

from flask import Blueprint, Response, current_app, request
from pydantic import ValidationError

from . import actions
from .api import json_response
from .knobs import EmulatorSettings, ScenarioRule
from .limits import LimitSettings
from .models import ACTIVE, Chat, User
from .render import chat_json, me_json, sent_record, user_json
from .world import ControlError, bot_from_spec, checked_status, create_chat, user_from_spec

if TYPE_CHECKING:
    from .state import TelegramState

bp = Blueprint("telegram_control", __name__, url_prefix="/_emulator")


def _state() -> "TelegramState":
    return current_app.extensions["telegram"]


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def control(view: Callable[..., Any]) -> Callable[..., Response]:
    """JSON in, JSON out; ControlError/LookupError/ValidationError become readable 4xx answers."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            result = view(*args, **kwargs)
        except ControlError as exc:
            return json_response({"error": str(exc)}, exc.status)
        except LookupError as exc:
            return json_response({"error": str(exc).strip("'\"")}, 404)
        except (ValidationError, ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)
        return result if isinstance(result, Response) else json_response(result)
    return wrapper


def _chat(chat_id: int) -> Chat:
    state = _state()
    ref = request.args.get("bot") or _body().get("bot")
    return state.find_chat(chat_id, bot_from_spec(state, ref) if ref else None)


def _default_actor(chat: Chat) -> User:
    """Who does an action when the test does not say: the private chat's user, else the first human."""
    state = _state()
    if chat.peer is not None:
        return chat.peer
    humans = (uid for uid, status in chat.members.items()
              if status in ACTIVE and uid in state.users and not state.users[uid].is_bot)
    ranked = sorted(humans,
                    key=lambda uid: chat.members[uid] not in ("creator", "administrator"))
    if not ranked:
        raise ControlError("the chat has no human members; say who acts ('from'/'by')")
    return state.users[ranked[0]]


def _actor(chat: Chat, key: str) -> User:
    spec = _body().get(key)
    return user_from_spec(_state(), spec) if spec is not None else _default_actor(chat)


@bp.get("/state")
@control
def overview() -> dict[str, Any]:
    state = _state()
    with state.lock:
        return {"bots": [me_json(b) | {"webhook": b.webhook.url if b.webhook else None} for b in state.bots.values()],
                "users": [user_json(u) for u in state.users.values() if not u.is_bot],
                "chats": [chat_json(c) | {"bot_id": owner or None} for (owner, _), c in state.chats.items()],
                "clock": state.clock.describe()}


@bp.post("/reset")
@control
def reset() -> dict[str, Any]:
    _state().reset()
    return {"reset": True}


@bp.route("/settings", methods=["GET", "POST"])
@control
def settings() -> dict[str, Any]:
    state = _state()
    if request.method == "POST":
        state.settings = EmulatorSettings.model_validate(state.settings.model_dump() | _body())
    return state.settings.model_dump()


@bp.route("/limits", methods=["GET", "POST"])
@control
def limits() -> dict[str, Any]:
    state = _state()
    if request.method == "POST":
        state.limiter.configure(LimitSettings.model_validate(state.limiter.settings.model_dump() | _body()))
    return state.limiter.settings.model_dump()


@bp.route("/clock", methods=["GET", "POST"])
@control
def clock() -> dict[str, Any]:
    """{"freeze": true | <unix time>} / {"unfreeze": true} / {"advance": seconds}."""
    clk, body = _state().clock, _body()
    if body.get("freeze") is not None and body.get("freeze") is not False:
        clk.freeze(None if body["freeze"] is True else float(body["freeze"]))
    if body.get("unfreeze"):
        clk.unfreeze()
    if body.get("advance"):
        clk.advance(float(body["advance"]))
    return clk.describe()


@bp.get("/stats")
@control
def stats() -> dict[str, Any]:
    state = _state()
    with state.lock:
        by_method: dict[str, int] = {}
        for call in state.calls:
            by_method[call["method"]] = by_method.get(call["method"], 0) + 1
        return {"too_many_requests_total": sum(state.too_many_requests.values()),
                "too_many_requests": {str(k): v for k, v in state.too_many_requests.items()},
                "flood_control_refusals": state.limiter.refused_total(), "calls_by_method": by_method}


@bp.get("/calls")
@control
def calls() -> list[dict[str, Any]]:
    state, method = _state(), (request.args.get("method") or "").lower()
    with state.lock:
        return [c for c in state.calls if not method or c["method"].lower() == method]


@bp.route("/scenarios", methods=["GET", "POST", "DELETE"])
@control
def scenarios() -> list[dict[str, Any]]:
    state = _state()
    with state.lock:
        if request.method == "DELETE":
            state.scenarios.clear()
        elif request.method == "POST":
            rule = ScenarioRule.model_validate(_body())
            if rule.retry_after is not None:
                rule.error_code, rule.parameters = 429, {"retry_after": rule.retry_after}
                rule.description = f"Too Many Requests: retry after {rule.retry_after}"
            if rule.migrate_to_chat_id is not None:
                rule.error_code, rule.parameters = 400, {"migrate_to_chat_id": rule.migrate_to_chat_id}
                rule.description = "Bad Request: group chat was upgraded to a supergroup chat"
            state.scenarios.append(rule.model_dump(exclude={"retry_after", "migrate_to_chat_id"}))
        return list(state.scenarios)


@bp.post("/bots")
@control
def add_bot() -> dict[str, Any]:
    body = _body()
    bot = _state().add_bot(str(body["token"]), str(body.get("first_name") or "Relay"), body.get("username"),
                           **{k: body.get(k) for k in ("can_join_groups", "can_read_all_group_messages")})
    return me_json(bot)


@bp.get("/bots/<ref>/<view>")
@control
def bot_view(ref: str, view: str) -> Any:
    state = _state()
    bot = bot_from_spec(state, ref)
    hub = state.hub(bot)
    with state.lock:
        if view == "updates":
            return list(hub.log)
        if view == "deliveries":
            return list(hub.deliveries)
        if view == "pending":
            return [u.to_json() for u in hub.pending]
    raise ControlError(f"unknown view {view!r} (updates, deliveries, pending)", 404)


@bp.post("/users")
@control
def add_user() -> dict[str, Any]:
    return user_json(user_from_spec(_state(), _body()))


@bp.post("/users/<int:user_id>")
@control
def update_user(user_id: int) -> dict[str, Any]:
    existing = _state().users[user_id]
    return user_json(user_from_spec(_state(), {"first_name": existing.first_name, **_body(), "id": user_id}))


@bp.route("/chats", methods=["GET", "POST"])
@control
def chats() -> Any:
    state = _state()
    if request.method == "POST":
        return _chat_detail(create_chat(state, _body()))
    with state.lock:
        return [_chat_detail(c) for c in state.chats.values()]


def _chat_detail(chat: Chat) -> dict[str, Any]:
    return chat_json(chat) | {"bot_id": chat.owner_bot, "members": {str(k): v for k, v in chat.members.items()},
                              "migrated_to": chat.migrated_to, "migrated_from": chat.migrated_from,
                              "blocked": chat.blocked, "started": chat.started, "deleted": chat.deleted}


@bp.get("/chats/<int(signed=True):chat_id>")
@control
def chat_detail(chat_id: int) -> dict[str, Any]:
    return _chat_detail(_chat(chat_id))


@bp.get("/chats/<int(signed=True):chat_id>/<view>")
@control
def chat_messages(chat_id: int, view: str) -> list[dict[str, Any]]:
    """messages = everything in the chat; sent = only what bots sent (with parse_mode, markup, edits)."""
    if view not in ("messages", "sent"):
        raise ControlError("use /messages or /sent", 404)
    chat = _chat(chat_id)
    with _state().lock:
        return [sent_record(m, chat) for m in chat.messages.values()
                if view == "messages" or m.sent_by_bot is not None]


@bp.post("/chats/<int(signed=True):chat_id>/messages")
@control
def post_message(chat_id: int) -> dict[str, Any]:
    chat = _chat(chat_id)
    return actions.post_message(_state(), chat, _actor(chat, "from"), _body())


@bp.post("/chats/<int(signed=True):chat_id>/messages/<int:message_id>/<action>")
@control
def message_action(chat_id: int, message_id: int, action: str) -> dict[str, Any]:
    state, chat = _state(), _chat(chat_id)
    if action == "edit":
        return actions.edit_message(state, chat, message_id, _body())
    if action == "delete":
        return actions.delete_message(state, chat, message_id, _actor(chat, "from"))
    if action == "press":
        return actions.press_button(state, chat, message_id, _actor(chat, "from"), _body())
    raise ControlError("message actions: edit, delete, press", 404)


@bp.post("/chats/<int(signed=True):chat_id>/<action>")
@control
def chat_action(chat_id: int, action: str) -> dict[str, Any]:
    state, chat, body = _state(), _chat(chat_id), _body()
    if action == "members":
        target = bot_from_spec(state, body["bot"]).user if "bot" in body else user_from_spec(state, body["user"])
        status = checked_status(body.get("status", "member"))
        return actions.set_member(state, chat, target, status, _actor(chat, "by"), body.get("rights"))
    if action in ("block", "unblock"):
        return actions.set_blocked(state, chat, action == "block")
    if action == "migrate":
        return actions.migrate(state, chat, _actor(chat, "by"))
    if action == "deactivate":
        chat.deleted = True
        return _chat_detail(chat)
    raise ControlError("chat actions: members, block, unblock, migrate, deactivate", 404)


@bp.get("/callbacks/<query_id>")
@control
def callback(query_id: str) -> dict[str, Any]:
    state = _state()
    with state.lock:
        q = state.callbacks[query_id]
        return {"id": q.id, "bot_id": q.bot_id, "from": user_json(q.sender), "chat_id": q.chat_id,
                "message_id": q.message_id, "data": q.data, "answered": q.answer is not None, "answer": q.answer}
