"""Building the world from plain dicts: users, bots and chats, as seeds and control calls describe them.

One function per thing, accepting the same shapes in the seed YAML and in POST /_emulator/…,
so a scenario written for one works in the other.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import Chat, User
from .state import SUPERGROUP_BASE

if TYPE_CHECKING:
    from .state import TelegramState

CHAT_TYPES = ("private", "group", "supergroup")  # channels are not emulated
STATUSES = ("creator", "administrator", "member", "left", "kicked")


def checked_status(status: Any) -> str:
    if status not in STATUSES:
        raise ControlError(f"a member status is one of {STATUSES}")
    return str(status)


class ControlError(ValueError):
    """A control request that cannot be done; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def user_from_spec(state: "TelegramState", spec: Any) -> User:
    """An existing user by id, or a new/updated one from {"id", "first_name", …}."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.lstrip("-").isdigit()):
        user = state.users.get(int(spec))
        if user is None:
            raise ControlError(f"no user {spec}", 404)
        return user
    if not isinstance(spec, dict):
        raise ControlError(f"a user is an id or an object, got {spec!r}")
    fields = {k: spec.get(k) for k in ("last_name", "username", "language_code", "deactivated")}
    return state.add_user(spec.get("id"), str(spec.get("first_name") or "User"), **fields)


def bot_from_spec(state: "TelegramState", ref: Any) -> Any:
    try:
        return state.bot_by_ref(ref)
    except LookupError as exc:
        raise ControlError(str(exc), 404) from exc


def create_chat(state: "TelegramState", spec: dict[str, Any]) -> Chat:
    """A chat from {"type", "title", "id"?, "username"?, "members": [...], "bots": {...}, …}.

    Private chats take "user" and "bot"; groups take "members" (ids, user objects, or
    {"user": …, "status": "creator"}) and "bots" (token/username → status, or a list).
    Nothing is announced: the chat simply exists, as if it had been set up before the test.
    """
    kind = spec.get("type", "group")
    if kind not in CHAT_TYPES:
        raise ControlError(f"chat type must be one of {CHAT_TYPES}")
    if kind == "private":
        user = user_from_spec(state, spec.get("user"))
        bot = bot_from_spec(state, spec.get("bot"))
        chat = Chat(id=user.id, type="private", peer=user, owner_bot=bot.id,
                    members={user.id: "member", bot.id: "member"}, started=bool(spec.get("started", True)),
                    blocked=bool(spec.get("blocked", False)))
        return state.put_chat(chat)
    chat_id = spec.get("id")
    if chat_id is None:
        chat_id = state.new_group_id() if kind == "group" else state.new_supergroup_id()
    chat_id = int(chat_id)
    if kind == "group" and not -SUPERGROUP_BASE < chat_id < 0:
        raise ControlError("a basic group id is negative and above -1000000000000 (e.g. -4012345678)")
    if kind != "group" and chat_id > -SUPERGROUP_BASE:
        raise ControlError("a supergroup id is -100… (e.g. -1001234567890)")
    with state.lock:
        if (0, chat_id) in state.chats:
            raise ControlError(f"chat {chat_id} already exists", 409)
        chat = Chat(id=chat_id, type=kind, title=str(spec.get("title") or f"Chat {chat_id}"),
                    username=spec.get("username"), description=spec.get("description"),
                    all_members_are_administrators=bool(spec.get("all_members_are_administrators", False)))
        for member in spec.get("members") or []:
            status = "member"
            if isinstance(member, dict) and "user" in member:
                status = member.get("status", "member")
                member = member["user"]
            chat.members[user_from_spec(state, member).id] = checked_status(status)
        bots = spec.get("bots")
        if bots is None and len(state.bots) == 1:
            bots = [next(iter(state.bots.values())).token]
        items = bots.items() if isinstance(bots, dict) else ((ref, "member") for ref in bots or [])
        for ref, status in items:
            chat.members[bot_from_spec(state, ref).id] = checked_status(status)
        return state.put_chat(chat)
