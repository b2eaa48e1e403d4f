"""Bot API methods that read state or configure the bot: getMe, webhooks, getUpdates, files, chats."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import errors as E
from .media import file_json
from .models import ACTIVE, BotAccount, Chat, WebhookConfig
from .params import Params, chat_id_value
from .render import chat_full_json, me_json, member_json

if TYPE_CHECKING:
    from .state import TelegramState

_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def get_me(state: "TelegramState", bot: BotAccount, p: Params) -> dict[str, Any]:
    return me_json(bot)


def set_webhook(state: "TelegramState", bot: BotAccount, p: Params) -> E.Described:
    url = (p.get_str("url") or "").strip()
    if not url:
        return delete_webhook(state, bot, p)
    secret = p.get_str("secret_token") or None
    if secret is not None and len(secret) > 256:
        raise E.bad_request("secret token is too long")
    if secret is not None and not _SECRET.fullmatch(secret):
        raise E.bad_request("secret token contains unallowed characters")
    allowed = p.get_json("allowed_updates", "can't parse allowed updates JSON array")
    parts = urlsplit(url)
    strict = state.settings.strict_webhook_url
    if parts.scheme != "https" and (strict or parts.scheme != "http"):
        raise E.bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if strict and (parts.port or 443) not in (80, 88, 443, 8443):
        raise E.bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
    max_connections = min(100, max(1, p.get_int("max_connections", 40) or 40))
    with state.lock:
        old = bot.webhook
        new_allowed = [str(x) for x in allowed] if isinstance(allowed, list) else bot.allowed_updates
        unchanged = (old is not None and (old.url, old.secret_token, old.max_connections) == (
            url, secret, max_connections) and new_allowed == bot.allowed_updates)
        bot.webhook = WebhookConfig(url=url, secret_token=secret, max_connections=max_connections,
                                    ip_address=p.get_str("ip_address") or None)
        bot.allowed_updates = new_allowed
        _webhook_changed(state, bot, p)
    return E.Described(True, "Webhook is already set" if unchanged else "Webhook was set")


def delete_webhook(state: "TelegramState", bot: BotAccount, p: Params) -> E.Described:
    with state.lock:
        had = bot.webhook is not None
        bot.webhook = None
        _webhook_changed(state, bot, p)
    return E.Described(True, "Webhook was deleted" if had else "Webhook is already deleted")


def _webhook_changed(state: "TelegramState", bot: BotAccount, p: Params) -> None:
    """Both setWebhook and deleteWebhook may drop the queue (`drop_pending_updates`) and then restart delivery."""
    hub = state.hub(bot)
    if p.get_bool("drop_pending_updates"):
        hub.drop_pending()
    hub.webhook_changed()


def get_webhook_info(state: "TelegramState", bot: BotAccount, p: Params) -> dict[str, Any]:
    with state.lock:
        hook = bot.webhook
        info: dict[str, Any] = {"url": hook.url if hook else "", "has_custom_certificate": False,
                                "pending_update_count": len(state.hub(bot).pending)}
        if hook is not None:
            if hook.ip_address:
                info["ip_address"] = hook.ip_address
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
            info["max_connections"] = hook.max_connections
            if bot.allowed_updates:
                info["allowed_updates"] = list(bot.allowed_updates)
        return info


def get_updates(state: "TelegramState", bot: BotAccount, p: Params) -> list[dict[str, Any]]:
    limit = p.get_int("limit", 100) or 100
    limit = 100 if limit <= 0 or limit > 100 else limit
    timeout = min(50, max(0, p.get_int("timeout", 0) or 0))
    allowed = p.get_json("allowed_updates", "can't parse allowed updates JSON array")
    allowed_list = [str(x) for x in allowed] if isinstance(allowed, list) else None
    return state.hub(bot).get_updates(p.get_int("offset", 0) or 0, limit, float(timeout), allowed_list)


def get_file(state: "TelegramState", bot: BotAccount, p: Params) -> dict[str, Any]:
    with state.lock:
        record = state.files.get(p.get_str("file_id") or "")
    if record is None:
        raise E.bad_request(E.INVALID_FILE_ID)
    return file_json(record)


def _known_chat(state: "TelegramState", bot: BotAccount, p: Params) -> Chat:
    chat = state.chat_for(bot, chat_id_value(p))
    if chat is None or (chat.type != "private" and chat.status_of(bot.id) is None):
        raise E.bad_request(E.CHAT_NOT_FOUND)
    return chat


def get_chat(state: "TelegramState", bot: BotAccount, p: Params) -> dict[str, Any]:
    with state.lock:
        return chat_full_json(_known_chat(state, bot, p))


def get_chat_member(state: "TelegramState", bot: BotAccount, p: Params) -> dict[str, Any]:
    with state.lock:
        chat = _known_chat(state, bot, p)
        user_id = p.get_int("user_id")
        if not user_id:
            raise E.bad_request("invalid user_id specified")
        user = state.users.get(user_id)
        if user is None:
            raise E.bad_request("user not found")
        if chat.type == "private":
            status = "member" if user_id in (chat.peer.id if chat.peer else 0, bot.id) else "left"
        else:
            status = chat.status_of(user_id) or "left"
        return member_json(user, status, chat.admin_rights.get(user_id))


def get_chat_administrators(state: "TelegramState", bot: BotAccount, p: Params) -> list[dict[str, Any]]:
    with state.lock:
        chat = _known_chat(state, bot, p)
        if chat.type == "private":
            raise E.bad_request("there are no administrators in the private chat")
        return [member_json(state.users[uid], status, chat.admin_rights.get(uid))
                for uid, status in chat.members.items() if status in ("creator", "administrator")]


def get_chat_member_count(state: "TelegramState", bot: BotAccount, p: Params) -> int:
    with state.lock:
        chat = _known_chat(state, bot, p)
        return 2 if chat.type == "private" else sum(1 for s in chat.members.values() if s in ACTIVE)


def send_chat_action(state: "TelegramState", bot: BotAccount, p: Params) -> bool:
    """'typing…' shows nothing here, but the chat must be writable, as on Telegram."""
    state.writable_chat(bot, chat_id_value(p))
    if not p.get_str("action"):
        raise E.bad_request("action must be non-empty")
    return True


def set_my_commands(state: "TelegramState", bot: BotAccount, p: Params) -> bool:
    commands = p.get_json("commands", "can't parse commands JSON object")
    if not isinstance(commands, list):
        raise E.bad_request("can't parse commands JSON object")
    with state.lock:
        bot.commands = [{"command": str(c.get("command")), "description": str(c.get("description"))}
                        for c in commands if isinstance(c, dict)]
    return True


def get_my_commands(state: "TelegramState", bot: BotAccount, p: Params) -> list[dict[str, str]]:
    with state.lock:
        return list(bot.commands)


def delete_my_commands(state: "TelegramState", bot: BotAccount, p: Params) -> bool:
    with state.lock:
        bot.commands = []
    return True


def log_out(state: "TelegramState", bot: BotAccount, p: Params) -> bool:
    return True


HANDLERS = {
    "getme": get_me,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
    "getupdates": get_updates,
    "getfile": get_file,
    "getchat": get_chat,
    "getchatmember": get_chat_member,
    "getchatadministrators": get_chat_administrators,
    "getchatmembercount": get_chat_member_count,
    "getchatmemberscount": get_chat_member_count,
    "sendchataction": send_chat_action,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "deletemycommands": delete_my_commands,
    "logout": log_out,
    "close": log_out,
}
